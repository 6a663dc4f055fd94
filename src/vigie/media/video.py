"""Opening a video safely, and what Vigie knows about one: :class:`VideoInfo`.

FFmpeg (through PyAV) may only open plain local files (reliability promise 10): no http, no
playlists or concat lists pointing elsewhere. Rotation is the display-matrix angle, in degrees
counterclockwise, as PyAV reports it on decoded frames.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.errors import MediaError

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream

# FFmpeg may only open plain files: no http, no concat of other files (reliability promise 10).
OPEN_OPTIONS = {"protocol_whitelist": "file"}
MAX_SANE_FPS = 1000.0
MIN_SANE_FPS = 0.1
ASSUMED_FPS = 25.0


@dataclass(frozen=True)
class VideoInfo:
    """What a video really holds, and what its header got wrong.

    ``fps``, ``frame_count`` and ``duration`` come from the frames' presentation timestamps
    (PTS), counted by demuxing the file; ``problems`` says, in words, where the header disagreed.
    ``width``/``height`` are the coded picture's; :attr:`display_size` is the upright one.
    ``start_time`` is the presentation time of the first frame (seconds; camera recorders'
    transport streams start at 1.4 s or later): frame times elsewhere count from it.
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
    start_time: float = 0.0

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) of the upright picture."""
        if self.rotation % 180 != 0:
            return self.height, self.width
        return self.width, self.height

    @property
    def rate(self) -> Fraction:
        """The frame rate as a fraction, for an encoder (29.97 fps -> 30000/1001)."""
        return Fraction(self.fps or ASSUMED_FPS).limit_denominator(1001)

    @property
    def expected_frames(self) -> int:
        """Frames the file should hold: the header's count when it claims more than were found
        (a file cut short keeps its index), else the frames found."""
        return max(self.frame_count, self.header_frame_count or 0)


def open_video(path: Path) -> InputContainer:
    """Open a local video with FFmpeg restricted to the ``file`` protocol.

    Raises:
        MediaError: missing, empty or undecodable file.
    """
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
            f"{path}: cannot open the video ({short_error(exc)})",
            hint="the file is corrupt, truncated before its index, or not a video",
        ) from None


def video_stream(container: InputContainer) -> VideoStream | None:
    """The first real video stream (cover pictures excluded), or None."""
    for stream in container.streams.video:
        if stream.disposition & stream.disposition.attached_pic:
            continue
        return stream
    return None


def short_error(exc: BaseException) -> str:
    """The first line of an exception's message (FFmpeg's can be long), at most 200 chars."""
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0][:200]


def as_rate(value: Fraction | None) -> float | None:
    """A positive frame rate from a PyAV rational, or None."""
    if value is None or value.denominator == 0:
        return None
    rate = float(value)
    return rate if rate > 0 else None


def sane_fps(fps: float | None) -> float | None:
    """``fps`` when it is a plausible frame rate (0.1-1000), else None."""
    return fps if fps is not None and MIN_SANE_FPS <= fps <= MAX_SANE_FPS else None


def nominal_fps(stream: VideoStream) -> float:
    """The frame rate the header or the bitstream (H.264 VUI timing) claims, if sane; else 25."""
    ctx_rate: Fraction | None = None
    try:
        ctx_rate = stream.codec_context.framerate
    except (AttributeError, ValueError):
        ctx_rate = None
    return (
        sane_fps(as_rate(stream.average_rate))
        or sane_fps(as_rate(ctx_rate))
        or sane_fps(as_rate(stream.guessed_rate))
        or ASSUMED_FPS
    )


def normalise_rotation(angle: float) -> int:
    """The nearest multiple of 90 degrees, in [0, 360)."""
    return round(angle / 90.0) * 90 % 360


def frame_rotation(frame: Any) -> int:
    """The display rotation of a decoded frame (degrees counterclockwise; 0 when unknown)."""
    try:
        return normalise_rotation(float(frame.rotation or 0))
    except (AttributeError, TypeError, ValueError):
        return 0


def metadata_rotation(stream: VideoStream) -> int | None:
    """Rotation from the legacy ``rotate`` tag (clockwise in the tag), or None."""
    tag = stream.metadata.get("rotate")
    if tag is None:
        return None
    try:
        return normalise_rotation(-int(float(tag)))
    except ValueError:
        return None


def rewind(container: InputContainer, stream: VideoStream) -> None:
    """Put the demuxer back on the first packet of the file.

    Seeking to the stream's first timestamp is not enough: an MPEG-TS demuxer seeks by decode
    time and lands on the *next* keyframe when asked for the first one's presentation time.
    A target at or below every timestamp of the file lands on the first keyframe everywhere.
    """
    start = stream.start_time
    container.seek(min(0, start) if start is not None else 0, stream=stream, backward=True)


def first_frame_rotation(container: InputContainer, stream: VideoStream) -> int:
    """Rotation from the display matrix of the first decodable frame (0 when none)."""
    import av

    try:
        rewind(container, stream)
        for frame in container.decode(stream):
            return frame_rotation(frame)
    except (av.FFmpegError, OSError, EOFError, StopIteration):
        return 0
    return 0
