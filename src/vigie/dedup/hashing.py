"""Perceptual hashes as plain integers, bit-compatible with the ``imagehash`` package.

``image_hash(path)`` gives the same bits as ``int(str(imagehash.average_hash(Image.open(path))), 16)``
but, with ``fast=True``, asks Pillow's JPEG decoder for a reduced-size greyscale picture (DCT
scaling, "draft" mode: 1/2, 1/4 or 1/8 of the size, luma only) instead of decoding every pixel of
every channel. A hash only looks at an 8x8 (or 32x32) thumbnail, so the result agrees with the
full decode on nearly every picture while decoding several times faster.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

METHODS = ("ahash", "phash", "dhash")
_RESAMPLE = Image.Resampling.LANCZOS  # what imagehash uses
_PHASH_FACTOR = 4  # imagehash's default highfreq_factor


def bits_to_int(bits: np.ndarray) -> int:
    """The boolean array as an integer, first element = most significant bit (imagehash's order)."""
    value = 0
    for b in bits.ravel():
        value = (value << 1) | int(bool(b))
    return value


def int_to_hex(value: int, nbits: int = 64) -> str:
    """The hash as imagehash's hex string (``str(ImageHash)``), zero-padded to ``nbits``."""
    return f"{value:0{(nbits + 3) // 4}x}"


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two hashes."""
    return (a ^ b).bit_count()


def _ahash(grey: Image.Image, hash_size: int) -> int:
    pixels = np.asarray(grey.resize((hash_size, hash_size), _RESAMPLE))
    return bits_to_int(pixels > pixels.mean())


def _dhash(grey: Image.Image, hash_size: int) -> int:
    pixels = np.asarray(grey.resize((hash_size + 1, hash_size), _RESAMPLE))
    return bits_to_int(pixels[:, 1:] > pixels[:, :-1])


def _phash(grey: Image.Image, hash_size: int) -> int:
    import scipy.fftpack

    size = hash_size * _PHASH_FACTOR
    pixels = np.asarray(grey.resize((size, size), _RESAMPLE))
    dct = scipy.fftpack.dct(scipy.fftpack.dct(pixels, axis=0), axis=1)
    low = dct[:hash_size, :hash_size]
    return bits_to_int(low > np.median(low))


_HASHERS: dict[str, Callable[[Image.Image, int], int]] = {
    "ahash": _ahash,
    "phash": _phash,
    "dhash": _dhash,
}


def _check_method(method: str) -> Callable[[Image.Image, int], int]:
    try:
        return _HASHERS[method]
    except KeyError:
        raise ValueError(f"unknown hash method {method!r}; choose one of {METHODS}") from None


def hash_pil(image: Image.Image, method: str = "ahash", hash_size: int = 8) -> int:
    """Hash an already opened/decoded Pillow image (same bits as imagehash)."""
    if hash_size < 2:
        raise ValueError("hash_size must be at least 2")
    return _check_method(method)(image.convert("L"), hash_size)


def hashes_pil(image: Image.Image, hash_size: int = 8) -> dict[str, int]:
    """aHash, pHash and dHash of one decoded image (converted to greyscale once)."""
    grey = image.convert("L")
    return {m: fn(grey, hash_size) for m, fn in _HASHERS.items()}


def _draft_side(method: str, hash_size: int) -> int:
    # Ask for a picture at least 4x the thumbnail the hash resizes to, so LANCZOS still has
    # several source pixels per output pixel and the result matches the full decode.
    side = hash_size * _PHASH_FACTOR if method == "phash" else hash_size + 1
    return side * 4


def _cv2_reduced_grey(data: bytes, scale: int) -> Image.Image | None:
    """libjpeg's 1/scale greyscale decode through OpenCV (same pixels as Pillow's draft mode,
    with less overhead), or None when OpenCV is unavailable or refuses the file."""
    try:
        import cv2
    except ImportError:  # pragma: no cover - opencv is a core dependency
        return None
    flags = {
        2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
        4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
        8: cv2.IMREAD_REDUCED_GRAYSCALE_8,
    }
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), flags[scale] | cv2.IMREAD_IGNORE_ORIENTATION)
    return None if arr is None or arr.ndim != 2 else Image.fromarray(arr)


def reduced_grey(data: bytes, side: int) -> Image.Image:
    """The picture in greyscale, decoded at the smallest JPEG scale (1/2, 1/4, 1/8) that keeps
    both sides >= ``side``; other formats are decoded in full.

    Raises:
        OSError / PIL.UnidentifiedImageError: not a decodable image.
        PIL.Image.DecompressionBombWarning / DecompressionBombError: too many pixels.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as im:  # reads the header only
            if im.format == "JPEG" and im.mode in ("L", "RGB"):
                ratio = min(im.size[0] // side, im.size[1] // side)
                scale = next((s for s in (8, 4, 2) if ratio >= s), 1)
                if scale > 1:
                    grey = _cv2_reduced_grey(data, scale)
                    if grey is not None:
                        return grey
                im.draft("L", (side, side))
            return im.convert("L")


def image_hash(
    source: Path | str | bytes,
    method: str = "ahash",
    hash_size: int = 8,
    fast: bool = True,
) -> int:
    """The perceptual hash of an image file or its bytes, as an integer.

    Args:
        source: a path or the encoded bytes (JPEG, PNG, GIF, WEBP...).
        method: ``"ahash"`` (the seed's ``imagehash.average_hash``), ``"phash"`` or ``"dhash"``.
        hash_size: side of the hash grid; the hash has ``hash_size**2`` bits (64 by default).
        fast: decode JPEGs at reduced size (libjpeg DCT scaling); ``False`` decodes every pixel,
            exactly like ``imagehash.<method>(Image.open(source))``.

    Raises:
        ValueError: unknown method or hash_size < 2.
        OSError / PIL.UnidentifiedImageError: the bytes are not a decodable image.
        PIL.Image.DecompressionBombError: the image claims too many pixels.
    """
    hasher = _check_method(method)
    if hash_size < 2:
        raise ValueError("hash_size must be at least 2")
    if fast:
        data = bytes(source) if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
        return hasher(reduced_grey(data, _draft_side(method, hash_size)), hash_size)
    fp = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(fp) as im:
            return hasher(im.convert("L"), hash_size)
