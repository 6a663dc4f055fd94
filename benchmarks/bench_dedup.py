"""Dedup throughput: the seed's ``imagehash.average_hash(Image.open(f))`` loop against Vigie.

Both walk the same camera-like 1280x720 JPEG sequence (a synthetic street scene with moving
vehicles, slow light changes and sensor noise; ~20% exact repeats and ~10% re-encodes of the
previous picture, as a camera serves them) and decide, frame by frame, whether to keep it: a frame
whose aHash equals the last kept frame's (distance <= 0, the seed's rule) is dropped.

- baseline:         full decode + ``imagehash.average_hash``, one file after the other;
- vigie fast hash:  ``vigie.dedup.image_hash`` (libjpeg 1/8-scale decode, thumbnail estimated in
                    floats and rounded as Pillow does), same loop, 1 thread; informative only;
- vigie decisions:  ``vigie.dedup.keep_decisions`` (what ``vigie dedup --consecutive`` runs):
                    1/8-scale decode, identical files decoded once; only frames whose uncertain
                    hash bits could change the decision are refined: full-size luma through an
                    exact copy of Pillow's resize, then (rarely) imagehash's full decode;
                    1 decoding thread, then one per core (the default).

Each round runs every variant once, interleaved (the machine is shared); prints the median
images/s over --repeat rounds, the ratio to the baseline, the median CPU time per image (all
threads; steadier than wall time on a loaded machine) and its ratio, and how many keep/drop
decisions differ from the baseline's.
Run: ``.venv/bin/python benchmarks/bench_dedup.py [--frames 400] [--seed 0] [--repeat 5] [--quick]``
(``--folder DIR`` reuses the JPEGs already in DIR, or writes the generated ones there).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

from vigie.dedup import group_near_duplicates, hamming, image_hash, keep_decisions

W, H = 1280, 720


def _background(rng: np.random.Generator) -> np.ndarray:
    y = np.mgrid[0:H, 0:W][0].astype(np.float32)
    sky = np.clip(200 - y * 0.25, 60, 220)
    img = np.stack([sky * 0.9, sky * 0.95, sky], axis=-1)
    img[H // 2 :, :, :] = 95  # road
    img[H // 2 + 5 : H // 2 + 9, ::40] = 230  # lane marks
    for _ in range(25):  # buildings, signs
        x0, y0 = rng.integers(0, W - 80), rng.integers(0, H // 2 - 60)
        w, h = rng.integers(30, 160), rng.integers(30, 200)
        img[y0 : y0 + h, x0 : x0 + w] = rng.integers(40, 230, 3)
    img += rng.normal(0, 6, img.shape).astype(np.float32)  # texture
    return img


def _scene(bg: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
    img = bg.copy()
    light = 1.0 + 0.15 * np.sin(t / 40.0)  # slow light changes over the day
    img *= light
    for lane, speed in enumerate((7, -5, 11, -9)):
        for k in range(3):
            x = int((t * speed + k * 420 + lane * 133) % (W + 200)) - 200
            y = H // 2 + 20 + lane * 85
            color = ((lane * 70 + k * 50) % 255, (k * 90) % 255, (lane * 30 + 100) % 255)
            img[y : y + 60, max(0, x) : max(0, x + 150)] = color
    img += rng.normal(0, 3, img.shape).astype(np.float32)  # sensor noise, new every snapshot
    return np.clip(img, 0, 255).astype(np.uint8)


def _jpeg(arr: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def make_frames(folder: Path, n: int, seed: int = 0) -> dict[str, int]:
    """Write ``n`` snapshots; ~20% exact repeats, ~10% re-encodes, the rest new pictures."""
    rng = np.random.default_rng(seed)
    bg = _background(rng)
    kinds = {"new": 0, "repeat": 0, "reencode": 0}
    last_arr, last_bytes, t = None, b"", 0
    for i in range(n):
        r = rng.random()
        if last_arr is not None and r < 0.2:
            data, kind = last_bytes, "repeat"
        elif last_arr is not None and r < 0.3:
            data, kind = _jpeg(last_arr, int(rng.integers(70, 95))), "reencode"
        else:
            t += int(rng.integers(1, 4))
            last_arr = _scene(bg, t, rng)
            data, kind = _jpeg(last_arr, 85), "new"
        last_bytes = data
        kinds[kind] += 1
        (folder / f"{i:05d}.jpg").write_bytes(data)
    return kinds


def decide(hashes: list[int], threshold: int = 0) -> list[bool]:
    """Keep (True) or drop each frame against the last kept one, as `vigie capture` does."""
    keep, last = [], None
    for h in hashes:
        k = last is None or hamming(h, last) > threshold
        keep.append(k)
        if k:
            last = h
    return keep


def baseline(files: list[Path]) -> tuple[list[bool], str]:
    hashes = [int(str(imagehash.average_hash(Image.open(f))), 16) for f in files]
    return decide(hashes), ""


def vigie_fast_hash(files: list[Path]) -> tuple[list[bool], str]:
    return decide([image_hash(f) for f in files]), ""


def vigie_decisions(workers: int) -> Callable[[list[Path]], tuple[list[bool], str]]:
    def run(files: list[Path]) -> tuple[list[bool], str]:
        dec = keep_decisions(files, threshold=0, workers=workers)
        note = (
            f"luma first {dec.luma_first}, refined {dec.refined}, full {dec.full_decodes}, "
            f"identical {dec.identical}"
        )
        return [bool(k) for k in dec.keep], note

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--frames", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="120 frames, 1 round")
    ap.add_argument(
        "--folder", type=Path, help="use the JPEGs already in this folder (made here if empty)"
    )
    args = ap.parse_args()
    if args.quick:
        args.frames, args.repeat = 120, 1
    cores = min(8, os.cpu_count() or 1)
    variants: dict[str, Callable[[list[Path]], tuple[list[bool], str]]] = {
        "baseline imagehash, full decode": baseline,
        "vigie image_hash fast, 1 thread": vigie_fast_hash,
        "vigie keep_decisions, 1 worker": vigie_decisions(1),
        f"vigie keep_decisions, {cores} workers": vigie_decisions(cores),
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        made = any(folder.glob("*.jpg"))
        kinds = "reused" if made else make_frames(folder, args.frames, args.seed)
        files = sorted(folder.glob("*.jpg"))
        size = sum(f.stat().st_size for f in files) / len(files) / 1024
        print(
            f"{len(files)} JPEGs {W}x{H} (~{size:.0f} KB) made in "
            f"{time.perf_counter() - t0:.1f} s: {kinds}"
        )
        print(f"cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.1f}, rounds: {args.repeat}")
        times: dict[str, list[float]] = {k: [] for k in variants}
        cpu: dict[str, list[float]] = {k: [] for k in variants}
        results: dict[str, tuple[list[bool], str]] = {}
        for _ in range(args.repeat):
            for name, fn in variants.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                results[name] = fn(files)
                times[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
        n = len(files)
        base = "baseline imagehash, full decode"
        base_t, base_c = statistics.median(times[base]), statistics.median(cpu[base])
        base_d = results[base][0]
        print(f"load after: {os.getloadavg()[0]:.1f}")
        for name in variants:
            t, c = statistics.median(times[name]), statistics.median(cpu[name])
            decisions, note = results[name]
            diff = sum(a != b for a, b in zip(decisions, base_d, strict=True))
            print(
                f"{name:38s} {n / t:6.1f} images/s  x{base_t / t:5.2f}"
                f"  cpu {1000 * c / n:5.2f} ms/image x{base_c / c:5.2f}  kept {sum(decisions):3d}"
                f"  differing {diff:2d} ({100 * diff / n:.2f} %)" + (f"  [{note}]" if note else "")
            )
        hashes = [image_hash(f) for f in files]
        for threshold in (0, 4):
            t = time.perf_counter()
            groups = group_near_duplicates(hashes, threshold=threshold)
            print(
                f"whole-folder grouping (hamming index, threshold {threshold}): "
                f"{len(groups)} groups in {1000 * (time.perf_counter() - t):.1f} ms"
            )


if __name__ == "__main__":
    main()
