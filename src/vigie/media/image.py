"""Untrusted images: allow-listed formats, the decompression-bomb limit, honest decoding.

Reliability promise 10: only JPEG (and MPO, the multi-picture JPEG cameras write), PNG, GIF and
WEBP are opened, Pillow's decompression-bomb warning is an error, and the pixel count is checked
from the header before any pixel is decoded. :func:`check_image` validates bytes (a download, a
Label Studio image); :func:`decode_image` gives the RGB pixels of a file (detection).
"""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.errors import MediaError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

# Pillow format names allowed, and the suffix a file of that format is written with
IMAGE_FORMATS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}
# the Pillow openers to try (the JPEG opener also opens MPO files, as MPO)
IMAGE_OPENERS = ("JPEG", "PNG", "GIF", "WEBP")


class InvalidMediaError(Exception):
    """The bytes are not an allowed, decodable media file; ``error_class`` names the reason."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class


def check_image(
    data: bytes, max_pixels: int | None = None, fmt: str | None = None
) -> tuple[str, int, int]:
    """Check that ``data`` is a complete image of an allowed format.

    Returns:
        its Pillow format name, width and height.

    PNG, GIF and WEBP are decoded; a JPEG has its marker structure walked to EOI instead
    (:func:`check_jpeg_structure`: it refuses what the decoder refuses, at a tenth of the cost).

    Args:
        data: the bytes.
        max_pixels: refuse more pixels than this (default: Pillow's decompression-bomb limit).
        fmt: the only Pillow format to try (``"JPEG"``...), when the magic number told it.

    Raises:
        InvalidMediaError: ``empty_body``, ``not_media`` (not an allowed image),
            ``too_many_pixels`` or ``corrupt_media``.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise InvalidMediaError("empty_body", "the body is empty")
    formats = [fmt] if fmt else list(IMAGE_OPENERS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=formats) as im:
                found = str(im.format)
                width, height = im.size
                limit = max_pixels if max_pixels is not None else Image.MAX_IMAGE_PIXELS
                if limit is not None and width * height > limit:
                    raise InvalidMediaError(
                        "too_many_pixels", f"{width}x{height} exceeds {limit} pixels"
                    )
                if found in ("JPEG", "MPO"):
                    check_jpeg_structure(data)
                else:
                    im.load()
    except InvalidMediaError:
        raise
    except UnidentifiedImageError as exc:
        if fmt is None:  # nothing said it was an image: it is not one we accept
            raise InvalidMediaError(
                "not_media", "not an allowed image (JPEG, PNG, GIF, WEBP)"
            ) from None
        raise InvalidMediaError("corrupt_media", f"{fmt.lower()} does not decode: {exc}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidMediaError("too_many_pixels", str(exc)) from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError... on bad data
        name = (fmt or "image").lower()
        raise InvalidMediaError("corrupt_media", f"{name} does not decode: {exc}") from None
    return found, width, height


# a 0xFF that starts a marker inside entropy-coded data: not a stuffed 0xFF00, not RST0-RST7
_SCAN_END = re.compile(rb"\xff(?![\x00\xd0-\xd7])")
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # C4 DHT, C8 JPG, CC DAC


def check_jpeg_structure(data: bytes) -> None:
    """Walk a JPEG's segments and scans from SOI to EOI (bytes after EOI are allowed).

    libjpeg (through Pillow) refuses a JPEG only when its data ends early (damaged entropy-coded
    data only gives warnings and grey blocks): this walk refuses exactly those files, plus
    malformed segments, without decoding.

    Raises:
        InvalidMediaError: ``corrupt_media`` when the data ends before EOI (a truncated file) or
            a segment is malformed (bad length, frame or Huffman table, scan before frame).
    """

    def bad(why: str) -> InvalidMediaError:
        return InvalidMediaError("corrupt_media", f"jpeg does not decode: {why}")

    n = len(data)
    if data[:2] != b"\xff\xd8":
        raise bad("no SOI marker")
    pos, frame, scans = 2, False, 0
    while True:
        if pos >= n:
            raise bad("image file is truncated (no EOI marker)")
        if data[pos] != 0xFF:
            raise bad(f"expected a marker at byte {pos}")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            raise bad("image file is truncated (no EOI marker)")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:  # EOI
            if not frame or not scans:
                raise bad("EOI before any image data")
            return
        if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0xD8):  # no length
            if marker == 0xD8:
                raise bad("a second SOI marker")
            continue
        if pos + 2 > n:
            raise bad("image file is truncated (in a segment header)")
        length = (data[pos] << 8) | data[pos + 1]
        if length < 2:
            raise bad(f"segment {marker:02X} of length {length}")
        end = pos + length
        if end > n:
            raise bad(f"image file is truncated (in segment {marker:02X})")
        seg = data[pos + 2 : end]
        if marker in _SOF:
            if len(seg) < 6 or len(seg) != 6 + 3 * seg[5] or not seg[5]:
                raise bad("malformed frame header")
            if not ((seg[3] << 8) | seg[4]):  # width; a 0 height may come later in a DNL
                raise bad("frame of width 0")
            frame = True
        elif marker == 0xC4:  # DHT: tables of 1 + 16 + sum(counts) bytes each
            i = 0
            while i < len(seg):
                if i + 17 > len(seg):
                    raise bad("malformed Huffman table")
                count = sum(seg[i + 1 : i + 17])
                if count > 256 or i + 17 + count > len(seg):
                    raise bad("malformed Huffman table")
                i += 17 + count
        elif marker == 0xDA:  # SOS: header, then entropy-coded data up to the next marker
            if not frame:
                raise bad("scan before the frame header")
            if not seg or len(seg) != 1 + 2 * seg[0] + 3:
                raise bad("malformed scan header")
            found = _SCAN_END.search(data, end)
            if found is None:
                raise bad("image file is truncated (in scan data)")
            scans += 1
            pos = found.start()
            continue
        pos = end


def decode_image(path: Path) -> NDArray[np.uint8]:
    """An RGB array of an image file: allow-listed formats, EXIF orientation, bomb limit kept.

    Pillow reads the header (format allow-list, pixel limit); complete JPEG/PNG/WEBP files are
    decoded by OpenCV (2-3x faster, GIL released), anything else (or a file that looks cut
    short) by Pillow, which reports truncation instead of padding it with grey.

    Raises:
        MediaError: unreadable, not an allowed format, too large, or corrupt.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        data = Path(path).read_bytes()
        if not data:
            raise MediaError("empty file")
        with Image.open(io.BytesIO(data)) as im:
            fmt = im.format
            if fmt not in IMAGE_FORMATS:
                raise MediaError(f"{fmt} is not an allowed image format")
            w, h = im.size
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and w * h > limit:
                raise MediaError(f"{w}x{h} exceeds the decompression-bomb limit")
            fast = _cv2_decode(data) if _looks_complete(data, fmt) else None
            return fast if fast is not None else _pil_decode(im)
    except MediaError:
        raise
    except UnidentifiedImageError:
        raise MediaError("cannot decode: not an image format Pillow recognises") from None
    except Exception as exc:  # OSError, bomb errors, a decoder (or a plugin's opener) crashing
        raise MediaError(f"cannot decode: {exc.__class__.__name__}: {exc}") from None


def _looks_complete(data: bytes, fmt: str | None) -> bool:
    tail = data[-64:].rstrip(b"\x00\r\n ")
    if fmt in ("JPEG", "MPO"):
        return tail.endswith(b"\xff\xd9")
    if fmt == "PNG":
        return tail.endswith(b"IEND\xaeB`\x82")
    return fmt == "WEBP"


def _cv2_decode(data: bytes) -> NDArray[np.uint8] | None:
    try:
        import cv2
    except ImportError:  # a core install has no OpenCV: Pillow decodes
        return None
    import numpy as np

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None or bgr.ndim != 3:
        return None
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def _pil_decode(im: Any) -> NDArray[np.uint8]:
    import numpy as np
    from PIL import ImageOps

    im.load()
    rgb = im
    if im.getexif().get(0x0112, 1) not in (None, 1):  # orientation tag
        rgb = ImageOps.exif_transpose(im)
    if rgb.mode != "RGB":
        rgb = rgb.convert("RGB")
    return np.asarray(rgb, dtype=np.uint8)


def upright(image: Any, rotation: int) -> Any:
    """A Pillow picture rotated by its display-matrix angle (degrees counterclockwise)."""
    from PIL import Image as PILImage

    turns = {90: PILImage.Transpose.ROTATE_90, 180: PILImage.Transpose.ROTATE_180}
    turns[270] = PILImage.Transpose.ROTATE_270
    turn = turns.get(rotation % 360)
    return image.transpose(turn) if turn is not None else image
