"""Probe a video: header metadata checked against what the file really holds.

Headers lie (variable frame rate, 0 or absurd fps, no frame count, wrong duration). We demux the
video stream once (reading packets, not decoding them) to get the presentation timestamp and the
keyframe flag of every frame, and report each disagreement as a problem instead of trusting it.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.errors import MediaError, require

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream

log = logging.getLogger(__name__)

# FFmpeg may only open plain files: no http, no concat of other files (reliability promise 10).
OPEN_OPTIONS = {"protocol_whitelist": "file"}
MAX_SANE_FPS = 1000.0
MIN_SANE_FPS = 0.1
ASSUMED_FPS = 25.0


@dataclass(frozen=True)
class VideoInfo:
    """What a video really holds, and what its header got wrong.

    ``fps``, ``frame_count`` and ``duration`` come from the frames' presentation timestamps when
    the header is missing or wrong; ``problems`` says, in words, what the header claimed.
    """

    path: Path
    fps: float
    frame_count: int
    duration: float
    width: int
    height: int
    rotation: int  # degrees counterclockwise to display upright (display matrix)
    codec: str
    has_video: bool = True
    problems: list[str] = field(default_factory=list)
    variable_frame_rate: bool = False
    header_fps: float | None = None
    header_frame_count: int | None = None
    header_duration: float | None = None

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) of the upright picture."""
        if self.rotation % 180 != 0:
            return self.height, self.width
        return self.width, self.height


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

    def __len__(self) -> int:
        return len(self.pts)

    def keyframe_before(self, index: int) -> int:
        """Index of the last keyframe at or before frame ``index`` (0 when none)."""
        from bisect import bisect_right

        pos = bisect_right(self.keyframes, index) - 1
        return self.keyframes[pos] if pos >= 0 else 0


def open_video(path: Path) -> InputContainer:
    """Open a local video with FFmpeg restricted to the ``file`` protocol.

    Raises:
        MediaError: missing, empty or undecodable file.
    """
    require("av", "video")
    import av

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"{path}: no such video file", hint="check the path")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: empty file (0 bytes)", hint="download it again")
    # An absolute path can never be read as a URL ("http:..."), and the whitelist refuses nested
    # opens of anything but local files (HLS playlists, concat lists).
    name = os.path.abspath(path)
    try:
        return av.open(name, "r", options=dict(OPEN_OPTIONS), timeout=30)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(
            f"{path}: cannot open the video ({_short(exc)})",
            hint="the file is corrupt, truncated before its index, or not a video",
        ) from None


def video_stream(container: InputContainer, path: Path) -> VideoStream | None:
    """The first real video stream (cover pictures excluded), or None."""
    for stream in container.streams.video:
        if stream.disposition & stream.disposition.attached_pic:
            continue
        return stream
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0][:200]


def _rate(value: Fraction | None) -> float | None:
    if value is None or value.denominator == 0:
        return None
    rate = float(value)
    return rate if rate > 0 else None


def _sane(fps: float | None) -> float | None:
    return fps if fps is not None and MIN_SANE_FPS <= fps <= MAX_SANE_FPS else None


def _nominal_fps(stream: VideoStream) -> float:
    """The frame rate the header or the bitstream (H.264 VUI timing) claims, if sane; else 25."""
    ctx_rate: Fraction | None = None
    try:
        ctx_rate = stream.codec_context.framerate
    except (AttributeError, ValueError):
        ctx_rate = None
    return (
        _sane(_rate(stream.average_rate))
        or _sane(_rate(ctx_rate))
        or _sane(_rate(stream.guessed_rate))
        or ASSUMED_FPS
    )


def build_index(container: InputContainer, stream: VideoStream) -> FrameIndex:
    """Demux every packet of ``stream`` (no decoding) and order the frames by presentation time.

    A read error (truncated or corrupt data) stops the scan: the frames found so far are kept and
    the error becomes a warning.
    """
    import av

    stream_index = stream.index
    pts_list: list[int] = []
    key_pts: list[int] = []
    warnings: list[str] = []
    seen_dts: list[int] = []
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
            if packet.dts is not None:
                seen_dts.append(packet.dts)
            if packet.is_keyframe:
                key_pts.append(pts)
    except (av.FFmpegError, OSError, EOFError) as exc:
        warnings.append(f"reading stopped after {len(pts_list)} frames: {_short(exc)}")
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
        fps = _nominal_fps(stream)
        return FrameIndex(
            list(range(n)), [i / fps for i in range(n)], [0], Fraction(1, 1), 0, warnings, True
        )
    origin = pts_sorted[0] if pts_sorted else 0
    times = [float((p - origin) * time_base) for p in pts_sorted]
    if len(times) > 1:
        measured = (len(times) - 1) / times[-1] if times[-1] > 0 else 0.0
        if not MIN_SANE_FPS <= measured <= MAX_SANE_FPS:
            fps = _nominal_fps(stream)
            warnings.append(
                f"timestamps give an absurd {measured:.4g} fps; frames timed at {fps:g} fps"
            )
            times = [i / fps for i in range(len(times))]
    position = {p: i for i, p in enumerate(pts_sorted)}
    keyframes = sorted({position[p] for p in key_pts if p in position})
    if pts_sorted and (not keyframes or keyframes[0] != 0):
        keyframes.insert(0, 0)  # decoding has to start somewhere: the first frame
    return FrameIndex(pts_sorted, times, keyframes, Fraction(time_base), origin, warnings)


def _rotation_from_metadata(stream: VideoStream) -> int | None:
    tag = stream.metadata.get("rotate")
    if tag is None:
        return None
    try:
        # The legacy tag is clockwise; the display matrix angle is counterclockwise.
        return normalise_rotation(-int(float(tag)))
    except ValueError:
        return None


def normalise_rotation(angle: float) -> int:
    """The nearest multiple of 90 degrees, in [0, 360)."""
    return round(angle / 90.0) * 90 % 360


def first_frame_rotation(container: InputContainer, stream: VideoStream) -> int:
    """Rotation from the display matrix of the first decodable frame (0 when none)."""
    import av

    try:
        container.seek(0, stream=stream) if stream.start_time is None else container.seek(
            stream.start_time, stream=stream
        )
        for frame in container.decode(stream):
            return normalise_rotation(frame.rotation)
    except (av.FFmpegError, OSError, EOFError, StopIteration):
        return 0
    return 0


def describe(
    path: Path, container: InputContainer, stream: VideoStream, index: FrameIndex, rotation: int
) -> VideoInfo:
    """Reconcile the header with the demuxed timestamps into a VideoInfo and its problems."""
    problems = list(index.warnings)
    time_base = stream.time_base or Fraction(1, 90000)
    header_fps = _rate(stream.average_rate) or _rate(stream.guessed_rate)
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
    stream = video_stream(container, path)
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
    rotation = _rotation_from_metadata(stream)
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
    info, _ = scan(path, require_video=require_video)
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
        "problems": list(info.problems),
    }
