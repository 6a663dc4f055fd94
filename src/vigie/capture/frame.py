"""Checking that a snapshot body is a decodable picture, and hashing it.

Untrusted bytes: the format is allow-listed, the pixel count is checked from the header before
any decoding (decompression bombs), Pillow's bomb warning is an error, and a truncated or corrupt
body is rejected with a reason instead of being stored.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from vigie.dedup import hashes_pil
from vigie.media import IMAGE_FORMATS, IMAGE_OPENERS, sha256_bytes


class FrameRejected(Exception):
    """The body is not a picture we keep; ``error_class`` is the catalog's reason."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message


@dataclass(frozen=True)
class Frame:
    """A decoded snapshot with its identity and perceptual hashes."""

    data: bytes
    format: str
    width: int
    height: int
    sha256: str
    hashes: dict[str, int]  # ahash, phash, dhash (64-bit ints, imagehash bit order)

    @property
    def suffix(self) -> str:
        return IMAGE_FORMATS[self.format]


def _sniff(data: bytes) -> str:
    head = data[:64].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page"
    if head.startswith((b"{", b"[")):
        return "JSON"
    return f"{len(data)} bytes starting {data[:8]!r}"


def inspect_frame(data: bytes, max_pixels: int) -> Frame:
    """Decode ``data`` fully and hash it.

    Raises:
        FrameRejected: ``empty``, ``not_an_image``, ``decompression_bomb``, ``truncated`` or
            ``corrupt``.
    """
    if not data:
        raise FrameRejected("empty", "empty body")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=list(IMAGE_OPENERS))
        except UnidentifiedImageError:
            raise FrameRejected("not_an_image", f"not an image: {_sniff(data)}") from None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise FrameRejected("decompression_bomb", str(exc)) from None
        except Exception as exc:  # a broken header can raise anything; never stop the loop
            raise FrameRejected("corrupt", f"{exc.__class__.__name__}: {exc}") from None
        with im:
            width, height = im.size
            if width * height > max_pixels:
                raise FrameRejected(
                    "decompression_bomb",
                    f"{width}x{height} exceeds the limit of {max_pixels} pixels",
                )
            fmt = im.format or ""
            try:
                im.load()
                hashes = hashes_pil(im)
            except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
                raise FrameRejected("decompression_bomb", str(exc)) from None
            except OSError as exc:
                text = str(exc)
                reason = "truncated" if "truncated" in text or "broken" in text else "corrupt"
                raise FrameRejected(reason, f"{fmt} does not decode: {text}") from None
            except Exception as exc:
                raise FrameRejected("corrupt", f"{exc.__class__.__name__}: {exc}") from None
    return Frame(
        data=data,
        format=fmt,
        width=width,
        height=height,
        sha256=sha256_bytes(data),
        hashes=hashes,
    )
