"""The annotated video of ``vigie track``, drawn on the frames the analysis decoded.

The analysis pass delivers every frame of the range (the detector sees every ``stride``-th); each
goes into a :class:`FrameStore` until the tracks are final (the ``vigie`` tracker refines them
over the whole video, and ``--min-frames`` drops short tracks of any tracker, so no frame can be
drawn before the video's end). :func:`render` then draws and encodes from memory: each frame is
decoded once. What is kept is the decoder's own yuv420p picture (half the size of the RGB one):
it is drawn on and encoded as it is, with no conversion back from RGB (other pixel formats keep
their RGB frames). A video whose frames exceed :data:`BUFFER_BYTES` keeps its first frames only; the
frames after them are decoded a second time for drawing (from the keyframe before the first one
missing), which keeps memory bounded on long recordings.

Frames between two analysed frames show the tracks of the last analysed one (as in the outputs
of the seed); the file is written as ``name.part``, then renamed into place.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vigie.media import (
    DecodedFrame,
    FrameIndex,
    FrameReader,
    VideoInfo,
    VideoWriter,
    draw_on,
    track_color,
)
from vigie.track.pipeline.options import TrackOptions, selector
from vigie.track.trackers.base import FloatArray

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

# decoded frames a video may hold for drawing (at most two videos hold theirs at once: the one
# being analysed and the one whose outputs are being written)
BUFFER_BYTES = 1 << 30


@dataclass(frozen=True)
class Picture:
    """A frame as the annotated video takes it: its yuv420p planes when the decoder gave them
    (one (H * 3 / 2) x W array: drawn on and encoded as they are), else its RGB array."""

    index: int
    image: NDArray[np.uint8]


def picture(frame: DecodedFrame) -> Picture:
    return Picture(frame.index, frame.yuv if frame.yuv is not None else frame.image)


class FrameStore:
    """The decoded frames of a video's range, in order, up to ``budget`` bytes.

    ``missing`` is the index of the first frame not kept (None when every frame fitted).
    """

    def __init__(self, budget: int | None = None) -> None:
        self.budget = BUFFER_BYTES if budget is None else budget
        self.frames: list[Picture] = []
        self.bytes = 0
        self.missing: int | None = None

    def add(self, frame: DecodedFrame) -> None:
        if self.missing is not None:
            return
        kept = picture(frame)
        size = int(kept.image.nbytes)
        if self.bytes + size > self.budget:
            self.missing = frame.index
            log.debug(
                "frames from %d on will be decoded again for drawing (%d MB held)",
                frame.index,
                self.bytes >> 20,
            )
            return
        self.frames.append(kept)
        self.bytes += size

    def release(self) -> None:
        self.frames, self.bytes = [], 0


def _frames(
    store: FrameStore, info: VideoInfo, frame_index: FrameIndex, opts: TrackOptions
) -> Iterator[Picture]:
    """The stored frames, then (past the budget) the rest of the range decoded again."""
    yield from store.frames
    first = store.missing
    if first is None:
        return
    in_range = selector(opts, 1)

    def select(i: int, t: float) -> bool | None:
        keep = in_range(i, t)
        return keep if keep is None else keep and i >= first

    seek = frame_index.times[first] if first < len(frame_index.times) else opts.start
    reader = FrameReader(info.path, select, seek=seek, index=frame_index, yuv=True)
    yield from map(picture, reader)
    if reader.error:
        log.warning("%s: drawing stopped early (%s)", info.path.name, reader.error)


def render(
    target: Path,
    store: FrameStore,
    info: VideoInfo,
    frame_index: FrameIndex,
    per_frame: list[FloatArray],
    index: list[int],
    names: dict[int, str],
    opts: TrackOptions,
) -> Path:
    """Draw each frame's tracks (and the counting line) and encode the H.264 MP4 ``target``.

    Raises:
        MediaError: encoding failed (no file is left behind).
    """
    part = target.with_name(target.name + ".part")
    by_frame = dict(zip(index, per_frame, strict=True))
    writer = VideoWriter(part, info.rate, *info.display_size)
    shown: FloatArray | None = None
    shown_at = -(10**9)
    try:
        for frame in _frames(store, info, frame_index, opts):
            if frame.index in by_frame:
                shown, shown_at = by_frame[frame.index], frame.index
            img = frame.image  # the store's own copy (RGB or yuv420p): drawn on in place
            visible = shown is not None and frame.index - shown_at < opts.stride
            if opts.line or visible:
                img = draw_tracks(img, shown if visible else None, names, opts.line)
            writer.write(img)
        writer.close()
    except BaseException:
        with contextlib.suppress(Exception):
            writer.close()
        part.unlink(missing_ok=True)  # no partial file left behind (reliability promise 1)
        raise
    finally:
        store.release()
    os.replace(part, target)
    log.debug("%s: annotated video written to %s", info.path.name, target)
    return target


def draw_tracks(
    image: NDArray[np.uint8],
    tracks: FloatArray | None,
    names: dict[int, str],
    line: tuple[float, float, float, float] | None,
) -> NDArray[np.uint8]:
    """Draw each track's box, class and id, and the counting line, on the frame (in place; an
    RGB array or yuv420p planes, see :func:`vigie.media.draw_on`)."""
    rows = tracks if tracks is not None else ()
    return draw_on(
        image,
        [row[:4] for row in rows],
        labels=[f"{names.get(int(r[6]), str(int(r[6])))} #{int(r[4])}" for r in rows],
        colors=[track_color(int(r[4])) for r in rows],
        thickness=2,
        text_color=(0, 0, 0),
        line=line,
    )
