"""Is this really media? Magic numbers, then a real decode (reliability promises 3 and 10).

Images: JPEG, PNG, GIF and WEBP only, opened by Pillow restricted to that format, pixel count
checked before decoding (decompression bombs), then decoded (JPEG at 1/8 scale: every entropy
coded byte is still read, so a truncated file fails). Videos: MP4/MOV and WEBM/MKV, opened by
FFmpeg with its protocol whitelist limited to ``file``, every packet demuxed (a file cut short
has fewer packets than its index says) and one frame decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from vigie.types import MediaKind

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


class InvalidMediaError(Exception):
    """The bytes are not an allowed, decodable media file."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class


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


def validate_image(data: bytes, fmt: str, max_pixels: int) -> MediaInfo:
    """Decode an image held in memory.

    Raises:
        InvalidMediaError: too many pixels, or the decoder fails.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[PIL_FORMATS[fmt]]) as im:
                width, height = im.size
                if width * height > max_pixels:
                    raise InvalidMediaError(
                        "too_many_pixels", f"{width}x{height} exceeds {max_pixels} pixels"
                    )
                if fmt == "jpeg":
                    im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                im.load()
    except InvalidMediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidMediaError("too_many_pixels", str(exc)) from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError... on bad data
        raise InvalidMediaError("corrupt_media", f"{fmt} does not decode: {exc}") from None
    return MediaInfo(MediaKind.IMAGE, fmt, width=width, height=height)


def validate_video(path: Path, fmt: str) -> MediaInfo:
    """Probe a video file: container allowed, every packet readable, one frame decodes.

    Raises:
        InvalidMediaError: the container is refused, cut short or undecodable.
    """
    import av

    try:
        container = av.open(str(path), options={"protocol_whitelist": "file"})
    except Exception as exc:
        raise InvalidMediaError("corrupt_media", f"{fmt} does not open: {exc}") from None
    try:
        if container.format.name not in VIDEO_CONTAINERS:
            raise InvalidMediaError("not_media", f"container {container.format.name} refused")
        if not container.streams.video:
            raise InvalidMediaError("corrupt_media", "no video stream")
        stream = container.streams.video[0]
        declared = int(stream.frames or 0)
        packets = decoded = 0
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            packets += 1
            if not decoded:
                decoded += len(list(stream.decode(packet)))
        if not decoded:
            for _ in stream.decode(None):  # flush: one frame may come out only now
                decoded = 1
                break
        if not packets or not decoded:
            raise InvalidMediaError("corrupt_media", "no decodable video frame")
        if declared and packets < declared:
            raise InvalidMediaError(
                "truncated_media", f"{packets} of {declared} video packets present"
            )
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        else:
            duration = packets / fps if fps else 0.0
        return MediaInfo(
            MediaKind.VIDEO,
            VIDEO_CONTAINERS[container.format.name],
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            duration=duration,
            fps=fps or None,
            frame_count=packets,
        )
    except InvalidMediaError:
        raise
    except Exception as exc:
        raise InvalidMediaError("corrupt_media", f"{fmt} does not decode: {exc}") from None
    finally:
        container.close()


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
