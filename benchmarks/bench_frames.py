"""Benchmark of `vigie frames` against the seed's approach and `ffmpeg -vf select`.

One generated 1280x720 H.264 clip (cached under benchmarks/.data/), two selections:

- dense: every 10th frame (``--mode step --value 10``);
- sparse: one frame every 10 s (``--mode time --value 10``).

For each: the seed's approach (OpenCV reads every frame, writes the selected ones with
cv2.imwrite), ``ffmpeg -vf select`` (when ffmpeg is on PATH), and Vigie; plus a decode-only pass
(PyAV, threaded, no conversion) as the floor. Every contender must pick the seed's frame indices:
checked by index (Vigie, ffmpeg's showinfo) and by picture (Vigie's frames against the seed's).

    .venv/bin/python benchmarks/bench_frames.py            # 120 s clip, 3 runs each
    .venv/bin/python benchmarks/bench_frames.py --quick    # 40 s clip, 1 run each
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
OUT = HERE / ".out" / "frames"
FPS = 25
GOP = 75  # 3 s, a realistic camera / phone GOP


def make_clip(seconds: int, path: Path) -> Path:
    """A 1280x720 H.264 clip with moving textured objects (cached)."""
    import av

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    w, h = 1280, 720
    yy, xx = np.mgrid[0:h, 0:w]
    background = np.stack(
        [xx * 255 // w, yy * 255 // h, (xx + yy) * 255 // (w + h)], axis=-1
    ).astype(np.uint8)
    texture = rng.integers(0, 60, size=(h, w, 3), dtype=np.uint8)
    boxes = [
        (int(rng.integers(0, w - 200)), int(rng.integers(0, h - 120)), int(rng.integers(2, 9)))
        for _ in range(6)
    ]
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.gop_size = GOP
        stream.options = {"preset": "veryfast", "crf": "23", "sc_threshold": "0"}
        for i in range(seconds * FPS):
            img = background.copy()
            img += np.roll(texture, i * 3, axis=1) // 2
            for k, (x0, y0, speed) in enumerate(boxes):
                x = (x0 + i * speed) % (w - 200)
                img[y0 : y0 + 120, x : x + 200] = ((k * 40) % 256, 200 - k * 20, (i * 7) % 256)
            img[:8, :] = (i * 7) % 256  # frame id stripe
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.rename(path)
    return path


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def decode_only(video: Path) -> int:
    import av

    with av.open(str(video)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        return sum(1 for _ in c.decode(s))


def seed_opencv(video: Path, wanted: set[int], out: Path) -> list[int]:
    """The seed: read every frame with OpenCV, write the selected ones with cv2.imwrite."""
    import cv2

    fresh(out)
    cap = cv2.VideoCapture(str(video))
    written, i = [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i in wanted:
            cv2.imwrite(str(out / f"frame_{i:06d}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
            written.append(i)
        i += 1
    cap.release()
    return written


def ffmpeg_select(video: Path, every: int, out: Path) -> list[int]:
    """``ffmpeg -vf select='not(mod(n,every))'``; indices read back from showinfo's pts_time."""
    fresh(out)
    cmd = [
        "ffmpeg", "-hide_banner", "-nostats", "-loglevel", "info", "-y", "-i", str(video),
        "-vf", f"select='not(mod(n\\,{every}))',showinfo",
        "-fps_mode", "passthrough", "-q:v", "2", str(out / "%06d.jpg"),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    times = [float(t) for t in re.findall(r"pts_time:([0-9.]+)", proc.stderr)]
    return [round(t * FPS) for t in times]


def vigie_extract(video: Path, mode: str, value: float, out: Path) -> list[int]:
    from vigie.frames import extract_frames

    res = extract_frames(video, mode=mode, value=value, out=fresh(out), quality=95)  # type: ignore[arg-type]
    return [f.frame_index for f in res.frames]


def same_pictures(a: Path, b: Path, sample: int = 5) -> bool:
    """Vigie's frames show the same pictures as the seed's (JPEG noise aside)."""
    from PIL import Image

    ours = sorted(a.glob("*.jpg"))
    theirs = sorted(b.glob("*.jpg"))
    if len(ours) != len(theirs):
        return False
    step = max(1, len(ours) // sample)
    for x, y in list(zip(ours, theirs, strict=True))[::step]:
        pa = np.asarray(Image.open(x).convert("RGB"), dtype=np.int16)
        pb = np.asarray(Image.open(y).convert("RGB"), dtype=np.int16)
        if pa.shape != pb.shape or float(np.abs(pa - pb).mean()) > 4.0:
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 s clip, one run each")
    parser.add_argument("--seconds", type=int, default=None, help="clip length (default 120)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per contender")
    args = parser.parse_args()
    seconds = args.seconds or (40 if args.quick else 120)
    repeat = args.repeat or (1 if args.quick else 3)
    video = make_clip(seconds, DATA / f"clip720p_{seconds}s_gop{GOP}.mp4")
    total = seconds * FPS
    has_ffmpeg = shutil.which("ffmpeg") is not None
    print(f"clip: {video.name}, {total} frames 1280x720 @ {FPS} fps, GOP {GOP}; {repeat} run(s)")

    floor, n = timed(partial(decode_only, video), repeat)
    assert n == total, n
    print(f"decode-only floor (PyAV, threaded): {floor:.2f} s ({total / floor:.0f} frames/s)")

    from vigie.frames.select import seed_selection_indices

    rows = []
    for name, mode, value, every in (("dense", "step", 10, 10), ("sparse", "time", 10, 10 * FPS)):
        expected = seed_selection_indices(total, FPS, mode=mode, value=value)  # type: ignore[arg-type]
        t_seed, got = timed(partial(seed_opencv, video, set(expected), OUT / "seed"), repeat)
        assert got == expected, "the seed's approach wrote other frames"
        t_vigie, got = timed(partial(vigie_extract, video, mode, value, OUT / "vigie"), repeat)
        assert got == expected, f"vigie picked {got[:5]}... not {expected[:5]}..."
        assert same_pictures(OUT / "vigie", OUT / "seed"), "vigie's pictures differ from the seed's"
        t_ff = None
        if has_ffmpeg:
            t_ff, got = timed(partial(ffmpeg_select, video, every, OUT / "ffmpeg"), repeat)
            assert got == expected, f"ffmpeg picked {got[:5]}... not {expected[:5]}..."
        rows.append((name, len(expected), t_seed, t_ff, t_vigie))

    print()
    print(f"{'selection':<8} {'frames':>6} {'seed(cv2)':>10} {'ffmpeg':>8} {'vigie':>8}"
          f" {'ffmpeg/vigie':>12} {'seed/vigie':>10} {'vigie/floor':>11}")  # fmt: skip
    for name, k, t_seed, t_ff, t_vigie in rows:
        ff = f"{t_ff:8.2f}" if t_ff is not None else f"{'n/a':>8}"
        ratio_ff = f"{t_ff / t_vigie:11.2f}x" if t_ff is not None else f"{'n/a':>12}"
        print(
            f"{name:<8} {k:>6} {t_seed:10.2f} {ff} {t_vigie:8.2f} {ratio_ff}"
            f" {t_seed / t_vigie:9.2f}x {t_vigie / floor:10.2f}x"
        )
    print("\nframe choice: identical indices to the seed's selection for every contender")
    return 0


if __name__ == "__main__":
    sys.exit(main())
