"""Read a video's frames in a background thread: upright RGB arrays, numbered by PTS.

Decoding runs in a thread feeding a bounded queue, so decoding overlaps the consumer (inference)
and memory stays flat. Frames come out upright (the display rotation is applied to the pixels),
numbered by their position in presentation order and timed from the first frame (the stream's
start time honoured), exactly as :func:`vigie.media.probe` counts them. A start time seeks to the
keyframe before it instead of decoding up to it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.media.decode import DecodeStats, iter_target_frames
from vigie.media.probe import FrameIndex, build_index
from vigie.media.video import frame_rotation, open_video, video_stream

if TYPE_CHECKING:
    import numpy as np

# called with (frame index, seconds from the first frame): True = convert and deliver the frame,
# False = skip it cheaply (a stride), None = stop decoding (past the end of a range)
Select = Callable[[int, float], "bool | None"]
_END = object()
_EPS = 1e-6


@dataclass(frozen=True)
class DecodedFrame:
    index: int  # position of the frame in presentation order (as the probe counts frames)
    time: float  # seconds from the first frame
    image: np.ndarray  # HxWx3 uint8 RGB, upright
    # with ``FrameReader(yuv=True)``: the decoder's own yuv420p picture, upright, as one
    # (H * 3 / 2) x W array (Y, then U, then V); None when the video is in another pixel format
    # or has an odd size
    yuv: np.ndarray | None = None


class FrameReader:
    """Decode a video in a background thread into a bounded queue of :class:`DecodedFrame`.

    Args:
        path: the video.
        select: see :data:`Select` (every frame is delivered when None).
        maxsize: queue length.
        stall_timeout: seconds without a frame after which the video is abandoned (a decoder
            hung on a hostile file), recorded as ``error``.
        seek: start decoding near this time (seconds from the first frame).
        index: the frame index of an earlier probe of the same file (saves a demuxing pass).
        yuv: also deliver each frame's yuv420p picture (:attr:`DecodedFrame.yuv`), which an
            H.264 encoder takes without converting it (and which is half the RGB's size).

    After iteration, ``error`` holds the error that stopped the video early, if any, and
    ``decoded`` the number of frames up to the last one that came out of the decoder.
    """

    def __init__(
        self,
        path: Path,
        select: Select | None = None,
        *,
        maxsize: int = 16,
        stall_timeout: float = 120.0,
        seek: float | None = None,
        index: FrameIndex | None = None,
        yuv: bool = False,
    ) -> None:
        self.path, self.select, self.seek = Path(path), select, seek
        self.yuv = yuv
        self.stall_timeout = stall_timeout
        self.index = index
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

        from vigie.errors import MediaError

        try:
            container = open_video(self.path)
        except MediaError as exc:
            self.error = exc.message
            self._put(_END)
            return
        try:
            self._decode(container)
        except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
            self.error = f"{exc.__class__.__name__}: {exc}"
        finally:
            container.close()
            self._put(_END)

    def _decode(self, container: Any) -> None:
        import numpy as np
        from av.video.reformatter import VideoReformatter

        stream = video_stream(container)
        if stream is None:
            self.error = "no video stream"
            return
        stream.thread_type = "AUTO"
        index = self.index if self.index is not None else build_index(container, stream)
        first = bisect_left(index.times, self.seek - _EPS) if self.seek else 0
        stats = DecodeStats()
        targets = range(first, len(index))
        frames = iter_target_frames(container, stream, index, targets, stats, skip_nonref=False)
        # one converter for the whole video: ``frame.to_ndarray(format="rgb24")`` sets a new
        # one up for every frame (the same pixels, measured ~0.1-0.3 ms more per 640x360 frame)
        to_rgb = VideoReformatter()
        for i, frame in frames:
            if self._stop.is_set():
                return
            self.decoded = i + 1
            t = index.times[i]
            keep = True if self.select is None else self.select(i, t)
            if keep is None:
                return
            if not keep:
                continue
            img = to_rgb.reformat(frame, format="rgb24").to_ndarray()
            turns = frame_rotation(frame) // 90
            if turns:
                img = np.ascontiguousarray(np.rot90(img, k=turns))
            planes = _i420(frame, turns) if self.yuv else None
            if not self._put(DecodedFrame(i, t, img, planes)):
                return
        if stats.warnings:
            self.error = "; ".join(stats.warnings)


def _i420(frame: Any, turns: int) -> np.ndarray | None:
    """A yuv420p frame as one upright (H * 3 / 2) x W array; None for other pixel formats."""
    import numpy as np

    w, h = frame.width, frame.height
    if frame.format.name != "yuv420p" or w % 2 or h % 2:
        return None
    planes = frame.to_ndarray()  # Y, U, V one after the other, as (h * 3 / 2) rows of w
    if not turns:
        return planes
    flat, q = planes.reshape(-1), w * h // 4
    y, u, v = flat[: w * h], flat[w * h : w * h + q], flat[w * h + q :]
    shapes = ((h, w), (h // 2, w // 2), (h // 2, w // 2))
    turned = [
        np.rot90(p.reshape(shape), k=turns) for p, shape in zip((y, u, v), shapes, strict=True)
    ]
    width = w if turns % 2 == 0 else h
    return np.concatenate([p.reshape(-1) for p in turned]).reshape(-1, width)
