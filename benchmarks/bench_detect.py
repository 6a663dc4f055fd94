"""Detection throughput: the seed's ``image_detection.py`` loop against ``vigie detect`` (ONNX).

Both run the same model over the same folder of 1280x720 JPEG street-like scenes and write the
same outputs (an annotated image and the ``Results.to_json()`` JSON per image):

- seed:   ``model(path)`` per image (ultralytics, torch), ``results[0].save(...)``, ``to_json()``;
- vigie:  ``vigie.detect.detect(..., backend="onnx")``: ONNX Runtime, decode / inference /
  writing overlapped across threads (the ONNX export is cached first and timed apart);
- floors: the raw forward time per image of the torch model and of the ONNX session on an
  already letterboxed tensor (no decode, no pre/post-processing, no writing).

The model is trained here from ``yolo11n.yaml`` on generated data (no download; cached in the
work folder), or given with ``--model``. Detections of both are compared image by image (same
count and classes, boxes within 1 px, confidences within 0.01).

Run: ``.venv/bin/python benchmarks/bench_detect.py [--images 200] [--quick] [--model best.pt]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fixtures.models: the generated traffic dataset

W, H = 1280, 720
COLOURS = [
    (220, 40, 40), (40, 200, 40), (40, 40, 220), (230, 230, 40),
    (220, 40, 220), (40, 220, 220), (250, 140, 20), (130, 60, 20),
]  # fmt: skip


def street(seed: int) -> np.ndarray:
    """A 1280x720 scene: gradient, noise, and 3-6 coloured vehicles of the training colours."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W]
    img = np.stack([x * 120 // W + 40, y * 120 // H + 40, np.full_like(x, 100)], axis=-1)
    img = (img + rng.normal(0, 6, img.shape)).clip(0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(3, 7))):
        w, h = int(rng.integers(120, 420)), int(rng.integers(100, 320))
        x0, y0 = int(rng.integers(0, W - w)), int(rng.integers(0, H - h))
        img[y0 : y0 + h, x0 : x0 + w] = COLOURS[int(rng.integers(0, len(COLOURS)))]
    return img


def make_images(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"53_{1000 + i}_1.jpg"
        if not path.exists():
            Image.fromarray(street(i)).save(path, quality=90)
        paths.append(path)
    return paths


def train_model(work: Path) -> Path:
    """A yolo11n trained briefly on generated 320x320 scenes (cached under ``work``)."""
    weights = work / "model" / "bench" / "weights" / "last.pt"
    if weights.exists():
        return weights
    from tests.fixtures.models import make_traffic_dataset

    from vigie.train import train

    data = make_traffic_dataset(work / "dataset", n_train=32, n_val=8, size=320)
    train(
        data, model="yolo11n.yaml", name="bench", project=work / "model", epochs=20, imgsz=320,
        batch=8, workers=0, device="cpu",
        overrides={"nbs": 8, "optimizer": "SGD", "lr0": 0.04, "warmup_epochs": 0, "mosaic": 0.0,
                   "val": False, "verbose": False},
    )  # fmt: skip
    return weights


def run_seed(weights: Path, paths: list[Path], out: Path, conf: float, imgsz: int) -> float:
    """The seed's loop; returns seconds (model loaded before the clock starts, as in a script)."""
    from ultralytics import YOLO

    model = YOLO(str(weights))
    model(str(paths[0]), conf=conf, imgsz=imgsz, verbose=False)  # warm-up, as vigie's export
    (out / "detections_images").mkdir(parents=True, exist_ok=True)
    (out / "detection_jsons").mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for path in paths:
        results = model(str(path), conf=conf, imgsz=imgsz, verbose=False)
        result = results[0]
        result.save(filename=str(out / "detections_images" / path.name))
        (out / "detection_jsons" / f"{path.stem}.json").write_text(result.to_json())
    return time.perf_counter() - start


def run_vigie(weights: Path, folder: Path, out: Path, conf: float, imgsz: int) -> float:
    from vigie.detect import detect

    result = detect(folder, model=weights, out=out, backend="onnx", conf=conf, imgsz=imgsz)
    assert result.failed == 0
    return result.seconds


def forward_floors(weights: Path, image: np.ndarray, imgsz: int, reps: int) -> tuple[float, float]:
    """Median ms of one forward pass: torch model, ONNX session (letterboxed tensor ready)."""
    import torch
    from ultralytics import YOLO

    from vigie.detect import load_detector
    from vigie.detect.postprocess import letterbox, to_tensor

    tensor = to_tensor([letterbox(image, imgsz).array])
    onnx = load_detector(weights, backend="onnx", imgsz=imgsz)
    net = YOLO(str(weights)).model.eval()  # type: ignore[union-attr]
    t_in = torch.from_numpy(tensor)
    times_t, times_o = [], []
    with torch.inference_mode():
        net(t_in)
        onnx.forward(tensor)
        for _ in range(reps):
            t = time.perf_counter()
            net(t_in)
            times_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            onnx.forward(tensor)
            times_o.append(time.perf_counter() - t)
    return 1000 * statistics.median(times_t), 1000 * statistics.median(times_o)


def compare(seed_out: Path, vigie_out: Path, paths: list[Path]) -> tuple[int, int, int]:
    """(images identical, images differing, total boxes) between the two JSON folders."""
    same = differ = boxes = 0
    for path in paths:
        a = json.loads((seed_out / "detection_jsons" / f"{path.stem}.json").read_text())
        b = json.loads((vigie_out / "detection_jsons" / f"{path.stem}.json").read_text())
        boxes += len(a)
        ok = len(a) == len(b)
        used: set[int] = set()
        for da in a if ok else []:
            match = None
            for j, db in enumerate(b):
                if j in used or db["class"] != da["class"]:
                    continue
                if (
                    max(abs(da["box"][k] - db["box"][k]) for k in da["box"]) <= 1.0
                    and abs(da["confidence"] - db["confidence"]) <= 0.01
                ):
                    match = j
                    break
            if match is None:
                ok = False
                break
            used.add(match)
        same += ok
        differ += not ok
    return same, differ, boxes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="40 images")
    parser.add_argument("--model", type=Path, help="weights .pt (default: train one here)")
    parser.add_argument("--conf", type=float, default=0.05)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "1")
    count = 40 if args.quick else args.images
    work = args.work or Path(tempfile.mkdtemp(prefix="vigie-bench-detect-"))
    weights = args.model or train_model(work)
    paths = make_images(work / "images", count)

    from vigie.detect import load_detector

    t = time.perf_counter()
    load_detector(weights, backend="onnx", imgsz=args.imgsz)  # export once (cached)
    export_s = time.perf_counter() - t

    seed_s = run_seed(weights, paths, work / "out-seed", args.conf, args.imgsz)
    vigie_s = run_vigie(weights, work / "images", work / "out-vigie", args.conf, args.imgsz)
    torch_ms, onnx_ms = forward_floors(weights, street(0), args.imgsz, reps=10)
    same, differ, boxes = compare(work / "out-seed", work / "out-vigie", paths)

    seed_ips, vigie_ips = count / seed_s, count / vigie_s
    print(
        f"images: {count} x {W}x{H} JPEG, imgsz {args.imgsz}, conf {args.conf}, cpus {os.cpu_count()}"
    )
    print(f"model: {weights} (ONNX export once: {export_s:.1f} s, not timed below)")
    print(
        f"seed  (model(path) + save + to_json): {seed_ips:6.2f} images/s  {1000 / seed_ips:7.1f} ms/image"
    )
    print(
        f"vigie (detect, onnx, overlapped):     {vigie_ips:6.2f} images/s  {1000 / vigie_ips:7.1f} ms/image"
    )
    print(f"ratio vigie/seed: {vigie_ips / seed_ips:.2f}x")
    print(f"forward floor: torch {torch_ms:.1f} ms/image, onnxruntime {onnx_ms:.1f} ms/image")
    print(f"detections: {boxes} boxes; images identical {same}/{count}, differing {differ}")


if __name__ == "__main__":
    main()
