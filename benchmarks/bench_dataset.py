"""Train/val split: ultralytics' ``autosplit`` (what a user would otherwise run) against
``vigie.dataset.build_dataset``, on the same pulled folder.

The folder mimics camera work: --scenes distinct street pictures, each captured --dups times with
small changes (sensor noise, JPEG re-encoding: what a camera serves when nothing moved), plus
--videos clips of --frames frames named like ``vigie frames`` writes them. A split *leaks* when two
near-identical pictures, or two frames of one clip, land on different sides: validation then
measures memory, not generalisation.

Prints the median seconds of --repeat runs for each, the ratio, and the leaked groups of each.
Run: ``.venv/bin/python benchmarks/bench_dataset.py [--scenes 80] [--dups 4] [--quick]``
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from vigie.dataset import build_dataset

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")


def _scene(rng: np.random.Generator) -> np.ndarray:
    img = np.empty((360, 640, 3), np.float32)
    img[:] = rng.integers(40, 200, 3)
    for _ in range(12):
        x, y = rng.integers(0, 600), rng.integers(0, 330)
        img[y : y + rng.integers(20, 120), x : x + rng.integers(20, 200)] = rng.integers(0, 255, 3)
    return img


def _save(img: np.ndarray, path: Path, quality: int) -> None:
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    path.write_bytes(buf.getvalue())


GROUPS_FOUND: list[int] = []


def make_pulled(root: Path, scenes: int, dups: int, videos: int, frames: int) -> dict[str, str]:
    """Write images/ + labels/ + classes.txt; return {file name: true group}."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "classes.txt").write_text("Car\nBus\n")
    truth: dict[str, str] = {}
    for s in range(scenes):
        base = _scene(rng)
        for d in range(dups):
            name = f"CWL{s % 7:04d}_2025031210{s:02d}{d:02d}.jpg"
            _save(base + rng.normal(0, 3, base.shape), root / "images" / name, 80 + d * 3)
            truth[name] = f"scene{s}"
    for v in range(videos):
        base = _scene(rng)
        for f in range(frames):
            img = base.copy()
            img[150:200, 10 + f * 25 : 60 + f * 25] = (220, 30, 30)  # a car crossing
            name = f"clip{v:02d}_every_f{f * 10:06d}_{f:.3f}s.jpg"
            _save(img, root / "images" / name, 90)
            truth[name] = f"video{v}"
    for name in truth:
        (root / "labels" / (Path(name).stem + ".txt")).write_text("0 0.5 0.5 0.2 0.2\n")
    return truth


def leaks(sides: dict[str, str], truth: dict[str, str]) -> int:
    """Groups whose images are on both sides."""
    seen: dict[str, set[str]] = {}
    for name, group in truth.items():
        seen.setdefault(group, set()).add(sides[name])
    return sum(1 for s in seen.values() if len(s) > 1)


def run_autosplit(root: Path) -> dict[str, str]:
    from ultralytics.data.split import autosplit

    autosplit(root / "images", weights=(0.8, 0.2, 0.0), annotated_only=True)
    sides: dict[str, str] = {}
    for split in ("train", "val"):
        f = root / f"autosplit_{split}.txt"
        if f.exists():
            for line in f.read_text().split():
                sides[Path(line).name] = split
    return sides


def run_vigie(root: Path, out: Path) -> dict[str, str]:
    res = build_dataset(root, out, val_fraction=0.2, seed=0, dedup_threshold=6, hash_method="phash")
    GROUPS_FOUND.append(res.groups)
    return {
        line.split(",")[0]: line.split(",")[1]
        for line in (out / "split.csv").read_text().splitlines()[1:]
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=80)
    ap.add_argument("--dups", type=int, default=4)
    ap.add_argument("--videos", type=int, default=8)
    ap.add_argument("--frames", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="20 scenes, 3 videos, 1 run")
    args = ap.parse_args()
    if args.quick:
        args.scenes, args.videos, args.repeat = 20, 3, 1
    base = Path(tempfile.mkdtemp(prefix="bench-dataset-"))
    try:
        truth = make_pulled(base / "pulled", args.scenes, args.dups, args.videos, args.frames)
        import ultralytics.data.split  # noqa: F401  (import time is not split time)

        t_auto, t_vigie = [], []
        for r in range(args.repeat):
            start = time.perf_counter()
            auto = run_autosplit(base / "pulled")
            t_auto.append(time.perf_counter() - start)
            start = time.perf_counter()
            vig = run_vigie(base / "pulled", base / f"ds{r}")
            t_vigie.append(time.perf_counter() - start)
        groups = len(set(truth.values()))
        a, v = statistics.median(t_auto), statistics.median(t_vigie)
        print(f"{len(truth)} images in {groups} true groups, {args.repeat} runs")
        print(
            f"  autosplit  median {a:6.2f} s  leaked groups {leaks(auto, truth)}/{groups} "
            f"(val {sum(s == 'val' for s in auto.values())})"
        )
        print(
            f"  vigie      median {v:6.2f} s  leaked groups {leaks(vig, truth)}/{groups} "
            f"(val {sum(s == 'val' for s in vig.values())}, {GROUPS_FOUND[-1]} groups found; "
            "it also hashes, links the files and writes data.yaml)"
        )
        print(f"  ratio autosplit/vigie time: {a / v:.2f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
