"""Detector runtimes on one model: ONNX Runtime against OpenVINO, same export, same tensors.

Both run the ONNX export Vigie caches for ``--backend onnx`` (OpenVINO reads it directly):
- forward: the median time of the network alone on the same letterboxed batch (``--runs``
  repetitions, the backends interleaved so that a change of load hits both);
- agreement: the largest absolute difference of the raw outputs, and the detections of
  ``predict`` on the same images (same count, same classes, boxes within 1 px, scores within
  0.01) at ``--conf``;
- OpenVINO in f32 and in bf16 (its default on CPUs with bf16 units, as here: AMX), each through
  ``OnnxDetector``'s own pre- and post-processing (only ``forward`` swapped).

No weights are downloaded: the model is yolo11n built from ``yolo11n.yaml`` (untrained) unless
``--model`` names a .pt.

    .venv/bin/python benchmarks/bench_backends.py                 # imgsz 640, batch 1 and 8
    .venv/bin/python benchmarks/bench_backends.py --model best.pt --runs 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")


def same_detections(a: Any, b: Any) -> bool:
    """Same boxes (within 1 px), classes and scores (within 0.01), in score order."""
    if len(a) != len(b):
        return False
    ia, ib = np.argsort(-a.confidence, kind="stable"), np.argsort(-b.confidence, kind="stable")
    return bool(
        (a.class_id[ia] == b.class_id[ib]).all()
        and (np.abs(a.xyxy[ia] - b.xyxy[ib]) <= 1.0).all()
        and (np.abs(a.confidence[ia] - b.confidence[ib]) <= 0.01).all()
    )


def openvino_forward(onnx_path: Path, precision: str) -> Any:
    """OpenVINO's forward on the ONNX export, compiled in ``precision`` (f32 or bf16)."""
    import openvino as ov

    core = ov.Core()
    config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision}
    request = core.compile_model(str(onnx_path), "CPU", config).create_infer_request()

    def forward(tensor: np.ndarray) -> np.ndarray:
        request.infer({0: tensor})
        return np.array(request.get_output_tensor(0).data)  # a copy: the buffer is reused

    return forward


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a .pt (default: yolo11n from yolo11n.yaml, untrained)")
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--batches", default="1,8", help="batch sizes, comma-separated")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--conf", type=float, default=0.01, help="threshold of the detections compared")
    args = ap.parse_args()

    from ultralytics import YOLO

    from bench_detect import street
    from vigie.detect import load_detector
    from vigie.detect.postprocess import letterbox, to_tensor

    work = Path(tempfile.mkdtemp(prefix="vigie-bench-backends-"))
    weights = Path(args.model) if args.model else work / "yolo11n.pt"
    if not args.model:
        YOLO("yolo11n.yaml").save(str(weights))
    kw = {"conf": args.conf, "imgsz": args.imgsz}
    ort_det = load_detector(weights, backend="onnx", **kw)
    sides = {"onnxruntime": ort_det.forward}
    detectors = {}
    for precision in ("f32", "bf16"):
        det = load_detector(weights, backend="onnx", **kw)
        det.forward = openvino_forward(ort_det.onnx_path, precision)  # type: ignore[method-assign]
        sides[f"openvino {precision}"] = det.forward
        detectors[f"openvino {precision}"] = det
    images = [street(seed) for seed in range(8)]
    print(f"model {weights.name}, imgsz {args.imgsz}, {args.runs} runs, images 1280x720")
    for batch in (int(b) for b in args.batches.split(",")):
        tensor = to_tensor(
            [letterbox(im, args.imgsz, ort_det.stride).array for im in images[:batch]]
        )
        outs = {k: f(tensor) for k, f in sides.items()}  # warm-up, and the outputs compared
        times: dict[str, list[float]] = {k: [] for k in sides}
        for _ in range(args.runs):
            for k, f in sides.items():
                t0 = time.perf_counter()
                f(tensor)
                times[k].append(time.perf_counter() - t0)
        base = statistics.median(times["onnxruntime"])
        print(f"batch {batch} ({tuple(tensor.shape)}):")
        for k, t in times.items():
            med = statistics.median(t)
            diff = float(np.abs(outs[k] - outs["onnxruntime"]).max())
            print(
                f"  {k:26s} forward median {1000 * med:7.1f} ms ({1000 * med / batch:6.1f} ms/image)"
                f"  {base / med:4.2f}x onnxruntime  max |output - onnxruntime| {diff:.2e}"
            )
    found = ort_det.predict(images)
    print(f"detections at conf {args.conf}: {sum(len(a) for a in found)} boxes from onnxruntime")
    for k, det in detectors.items():
        other = det.predict(images)
        same = sum(same_detections(a, b) for a, b in zip(found, other, strict=True))
        print(f"  {k}: same detections on {same}/{len(images)} images")


if __name__ == "__main__":
    main()
