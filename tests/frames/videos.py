"""Generators of awkward videos for the frames tests (PyAV + byte patches).

Every generated frame ``i`` carries its number in a stripe of value ``(i * 7) % 256`` on its top
rows (as tests/fixtures/media.py does), so a written picture can be traced to the frame it came
from; ``stripe_value`` reads it back.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from tests.fixtures.media import write_video


def frame_picture(i: int, width: int, height: int) -> np.ndarray:
    img = np.full((height, width, 3), 40, dtype=np.uint8)
    img[:8, :] = (i * 7) % 256  # frame id stripe
    return img


def stripe_value(path: Path) -> int:
    """The frame id stripe of a written frame (top rows), as an integer 0-255."""
    with Image.open(path) as img:
        arr = np.asarray(img.convert("L"))
    return round(float(arr[1:6, 2:-2].mean()))


def shows_frame(path: Path, i: int, tolerance: int = 3) -> bool:
    """Whether a written picture shows frame ``i`` (its stripe, JPEG-tolerant).

    Neighbouring frames differ by 7 in stripe value, so a tolerance of 3 tells them apart.
    """
    value, expected = stripe_value(path), (i * 7) % 256
    return min(abs(value - expected), 256 - abs(value - expected)) <= tolerance


def write_vfr(path: Path, times_ms: list[int], width: int = 160, height: int = 120) -> Path:
    """An H.264 MP4 whose frames lie at the given times (milliseconds): variable frame rate."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.time_base = Fraction(1, 1000)
        for i, t in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(frame_picture(i, width, height), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def write_rotated(
    path: Path, degrees: int, frames: int = 10, width: int = 160, height: int = 96
) -> Path:
    """A landscape-coded MP4 with a display matrix (as phones write); a red block marks the
    top-left corner of the coded picture."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.set_display_rotation(degrees)
        for i in range(frames):
            img = frame_picture(i, width, height)
            img[10:40, 0:40] = (230, 20, 20)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def write_faststart(path: Path, frames: int = 60, fps: int = 10, gop: int = 10) -> Path:
    """An MP4 with its index (moov) before the data, as web players want."""
    import av

    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.codec_context.gop_size = gop
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(frame_picture(i, 160, 120), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def cut(path: Path, fraction: float) -> Path:
    """Keep only the first ``fraction`` of the file's bytes (an interrupted download)."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def write_truncated(path: Path, frames: int = 60) -> Path:
    """A faststart MP4 cut at 60 %: the index lists every frame, the data stops early."""
    return cut(write_faststart(path, frames=frames), 0.6)


def write_corrupt_moov(path: Path) -> Path:
    """An MP4 whose ``moov`` atom (the index) is overwritten with garbage."""
    write_video(path, frames=30)
    data = bytearray(path.read_bytes())
    at = data.find(b"moov")
    assert at > 0
    data[at + 4 : at + 200] = bytes((i * 37 + 11) % 256 for i in range(196))
    path.write_bytes(bytes(data))
    return path


def write_zero_fps(path: Path, frames: int = 30, fps: int = 10) -> Path:
    """An MP4 whose media header says timescale 0, so its header frame rate is ~0 fps.

    The edit list is neutralised too, so FFmpeg keeps every frame (only the timing is wrong:
    one frame every 1024 "seconds").
    """
    write_video(path, frames=frames, fps=fps)
    data = bytearray(path.read_bytes())
    mdhd = data.find(b"mdhd")
    struct.pack_into(">I", data, mdhd + 16, 0)  # version/flags, ctime, mtime, then timescale
    edts = data.find(b"edts")
    if edts > 0:
        data[edts : edts + 4] = b"free"
    path.write_bytes(bytes(data))
    return path


def write_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An M4A-like MP4 holding one AAC audio stream and no video."""
    import av

    rate = 44100
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=rate)
        t = np.arange(int(rate * seconds)) / rate
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, len(tone), 1024):
            chunk = tone[start : start + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
