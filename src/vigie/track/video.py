"""Video input and output: threaded PyAV decoding, Pillow drawing, H.264 MP4 encoding.

Decoding runs in a thread feeding a bounded queue; encoding runs in another thread fed by a
bounded queue, so decoding, inference and encoding overlap and memory stays flat. Frames come out
upright (the display rotation is applied to the pixels), so detection sees what a player shows
and the annotated video plays the same way. Only the ``file`` protocol is allowed (reliability
promise 10).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vigie.errors import MediaError

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm")
_OPEN_OPTIONS = {"protocol_whitelist": "file"}
_END = object()


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int  # upright
    height: int
    fps: float
    rate: Fraction
    frames: int | None
    duration: float | None
    rotation: int


@dataclass(frozen=True)
class DecodedFrame:
    index: int  # 0-based index among decoded frames
    time: float  # seconds (presentation time)
    image: np.ndarray  # HxWx3 uint8 RGB, upright


def probe(path: Path) -> VideoInfo:
    """Open a video and read its geometry, frame rate and rotation.

    Raises:
        MediaError: the file cannot be opened or has no video stream.
    """
    import av

    try:
        with av.open(str(path), options=_OPEN_OPTIONS) as container:
            if not container.streams.video:
                raise MediaError(f"{path.name} has no video stream")
            stream = container.streams.video[0]
            if stream.codec_context is None:  # FFmpeg has no decoder for what the header says
                raise MediaError(f"{path.name}: no decoder for its video stream (corrupt?)")
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(rate) if rate else 0.0
            if not math.isfinite(fps) or fps <= 0 or fps > 1000:
                rate, fps = Fraction(25), 25.0  # 0 fps in the metadata: assume 25
            rotation = 0
            width, height = stream.codec_context.width, stream.codec_context.height
            for frame in container.decode(stream):
                rotation = _quarter_turns(frame) * 90
                width, height = frame.width, frame.height
                break
            if rotation % 180:
                width, height = height, width
            duration = (
                float(stream.duration * stream.time_base)
                if stream.duration and stream.time_base
                else (container.duration / 1e6 if container.duration else None)
            )
            return VideoInfo(
                path,
                width,
                height,
                fps,
                Fraction(rate or 25),
                stream.frames or None,
                duration,
                rotation,
            )
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise MediaError(f"cannot open {path.name}: {reason}") from None


def _quarter_turns(frame: Any) -> int:
    try:
        rot = int(frame.rotation or 0)
    except (AttributeError, TypeError, ValueError):
        return 0
    return round(rot / 90) % 4


class FrameReader:
    """Decode a video in a background thread into a bounded queue of :class:`DecodedFrame`.

    Args:
        path: the video.
        fps: frame rate used where a frame has no timestamp.
        select: called with (index, time); frames for which it returns False are not converted
            (cheap skipping for ``--stride``); returning None stops decoding (past ``--end``).
        maxsize: queue length.
        seek: start decoding near this time (seconds) rather than at the beginning.
        stall_timeout: seconds without a frame after which the video is abandoned (a decoder
            hung on a hostile file), recorded as ``error``.

    After iteration, ``error`` holds the decoding error that stopped the video early, if any.
    """

    def __init__(
        self,
        path: Path,
        fps: float,
        select: Any = None,
        maxsize: int = 16,
        stall_timeout: float = 120.0,
        seek: float | None = None,
    ) -> None:
        self.path, self.fps, self.select = path, fps, select
        self.seek = seek
        self.stall_timeout = stall_timeout
        self.error: str | None = None
        self.decoded = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=maxsize)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vigie-decode", daemon=True)

    def __iter__(self) -> Iterator[DecodedFrame]:
        self._thread.start()
        try:
            while True:
                try:
                    item = self._queue.get(timeout=self.stall_timeout)
                except queue.Empty:  # a decoder hung on a hostile file: give up on it
                    self.error = f"decoder stalled for {self.stall_timeout:.0f} s"
                    break
                if item is _END:
                    break
                yield item
        finally:
            self._stop.set()
            deadline = time.monotonic() + 5.0
            while self._thread.is_alive() and time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):  # unblock a producer on a full queue
                    self._queue.get(timeout=0.05)
            self._thread.join(timeout=0.1)  # a thread stuck inside FFmpeg is left behind

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        import av

        try:
            with av.open(str(self.path), options=_OPEN_OPTIONS) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                base = stream.time_base
                t0 = float(stream.start_time * base) if stream.start_time and base else 0.0
                seeking = self.seek is not None and self.seek > 1.0 and base is not None
                if seeking:  # jump to the keyframe before the range instead of decoding up to it
                    assert self.seek is not None and base is not None
                    container.seek(int((t0 + self.seek - 0.5) / base), stream=stream)
                for count, frame in enumerate(container.decode(stream)):
                    t = float(frame.time) if frame.time is not None else t0 + count / self.fps
                    # after a seek, frame numbers come from the timestamps
                    index = max(0, round((t - t0) * self.fps)) if seeking else count
                    keep = True if self.select is None else self.select(index, t)
                    if keep is None:
                        break
                    if keep:
                        img = frame.to_ndarray(format="rgb24")
                        turns = _quarter_turns(frame)
                        if turns:
                            img = np.ascontiguousarray(np.rot90(img, k=turns))
                        if not self._put(DecodedFrame(index, t, img)):
                            break
                    self.decoded = index + 1
        except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
            self.error = f"{exc.__class__.__name__}: {exc}"
        finally:
            self._put(_END)


class VideoWriter:
    """Encode RGB frames to an H.264 MP4 (yuv420p, +faststart) in a background thread.

    Frames are cropped to even sizes (yuv420p needs them). Write to ``path`` (the caller renames
    the finished file into place).
    """

    def __init__(
        self, path: Path, rate: Fraction, width: int, height: int, maxsize: int = 16
    ) -> None:
        self.path, self.rate = path, rate
        self.width, self.height = width - width % 2, height - height % 2
        self.error: BaseException | None = None
        self._closed = False
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=maxsize)
        self._thread = threading.Thread(target=self._run, name="vigie-encode", daemon=True)
        self._thread.start()

    def write(self, image: np.ndarray) -> None:
        if self.error is not None:
            raise MediaError(f"cannot encode {self.path.name}: {self.error}")
        self._queue.put(image)

    def close(self) -> None:
        """Finish the file (idempotent); raises MediaError if encoding failed."""
        if not self._closed:
            self._closed = True
            self._queue.put(_END)
            self._thread.join()
        if self.error is not None:
            raise MediaError(f"cannot encode {self.path.name}: {self.error}")

    def _run(self) -> None:
        import av

        try:
            with av.open(
                str(self.path), "w", format="mp4", options={"movflags": "+faststart"}
            ) as out:
                stream = out.add_stream(
                    "libx264", rate=self.rate, options={"preset": "veryfast", "crf": "23"}
                )
                stream.width, stream.height = self.width, self.height
                stream.pix_fmt = "yuv420p"
                while True:
                    img = self._queue.get()
                    if img is _END:
                        break
                    img = img[: self.height, : self.width]
                    if img.shape[0] != self.height or img.shape[1] != self.width:
                        pad = np.zeros((self.height, self.width, 3), dtype=np.uint8)
                        pad[: img.shape[0], : img.shape[1]] = img
                        img = pad
                    img = np.ascontiguousarray(img)
                    frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                    for packet in stream.encode(frame):
                        out.mux(packet)
                for packet in stream.encode():
                    out.mux(packet)
        except BaseException as exc:  # reported to the caller by write()/close()
            self.error = exc
            while True:  # drain so the producer never blocks
                try:
                    if self._queue.get(timeout=0.5) is _END:
                        break
                except queue.Empty:
                    break


def color(track_id: int) -> tuple[int, int, int]:
    """A stable, bright colour per track id."""
    h = (track_id * 0.618033988749895) % 1.0
    i = int(h * 6)
    f = h * 6 - i
    v, s = 235, 0.75
    p, q, t = int(v * (1 - s)), int(v * (1 - s * f)), int(v * (1 - s * (1 - f)))
    return [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i % 6]


@functools.cache
def _font() -> Any:
    """Pillow's built-in bitmap font: nothing to download, and much faster than FreeType."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default_imagefont()
    except AttributeError:  # Pillow < 10.1
        return ImageFont.load_default()


