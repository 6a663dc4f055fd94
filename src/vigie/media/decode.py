"""Decode only the frames asked for, as cheaply as the file allows.

For each target frame we either keep decoding forward from where we are, or seek to the keyframe
before the target and decode from there; we seek when that keyframe lies far enough ahead that the
seek skips more decoding than it costs. A dense selection therefore decodes the video once from
start to end; a sparse one decodes one short run (keyframe -> target) per target.

Seeking honours the stream's start time: the first keyframe is reached by rewinding the demuxer,
and a demuxer that seeks by decode time (MPEG-TS) is asked for the keyframe's decode timestamp
once its presentation timestamp proved to land on the next keyframe.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vigie.media.probe import FrameIndex
from vigie.media.video import rewind, short_error

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

log = logging.getLogger(__name__)

# A seek flushes the (threaded) decoder; skipping fewer frames than this is not worth it.
SEEK_THRESHOLD_FRAMES = 12
SEEK_RETRIES = 3  # a seek that lands after its keyframe: by decode time, then one keyframe back


@dataclass
class DecodeStats:
    decoded: int = 0
    seeks: int = 0
    missing: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    by_dts: bool = False  # the demuxer seeks by decode time (learnt on the first late landing)


def plan_segments(
    index: FrameIndex, targets: Sequence[int], threshold: int = SEEK_THRESHOLD_FRAMES
) -> list[list[int]]:
    """Split sorted targets into runs; each run starts with a seek to its first target's keyframe.

    Within a run the decoder goes forward; a new run starts when the next target's keyframe lies
    more than ``threshold`` frames beyond the previous target (seeking then skips that many).
    """
    segments: list[list[int]] = []
    last = -1
    for t in targets:
        key = index.keyframe_before(t)
        if not segments or key - last > threshold:
            segments.append([t])
        else:
            segments[-1].append(t)
        last = t
    return segments


def estimated_decodes(index: FrameIndex, segments: Sequence[Sequence[int]]) -> int:
    """Frames the plan decodes (keyframe -> last target of each run)."""
    return sum(seg[-1] - index.keyframe_before(seg[0]) + 1 for seg in segments)


def iter_target_frames(
    container: InputContainer,
    stream: VideoStream,
    index: FrameIndex,
    targets: Sequence[int],
    stats: DecodeStats,
    threshold: int = SEEK_THRESHOLD_FRAMES,
    skip_nonref: bool = True,
) -> Iterator[tuple[int, VideoFrame]]:
    """Yield ``(frame index, frame)`` for every target that decodes, in order.

    Targets that never come out of the decoder (corrupt data, truncation) are listed in
    ``stats.missing``; a decoding error ends the current run with a warning and moves on.
    """
    import av

    if index.synthetic:
        yield from _in_decoding_order(container, stream, targets, stats)
        return
    position = {p: i for i, p in enumerate(index.pts)}
    wanted_pts = {index.pts[t] for t in targets} if skip_nonref else None
    cursor = -1  # index of the last frame decoded in the current forward run
    frames: Iterator[VideoFrame] | None = None
    for seg in plan_segments(index, targets, threshold):
        key = index.keyframe_before(seg[0])
        fresh = False  # True until the first frame after a seek
        if frames is None or key > cursor + 1 or seg[0] <= cursor:
            frames = _seek(container, stream, index, key, stats, wanted_pts)
            cursor, fresh = key - 1, True
        wanted = set(seg)
        pending = deque(seg)
        retries = SEEK_RETRIES
        try:
            while pending:
                frame = next(frames, None)
                if frame is None:
                    frames = None
                    break
                stats.decoded += 1
                i = position.get(frame.pts) if frame.pts is not None else None
                if i is None:
                    continue
                if fresh and i > pending[0] and retries and key > 0:
                    retries -= 1
                    key = _earlier(index, key, stats)
                    frames = _seek(container, stream, index, key, stats, wanted_pts)
                    cursor = key - 1
                    continue
                fresh = False
                cursor = i
                if i in wanted:
                    wanted.discard(i)
                    yield i, frame
                while pending and pending[0] <= i:
                    if pending[0] in wanted:
                        stats.missing.append(pending[0])
                        wanted.discard(pending[0])
                    pending.popleft()
        except (av.FFmpegError, OSError, EOFError) as exc:
            stats.warnings.append(f"decoding stopped near frame {cursor + 1}: {short_error(exc)}")
            frames = None
        stats.missing.extend(sorted(wanted))


def _earlier(index: FrameIndex, key: int, stats: DecodeStats) -> int:
    """After a seek landed past keyframe ``key``: seek by decode time, else one keyframe back."""
    if not stats.by_dts and index.key_dts.get(key, index.pts[key]) < index.pts[key]:
        stats.by_dts = True
        return key
    return index.keyframe_before(key - 1)


def _in_decoding_order(
    container: InputContainer, stream: VideoStream, targets: Sequence[int], stats: DecodeStats
) -> Iterator[tuple[int, VideoFrame]]:
    """Number frames as the decoder outputs them (for files whose timestamps are unusable)."""
    import av

    wanted = set(targets)
    last = max(targets, default=-1)
    i = -1
    try:
        rewind(container, stream)
        for frame in _decode(container, stream):
            i += 1
            stats.decoded += 1
            if i in wanted:
                wanted.discard(i)
                yield i, frame
            if i >= last:
                break
    except (av.FFmpegError, OSError, EOFError) as exc:
        stats.warnings.append(f"decoding stopped near frame {i + 1}: {short_error(exc)}")
    stats.missing.extend(sorted(wanted))


def _seek(
    container: InputContainer,
    stream: VideoStream,
    index: FrameIndex,
    key: int,
    stats: DecodeStats,
    wanted_pts: set[int] | None = None,
) -> Iterator[VideoFrame]:
    """Position the demuxer on keyframe ``key`` and return a fresh frame iterator."""
    import av

    stats.seeks += 1
    try:
        if key == 0:
            rewind(container, stream)
        else:
            target = index.key_dts.get(key, index.pts[key]) if stats.by_dts else index.pts[key]
            container.seek(target, stream=stream, backward=True)
    except (av.FFmpegError, OSError) as exc:
        stats.warnings.append(f"seek to frame {key} failed: {short_error(exc)}")
    return _decode(container, stream, wanted_pts)


def _decode(
    container: InputContainer, stream: VideoStream, wanted_pts: set[int] | None = None
) -> Iterator[VideoFrame]:
    """Decode forward from the demuxer's position.

    With ``wanted_pts``, a packet that carries no wanted frame is decoded with
    ``skip_frame=NONREF``: if no other frame refers to it (most B-frames), the decoder drops it
    without decoding it. The setting is copied to the decoding thread with each packet, and
    reset first: an earlier run abandoned mid-way may have left it on.
    """
    import av

    ctx = stream.codec_context
    ctx.skip_frame = "DEFAULT"
    skipping = False
    for packet in container.demux(stream):
        if wanted_pts is not None:
            skip = packet.pts is not None and packet.pts not in wanted_pts
            if skip != skipping:
                ctx.skip_frame = "NONREF" if skip else "DEFAULT"
                skipping = skip
        try:
            yield from packet.decode()
        except av.InvalidDataError as exc:  # one bad packet: skip it, keep going
            log.debug("skipped an undecodable packet: %s", exc)
    if skipping:
        ctx.skip_frame = "DEFAULT"


def decode_all(
    container: InputContainer, stream: VideoStream, on_frame: Callable[[VideoFrame], None]
) -> int:
    """Decode every frame once (the floor any extraction is measured against)."""
    n = 0
    for frame in _decode(container, stream):
        on_frame(frame)
        n += 1
    return n
