"""Video analysis speed: the seed's loop against `vigie track`, same video, same model, one run.

Seed (video_analysis_with_tracker.py): cv2 read -> ``model(frame)`` (ultralytics, torch) ->
keep conf >= 0.35 -> SORT -> ``results.plot()`` -> cv2 write (mp4v), one frame at a time.
Vigie: ``vigie.track.track`` with the same weights through ONNX Runtime, batched inference,
decoding and encoding in threads (H.264), default ``vigie`` tracker (its offline pass and the
drawing included; each frame is decoded once).
Floor: only the model's forward (``OnnxDetector.forward``) on the same frames, preprocessed
beforehand, in batches of ``--batch``: the pipeline's frames/s against it is the share of the
machine the pipeline leaves to the model (goal >= 90%). The same ratio in CPU time (the
process's, all threads) is printed too: on a machine shared with other jobs it moves far less.

No weights are downloaded: the model is yolo11n built from ``yolo11n.yaml`` (untrained) unless
``--model`` names a .pt. ``results.plot()`` draws with OpenCV here (ASCII class names), so it
needs no font download; Vigie draws with Pillow's built-in font.

    .venv/bin/python benchmarks/bench_video.py            # 640x360, 120 frames, imgsz 640, 3 runs
    .venv/bin/python benchmarks/bench_video.py --quick    # 60 frames, imgsz 320, 1 run
    .venv/bin/python benchmarks/bench_video.py --no-seed  # the pipeline against the floor only
    .venv/bin/python benchmarks/bench_video.py --overhead --runs 7  # the pipeline's own CPU

``--overhead`` replaces the forward by its output on the first batch (returned at once), so the
CPU time of ``track()`` is the rest of the pipeline alone: decoding, preprocessing, NMS, tracker,
drawing, encoding and the files (the first run, which imports and warms up, is left out).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")


def make_video(path: Path, frames: int, width: int = 640, height: int = 360, fps: int = 25) -> Path:
    """An H.264 street-like video: gradient background and coloured boxes crossing it."""
    import av

    rng = np.random.default_rng(0)
    palette = [(220, 40, 40), (40, 200, 40), (40, 40, 220), (230, 230, 40), (40, 220, 220)]
    movers = [
        (
            rng.uniform(0, width),
            rng.uniform(40, height - 80),
            rng.uniform(-6, 6),
            rng.integers(30, 90, 2),
            palette[k % len(palette)],
        )
        for k in range(8)
    ]
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 200 // width, y * 200 // height, np.full_like(x, 90)], -1).astype(np.uint8)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            img = base.copy()
            for x0, y0, vx, (bw, bh), col in movers:
                cx = int((x0 + vx * i) % width)
                img[int(y0) : int(y0) + bh, cx : cx + bw] = col
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def seed_loop(
    model: Any, video: Path, out: Path, imgsz: int, conf: float
) -> tuple[int, list[np.ndarray]]:
    """The seed script's per-frame loop; returns (frames, per-frame kept boxes x1 y1 x2 y2 cls)."""
    import cv2

    from vigie.track.trackers.sort import SortTracker

    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS)
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    tracker = SortTracker(max_age=20, min_hits=2, iou_threshold=0.3)
    frames, kept = 0, []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        # the seed keeps ultralytics' default conf (0.25) and filters at 0.35; below 0.25 the
        # model must be asked for the weaker boxes too, or both sides would not see the same
        results = model(frame, imgsz=imgsz, conf=min(0.25, conf), verbose=False)[0]
        dets = [
            [*b.xyxy[0].tolist(), float(b.conf)] for b in results.boxes if float(b.conf) >= conf
        ]
        tracker.update(np.array(dets) if dets else np.empty((0, 5)))
        writer.write(results.plot())
        frames += 1
        keep = results.boxes.conf.numpy() >= conf
        boxes = results.boxes.xyxy.numpy()[keep]
        kept.append(np.hstack([boxes, results.boxes.cls.numpy()[keep, None]]))
    cap.release()
    writer.release()
    return frames, kept