@functools.lru_cache(maxsize=4096)
def _label_width(label: str) -> float:
    return float(_font().getlength(label))


def draw_tracks(image: np.ndarray, tracks: np.ndarray, names: dict[int, str]) -> np.ndarray:
    """The image with each track's box, class and id drawn (Pillow's built-in font)."""
    from PIL import Image, ImageDraw

    if len(tracks) == 0:
        return image
    pil = Image.fromarray(image)
    draw = ImageDraw.Draw(pil)
    font = _font()
    for x1, y1, x2, y2, tid, _conf, cls in tracks:
        c = color(int(tid))
        draw.rectangle([x1, y1, x2, y2], outline=c, width=2)
        label = f"{names.get(int(cls), str(int(cls)))} #{int(tid)}"
        tw = _label_width(label) + 4
        tx, ty = max(0.0, min(float(x1), pil.width - tw)), max(0.0, y1 - 12)
        draw.rectangle([tx, ty, tx + tw, ty + 12], fill=c)
        draw.text((tx + 2, ty), label, fill=(0, 0, 0), font=font)
    return np.asarray(pil)


def draw_line(image: np.ndarray, line: tuple[float, float, float, float]) -> np.ndarray:
    from PIL import Image, ImageDraw

    pil = Image.fromarray(image)
    ImageDraw.Draw(pil).line(list(line), fill=(255, 255, 0), width=2)
    return np.asarray(pil)
