"""One generated clip written into every container a phone, a camera or a recorder writes.

Frame ``i`` shows the moving boxes of tests/track/helpers.py (so the colour detector tracks
them) and carries its number in a stripe of value ``(i * 7) % 256`` on its top rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.track.helpers import DEFAULT_MOVERS, frame_image

CONTAINERS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts")
# what each container usually carries: H.264 (phones, cameras, recorders), VP8 (the web),
# MPEG-4 part 2 (older cameras' AVI)
CODECS = {".webm": "libvpx", ".avi": "mpeg4"}


def clip_picture(i: int, width: int = 160, height: int = 120) -> np.ndarray:
    img = frame_image(i, width, height, DEFAULT_MOVERS)
    img[:8, :] = (i * 7) % 256
    return img


def write_clip(
    path: Path, frames: int = 20, fps: int = 10, gop: int = 10, ts_offset: float | None = None
) -> Path:
    """The clip as ``path`` (container from the suffix); ``ts_offset`` shifts every timestamp
    of the output by that many seconds (what camera recorders' transport streams do)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"output_ts_offset": f"{ts_offset}"} if ts_offset is not None else {}
    with av.open(str(path), "w", container_options=options) as out:
        stream = out.add_stream(CODECS.get(path.suffix, "libx264"), rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.codec_context.gop_size = gop
        if path.suffix in CODECS:  # their default bit rates blur the frame-number stripe
            stream.codec_context.bit_rate = 4_000_000
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(clip_picture(i), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def stripe(image: np.ndarray) -> int:
    """The frame number stripe of an RGB picture, as a value 0-255."""
    return round(float(image[1:6, 2:-2].mean()))


def shows(image: np.ndarray, i: int, tolerance: int = 3) -> bool:
    """Whether a decoded picture is frame ``i`` (neighbours differ by 7 in stripe value)."""
    value, expected = stripe(image), (i * 7) % 256
    return min(abs(value - expected), 256 - abs(value - expected)) <= tolerance
