"""Is this really media? Magic numbers, then a real check (reliability promises 3 and 10).

Images: JPEG, PNG, GIF and WEBP only (:func:`vigie.media.image.check_image`). Videos: MP4/MOV
and WEBM/MKV, opened by FFmpeg with its protocol whitelist limited to ``file``, every packet
demuxed by the probe (a file cut short holds fewer packets than its index says) and one frame
decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vigie.errors import MediaError
from vigie.media.image import InvalidMediaError, check_image
from vigie.types import MediaKind

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream

IMAGE_MAGIC = {
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "gif": (b"GIF87a", b"GIF89a"),
}
PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP"}
EXTENSIONS = {
    "jpeg": "jpg",
    "png": "png",
    "gif": "gif",
    "webp": "webp",
    "mp4": "mp4",
    "webm": "webm",
}
MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")
VIDEO_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "webm"}


@dataclass(frozen=True)
class MediaInfo:
    kind: MediaKind
    format: str  # jpeg | png | gif | webp | mp4 | webm
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    frame_count: int | None = None

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def sniff(head: bytes) -> str | None:
    """The allowed format the first bytes announce, or None."""
    for fmt, magics in IMAGE_MAGIC.items():
        if any(head.startswith(m) for m in magics):
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] in MP4_BOXES:
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    return None


def is_image_body(data: bytes) -> bool:
    """Whether the first bytes announce an allowed image format."""
    return sniff(data[:16]) in PIL_FORMATS


def validate_image(data: bytes, fmt: str, max_pixels: int) -> MediaInfo:
    """Check an image held in memory (``fmt`` as :func:`sniff` named it).

    Raises:
        InvalidMediaError: too many pixels, or the image does not decode.
    """
    _, width, height = check_image(data, max_pixels, PIL_FORMATS[fmt])
    return MediaInfo(MediaKind.IMAGE, fmt, width=width, height=height)


def validate_video(path: Path, fmt: str) -> MediaInfo:
    """Probe a video file: container allowed, every packet readable, one frame decodes.

    Raises:
        InvalidMediaError: the container is refused, cut short or undecodable.
    """
    import av

    from vigie.media.probe import scan_container
    from vigie.media.video import open_video

    try:
        container = open_video(path)
    except MediaError as exc:
        raise InvalidMediaError("corrupt_media", f"{fmt} does not open: {exc.message}") from None
    try:
        if container.format.name not in VIDEO_CONTAINERS:
            raise InvalidMediaError("not_media", f"container {container.format.name} refused")
        try:
            info, index, stream = scan_container(container, path, read_rotation=False)
        except MediaError as exc:
            raise InvalidMediaError("corrupt_media", exc.message) from None
        if stream is None or not len(index) or not _one_frame_decodes(container, stream):
            raise InvalidMediaError("corrupt_media", "no decodable video frame")
        if info.header_frame_count and len(index) < info.header_frame_count:
            raise InvalidMediaError(
                "truncated_media",
                f"{len(index)} of {info.header_frame_count} video packets present",
            )
        return MediaInfo(
            MediaKind.VIDEO,
            VIDEO_CONTAINERS[container.format.name],
            width=info.width,
            height=info.height,
            duration=info.duration,
            fps=info.fps,
            frame_count=info.frame_count,
        )
    except InvalidMediaError:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
        raise InvalidMediaError("corrupt_media", f"{fmt} does not decode: {exc}") from None
    finally:
        container.close()


def _one_frame_decodes(container: InputContainer, stream: VideoStream) -> bool:
    import av

    from vigie.media.video import rewind

    try:
        rewind(container, stream)
        for _ in container.decode(stream):
            return True
    except (av.FFmpegError, OSError, EOFError):
        return False
    return False


def validate_media(data: bytes | None, path: Path, max_pixels: int) -> MediaInfo:
    """Validate a downloaded body (``data`` in memory, else read from ``path``).

    Raises:
        InvalidMediaError: empty, not an allowed format, or undecodable.
    """
    if data is None:
        with open(path, "rb") as fh:
            head = fh.read(16)
    else:
        head = data[:16]
    if not head:
        raise InvalidMediaError("empty_body", "the body is empty")
    fmt = sniff(head)
    if fmt is None:
        kind = "HTML" if head.lstrip()[:1] == b"<" else repr(head[:8])
        raise InvalidMediaError("not_media", f"not an allowed image or video (starts with {kind})")
    if fmt in PIL_FORMATS:
        return validate_image(data if data is not None else path.read_bytes(), fmt, max_pixels)
    return validate_video(path, fmt)