def train_tiny(work: Path) -> Path:
    """yolo11n trained 1 epoch (imgsz 160) on the tests' generated traffic boxes."""
    import sys

    from ultralytics import YOLO

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.fixtures.models import make_traffic_dataset

    data = make_traffic_dataset(work / "dataset")
    model = YOLO("yolo11n.yaml")
    model.train(
        data=str(data),
        epochs=1,
        imgsz=160,
        batch=8,
        workers=0,
        device="cpu",
        plots=False,
        val=False,
        amp=False,
        project=str(work / "train"),
        name="tiny",
        exist_ok=True,
        verbose=False,
        seed=0,
    )
    return work / "train" / "tiny" / "weights" / "last.pt"


class Counting:
    """Wraps a detector to count the detections it returns at or above ``conf``."""

    def __init__(self, det: Any, conf: float) -> None:
        self.det, self.conf = det, conf
        self.kept: list[np.ndarray] = []
        self.names = det.names

    def predict(self, images: list[Any]) -> list[Any]:
        out = self.det.predict(images)
        for d in out:
            keep = d.confidence >= self.conf
            self.kept.append(np.hstack([d.xyxy[keep], d.class_id[keep, None]]))
        return out


def agreement(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """Share of boxes of ``a`` that ``b`` has in the same frame (same class, IoU >= 0.8)."""
    from vigie.track.trackers.base import iou_matrix

    total = found = 0
    for x, y in zip(a, b, strict=False):
        total += len(x)
        if len(x) and len(y):
            iou = iou_matrix(x.astype(float), y.astype(float))
            same = x[:, None, 4] == y[None, :, 4]
            found += int(((iou >= 0.8) & same).any(axis=1).sum())
    return found / total if total else 1.0


def forward_floor(detector: Any, video: Path, batch: int) -> tuple[int, float, float]:
    """(frames, seconds, CPU seconds) of the model's forward alone on the video's frames."""
    from vigie.detect.postprocess import letterbox, to_tensor
    from vigie.media import FrameReader

    images = [f.image for f in FrameReader(video)]
    tensors = [
        to_tensor(
            [letterbox(im, detector.imgsz, detector.stride).array for im in images[i : i + batch]]
        )
        for i in range(0, len(images), batch)
    ]
    t0, c0 = time.perf_counter(), time.process_time()
    for t in tensors:
        detector.forward(t)
    return len(images), time.perf_counter() - t0, time.process_time() - c0


def overhead(detector: Any, video: Path, work: Path, settings: Any, args: Any) -> None:
    """CPU ms per frame of ``track()`` around a forward that costs nothing."""
    from vigie.detect.postprocess import letterbox, to_tensor
    from vigie.track import track

    boxed = letterbox(np.zeros((360, 640, 3), np.uint8), detector.imgsz, detector.stride)
    raw = detector.forward(to_tensor([boxed.array] * args.batch))
    detector.forward = lambda tensor: raw[: len(tensor)]
    cpus = []
    for r in range(args.runs + 1):
        c0 = time.process_time()
        res = track(
            video, detector=detector, out=work / f"overhead{r}", conf=args.conf,
            batch=args.batch, force=True, settings=settings,
        )  # fmt: skip
        cpus.append((time.process_time() - c0) / res.results[0].frames_analysed * 1000)
    print(
        f"video 640x360, {args.frames} frames, imgsz {args.imgsz}, batch {args.batch}: the "
        f"pipeline without the forward, CPU per frame: median {statistics.median(cpus[1:]):.2f} "
        f"ms ({', '.join(f'{c:.2f}' for c in cpus[1:])}; first run {cpus[0]:.2f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a .pt (default: yolo11n from yolo11n.yaml, untrained)")
    ap.add_argument(
        "--train",
        action="store_true",
        help="train yolo11n for 1 epoch on generated boxes first, so it detects something",
    )
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--conf", type=float, default=0.35)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8, help="frames per inference call (track's)")
    ap.add_argument("--no-seed", action="store_true", help="skip the seed loop")
    ap.add_argument("--quick", action="store_true", help="60 frames, imgsz 320, 1 run")
    ap.add_argument(
        "--overhead",
        action="store_true",
        help="time the pipeline with the forward replaced by a cached output (its own CPU)",
    )
    args = ap.parse_args()
    if args.quick:
        args.frames, args.imgsz, args.runs = 60, 320, 1

    from ultralytics import YOLO

    from vigie.config import load_settings
    from vigie.detect import load_detector
    from vigie.track import track

    work = Path(tempfile.mkdtemp(prefix="vigie-bench-video-"))
    weights = Path(args.model) if args.model else work / "yolo11n.pt"
    if args.train and not args.model:
        weights = train_tiny(work)
    elif not args.model:
        YOLO("yolo11n.yaml").save(str(weights))
    video = make_video(work / "street.mp4", args.frames)
    model = YOLO(str(weights))
    detector = load_detector(weights, backend="onnx", conf=args.conf, imgsz=args.imgsz)
    model(np.zeros((360, 640, 3), np.uint8), imgsz=args.imgsz, verbose=False)  # warm-up
    detector.predict([np.zeros((360, 640, 3), np.uint8)] * args.batch)  # the batch's shape
    settings = load_settings(workspace=work)  # the runs' catalog lies in the temp folder
    if args.overhead:
        overhead(detector, video, work, settings, args)
        return
    seed_fps, vigie_fps, floor_fps, ratios, cpu_ratios = [], [], [], [], []
    seed_kept: list[np.ndarray] = []
    vigie_kept: list[np.ndarray] = []
    for r in range(args.runs):
        if not args.no_seed:
            t0 = time.perf_counter()
            n, seed_kept = seed_loop(model, video, work / f"seed{r}.mp4", args.imgsz, args.conf)
            seed_fps.append(n / (time.perf_counter() - t0))
        # the floor is timed just before and just after the pipeline (the mean of both), so
        # that a change of load on a shared machine hits both sides of the run's ratio
        n, before, cpu_before = forward_floor(detector, video, args.batch)
        counting = Counting(detector, args.conf)
        t0, c0 = time.perf_counter(), time.process_time()
        res = track(
            video, detector=counting, out=work / f"vigie{r}", conf=args.conf, batch=args.batch,
            force=True, settings=settings,
        )  # fmt: skip
        vigie_fps.append(res.results[0].frames_analysed / (time.perf_counter() - t0))
        cpu = time.process_time() - c0
        _, after, cpu_after = forward_floor(detector, video, args.batch)
        floor_fps.append(2 * n / (before + after))
        ratios.append(vigie_fps[-1] / floor_fps[-1])
        cpu_ratios.append((cpu_before + cpu_after) / 2 / cpu)
        vigie_kept = counting.kept
    v, f = statistics.median(vigie_fps), statistics.median(floor_fps)
    print(
        f"video 640x360, {args.frames} frames, imgsz {args.imgsz}, conf {args.conf}, "
        f"batch {args.batch}, {args.runs} run(s)"
    )
    print(f"model forward only (onnx, batch {args.batch}): {f:6.2f} frames/s (the floor)")
    print(f"vigie track (onnx, batched, threaded decode/encode, H.264): {v:6.2f} frames/s")
    print(
        f"ratio vigie/floor: median {statistics.median(ratios):.1%} of the runs' ratios "
        f"({', '.join(f'{x:.0%}' for x in ratios)}) (target >= 90%)"
    )
    print(
        f"CPU time of the forward / CPU time of the pipeline (all threads; what other jobs on "
        f"the machine do not change): median {statistics.median(cpu_ratios):.1%} "
        f"({', '.join(f'{x:.0%}' for x in cpu_ratios)})"
    )
    if not args.no_seed:
        s = statistics.median(seed_fps)
        print(f"seed loop (cv2 + model(frame) + SORT + plot + cv2 write): {s:6.2f} frames/s")
        print(f"ratio vigie/seed: {v / s:.2f}x (target >= 1.5x)")
        ns, nv = sum(len(k) for k in seed_kept), sum(len(k) for k in vigie_kept)
        print(
            f"detections kept: seed {ns}, vigie {nv}; seed boxes found by vigie "
            f"{agreement(seed_kept, vigie_kept):.1%}, vigie boxes found by the seed "
            f"{agreement(vigie_kept, seed_kept):.1%} (same frame and class, IoU >= 0.8)"
        )
    print(f"outputs in {work}")


if __name__ == "__main__":
    main()
