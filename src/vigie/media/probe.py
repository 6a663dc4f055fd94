"""Probe a video: header metadata checked against what the file really holds.

Headers lie (variable frame rate, 0 or absurd fps, no frame count, wrong duration). We demux the
video stream once (reading packets, not decoding them) to get the presentation timestamp and the
keyframe flag of every frame, and report each disagreement as a problem instead of trusting it.
Frame times count from the first frame's timestamp (the stream's start time), so a transport
stream that starts at 1.4 s has its first frame at 0.0 like any other file.
"""

from __future__ import annotations

import itertools
import logging
from bisect import bisect_right
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.errors import MediaError
from vigie.media.video import (
    ASSUMED_FPS,
    MAX_SANE_FPS,
    MIN_SANE_FPS,
    VideoInfo,
    as_rate,
    first_frame_rotation,
    metadata_rotation,
    nominal_fps,
    open_video,
    short_error,
    video_stream,
)

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream

log = logging.getLogger(__name__)


@dataclass
class FrameIndex:
    """Presentation order of the frames of one video stream (from demuxing, no decoding)."""

    pts: list[int]  # ascending
    times: list[float]  # seconds from the first frame
    keyframes: list[int]  # frame indices (into pts) of keyframes, ascending
    time_base: Fraction
    origin_pts: int
    warnings: list[str] = field(default_factory=list)
    # True when the timestamps were unusable (shared by several frames): frames are then
    # numbered in the order the decoder gives them, and decoding never seeks.
    synthetic: bool = False
    # decode timestamp of each keyframe's packet (frame index -> dts): demuxers that seek by
    # decode time (MPEG-TS) need it to land on that keyframe rather than on the next one
    key_dts: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pts)

    def keyframe_before(self, index: int) -> int:
        """Index of the last keyframe at or before frame ``index`` (0 when none)."""
        pos = bisect_right(self.keyframes, index) - 1
        return self.keyframes[pos] if pos >= 0 else 0


def build_index(container: InputContainer, stream: VideoStream) -> FrameIndex:
    """Demux every packet of ``stream`` (no decoding) and order the frames by presentation time.

    A read error (truncated or corrupt data) stops the scan: the frames found so far are kept and
    the error becomes a warning.
    """
    import av

    stream_index = stream.index
    pts_list: list[int] = []
    key_pts: dict[int, int] = {}  # pts -> dts of keyframe packets
    warnings: list[str] = []
    missing_pts = 0
    try:
        for packet in container.demux(stream):
            if packet.stream_index != stream_index or packet.size == 0 or packet.is_discard:
                continue
            pts = packet.pts
            if pts is None:
                missing_pts += 1
                pts = packet.dts
            if pts is None:
                continue
            pts_list.append(pts)
            if packet.is_keyframe:
                key_pts[pts] = packet.dts if packet.dts is not None else pts
    except (av.FFmpegError, OSError, EOFError) as exc:
        warnings.append(f"reading stopped after {len(pts_list)} frames: {short_error(exc)}")
    if missing_pts:
        warnings.append(f"{missing_pts} packets had no presentation time; used decode times")
    time_base = stream.time_base or Fraction(1, 90000)
    pts_sorted = sorted(set(pts_list))
    if len(pts_sorted) < len(pts_list):
        warnings.append(
            f"{len(pts_list) - len(pts_sorted)} frames share a timestamp: frames numbered in "
            f"decoding order, timed at the nominal frame rate"
        )
        n = len(pts_list)
        fps = nominal_fps(stream)
        return FrameIndex(
            list(range(n)), [i / fps for i in range(n)], [0], Fraction(1, 1), 0, warnings, True
        )
    origin = pts_sorted[0] if pts_sorted else 0
    times = [float((p - origin) * time_base) for p in pts_sorted]
    if len(times) > 1:
        measured = (len(times) - 1) / times[-1] if times[-1] > 0 else 0.0
        if not MIN_SANE_FPS <= measured <= MAX_SANE_FPS:
            fps = nominal_fps(stream)
            warnings.append(
                f"timestamps give an absurd {measured:.4g} fps; frames timed at {fps:g} fps"
            )
            times = [i / fps for i in range(len(times))]
    position = {p: i for i, p in enumerate(pts_sorted)}
    key_dts = {position[p]: dts for p, dts in key_pts.items() if p in position}
    keyframes = sorted(key_dts)
    if pts_sorted and (not keyframes or keyframes[0] != 0):
        keyframes.insert(0, 0)  # decoding has to start somewhere: the first frame
    return FrameIndex(
        pts_sorted, times, keyframes, Fraction(time_base), origin, warnings, key_dts=key_dts
    )


def describe(
    path: Path, container: InputContainer, stream: VideoStream, index: FrameIndex, rotation: int
) -> VideoInfo:
    """Reconcile the header with the demuxed timestamps into a VideoInfo and its problems."""
    problems = list(index.warnings)
    time_base = stream.time_base or Fraction(1, 90000)
    header_fps = as_rate(stream.average_rate) or as_rate(stream.guessed_rate)
    header_count = stream.frames or None
    header_duration: float | None = None
    if stream.duration:
        header_duration = float(stream.duration * time_base)
    elif container.duration:
        header_duration = container.duration / 1_000_000
    n = len(index)
    span = index.times[-1] if n else 0.0
    measured_fps = (n - 1) / span if n > 1 and span > 0 else None
    vfr = _is_variable(index.times)

    if header_fps is None:
        problems.append("header gives no frame rate (0 fps)")
    elif not MIN_SANE_FPS <= header_fps <= MAX_SANE_FPS:
        problems.append(f"header frame rate {header_fps:g} fps is absurd")
        header_fps = None
    if measured_fps is not None:
        fps = measured_fps
        if header_fps and abs(header_fps - measured_fps) / measured_fps > 0.05 and not vfr:
            problems.append(
                f"header says {header_fps:g} fps but timestamps give {measured_fps:.3f} fps"
            )
    elif header_fps:
        fps = header_fps
    else:
        fps = ASSUMED_FPS
        if n > 1:
            problems.append(f"timestamps do not advance; assumed {ASSUMED_FPS:g} fps")
    if vfr:
        problems.append("variable frame rate: times come from presentation timestamps")
    if header_count is None:
        problems.append(f"header has no frame count; counted {n} frames by demuxing")
    elif header_count != n:
        problems.append(f"header says {header_count} frames but the file holds {n}")
    duration = span + (1.0 / fps if n else 0.0)
    if (
        header_duration is not None
        and n
        and abs(header_duration - duration) > max(1.0, 0.1 * duration)
    ):
        problems.append(f"header duration {header_duration:.2f} s but frames last {duration:.2f} s")
    if n == 0:
        problems.append("no video frame in the file")
    ctx = stream.codec_context
    return VideoInfo(
        path=Path(path),
        fps=fps,
        frame_count=n,
        duration=duration,
        width=int(ctx.width or 0),
        height=int(ctx.height or 0),
        rotation=rotation,
        codec=ctx.name or stream.codec.name,
        has_video=True,
        problems=problems,
        variable_frame_rate=vfr,
        header_fps=header_fps,
        header_frame_count=header_count,
        header_duration=header_duration,
        start_time=0.0 if index.synthetic else float(index.origin_pts * time_base),
    )


def _is_variable(times: list[float]) -> bool:
    if len(times) < 3:
        return False
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    low, high = gaps[len(gaps) // 10], gaps[-1 - len(gaps) // 10]
    return low > 0 and high / low > 1.5


def scan_container(
    container: InputContainer,
    path: Path,
    *,
    require_video: bool = True,
    read_rotation: bool = True,
) -> tuple[VideoInfo, FrameIndex, VideoStream | None]:
    """Demux and describe an open video; see :func:`probe`.

    Returns the info, the frame index and the video stream (None when there is none).
    """
    if not len(container.streams):
        raise MediaError(
            f"{path}: cannot find any stream in the file",
            hint="the file is corrupt (its index may be damaged) or not a video",
        )
    stream = video_stream(container)
    if stream is None:
        if require_video:
            kinds = sorted({s.type for s in container.streams})
            raise MediaError(
                f"{path}: no video stream (holds {', '.join(kinds)})",
                hint="audio-only files have no frames to extract",
            )
        info = VideoInfo(Path(path), 0.0, 0, 0.0, 0, 0, 0, "", False, ["no video stream"])
        return info, FrameIndex([], [], [], Fraction(1, 1), 0), None
    if stream.codec_context is None:  # FFmpeg found no decoder for what the header claims
        raise MediaError(
            f"{path}: no decoder for its video stream",
            hint="the file is corrupt or uses a codec this FFmpeg cannot decode",
        )
    stream.thread_type = "AUTO"
    rotation = metadata_rotation(stream)
    index = build_index(container, stream)
    if rotation is None:
        rotation = first_frame_rotation(container, stream) if read_rotation and len(index) else 0
    return describe(path, container, stream, index, rotation), index, stream


def scan(path: Path, *, require_video: bool = True) -> tuple[VideoInfo, FrameIndex]:
    """Open, demux and describe a video in one pass; see :func:`probe`."""
    container = open_video(path)
    try:
        info, index, _ = scan_container(container, path, require_video=require_video)
        return info, index
    finally:
        container.close()


def probe(path: Path, *, require_video: bool = True) -> VideoInfo:
    """Probe a video: fps, frame count, duration, size, rotation, codec, and header problems.

    Args:
        path: a local video file.
        require_video: raise when the file has no video stream (else return ``has_video=False``).

    Raises:
        MediaError: the file cannot be opened, or has no video stream.
    """
    info, _ = scan(Path(path), require_video=require_video)
    log.debug("probed %s: %s", path, info)
    return info


def info_as_dict(info: VideoInfo) -> dict[str, Any]:
    """A JSON-able view of a VideoInfo."""
    return {
        "path": str(info.path),
        "fps": round(info.fps, 6),
        "frame_count": info.frame_count,
        "duration": round(info.duration, 6),
        "width": info.width,
        "height": info.height,
        "rotation": info.rotation,
        "codec": info.codec,
        "variable_frame_rate": info.variable_frame_rate,
        "start_time": round(info.start_time, 6),
        "problems": list(info.problems),
    }
