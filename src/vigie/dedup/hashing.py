"""Perceptual hashes as plain integers, bit-compatible with the ``imagehash`` package.

``image_hash(path)`` gives the same bits as ``int(str(imagehash.average_hash(Image.open(path))), 16)``
but, with ``fast=True``, asks Pillow's JPEG decoder for a reduced-size greyscale picture (DCT
scaling, "draft" mode: 1/2, 1/4 or 1/8 of the size, luma only) instead of decoding every pixel of
every channel. A hash only looks at an 8x8 (or 32x32) thumbnail, so the result agrees with the
full decode on nearly every picture while decoding several times faster. For aHash and dHash the
thumbnail is computed in floats (less the 1/8 decode's known rounding bias) and rounded as Pillow
rounds it (:func:`reduced_values`, :func:`rounding_bits`).

:func:`lanczos_values` is an exact copy of Pillow's 8-bit LANCZOS resize (fixed-point weights,
uint8 horizontal pass) as two matrix products: on a full-size luma it gives imagehash's thumbnail
for a fraction of the cost of decoding colour and resizing with Pillow.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

METHODS = ("ahash", "phash", "dhash")
_RESAMPLE = Image.Resampling.LANCZOS  # what imagehash uses
_PHASH_FACTOR = 4  # imagehash's default highfreq_factor


def bits_to_int(bits: np.ndarray) -> int:
    """The boolean array as an integer, first element = most significant bit (imagehash's order)."""
    flat = np.asarray(bits, dtype=bool).ravel()
    value = int.from_bytes(np.packbits(flat).tobytes(), "big")
    return value >> (-flat.size % 8)  # packbits pads the last byte with zeros


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


_PRECISION_BITS = 22  # Pillow's fixed point for 8-bit resampling (32 - 8 - 2)


@lru_cache(maxsize=32)
def lanczos_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Pillow's LANCZOS weights for resizing ``n_in`` pixels to ``n_out`` (``Resample.c``:
    ``precompute_coeffs`` then ``normalize_coeffs_8bpc``), as an ``(n_out, n_in)`` matrix of the
    fixed-point integers divided by ``2**22``, so that a matrix product is Pillow's sum."""
    scale = n_in / n_out
    filterscale = max(scale, 1.0)
    support = 3.0 * filterscale
    out = np.zeros((n_out, n_in))
    for xx in range(n_out):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), n_in)
        t = (np.arange(xmin, xmax) - center + 0.5) / filterscale
        w = np.where((t >= -3.0) & (t < 3.0), np.sinc(t) * np.sinc(t / 3.0), 0.0)
        total = w.sum()
        if total != 0.0:
            w = w / total
        fixed = np.trunc(w * (1 << _PRECISION_BITS) + np.where(w < 0, -0.5, 0.5))
        out[xx, xmin:xmax] = fixed / (1 << _PRECISION_BITS)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=32)
def _lanczos_matrix_f32(n_in: int, n_out: int) -> np.ndarray:
    return lanczos_matrix(n_in, n_out).T.astype(np.float32)


# OpenBLAS (numpy's BLAS) spreads a matrix product over threads when m * n * k >= 4 * 65536;
# from decoding worker threads that oversubscribes the cores and its threads spin: measured 5x
# the CPU of the same product on one thread (2.4 vs 0.46 ms for a 720x1280 horizontal pass).
_ONE_THREAD_GEMM = 4 * 65536


def _matmul_one_thread(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` in blocks of rows small enough that OpenBLAS stays on the calling thread."""
    m, k = a.shape
    n = b.shape[1]
    step = max(1, (_ONE_THREAD_GEMM - 1) // max(1, k * n))
    if step >= m:
        return a @ b
    out = np.empty((m, n), dtype=np.result_type(a, b))
    for i in range(0, m, step):
        np.matmul(a[i : i + step], b, out=out[i : i + step])
    return out


def lanczos_values(grey: np.ndarray, width: int, height: int) -> np.ndarray:
    """What Pillow's 8-bit ``Image.resize((width, height), LANCZOS)`` computes for ``grey`` (an
    ``(h, w)`` uint8 array) just before its last rounding: the horizontal pass rounded to uint8,
    as Pillow stores it, then the vertical pass as floats. ``clip(floor(v + 0.5), 0, 255)`` of
    the result is Pillow's output (up to float32 rounding in the horizontal pass, ~1e-4)."""
    horizontal = _matmul_one_thread(
        grey.astype(np.float32), _lanczos_matrix_f32(grey.shape[1], width)
    )
    stored = np.clip(np.floor(horizontal + 0.5), 0, 255).astype(np.float64)
    return lanczos_matrix(grey.shape[0], height) @ stored  # (height, width)


def full_grey(data: bytes) -> np.ndarray | None:
    """A JPEG's luma at full resolution (libjpeg through OpenCV, no colour conversion), or None
    when the bytes are not an RGB/greyscale JPEG that OpenCV decodes. For such files the luma
    equals Pillow's ``convert("L")`` of the colour decode except where RGB clips (~0.1% of pixels
    of a camera picture, by one or two grey levels)."""
    if data[:2] != b"\xff\xd8":
        return None
    try:
        import cv2
    except ImportError:  # a core install has no OpenCV: Pillow decodes
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:  # header only: format, mode, size
                if im.format != "JPEG" or im.mode not in ("L", "RGB"):
                    return None
    except OSError:  # not a readable JPEG: let a full decode report it
        return None
    flags = cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    return None if arr is None or arr.ndim != 2 else arr


def _cv2_reduced_grey(data: bytes, scale: int) -> np.ndarray | None:
    """libjpeg's 1/scale greyscale decode through OpenCV (same pixels as Pillow's draft mode,
    with less overhead), or None when OpenCV is unavailable or refuses the file."""
    try:
        import cv2
    except ImportError:  # a core install has no OpenCV: Pillow decodes
        return None
    flags = {
        2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
        4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
        8: cv2.IMREAD_REDUCED_GRAYSCALE_8,
    }
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), flags[scale] | cv2.IMREAD_IGNORE_ORIENTATION)
    return None if arr is None or arr.ndim != 2 else arr


def _dc_rounding_bias(im: Image.Image) -> float:
    """Mean error of libjpeg's 1/8 decode, which outputs each 8x8 block's mean ``DC * q / 8``
    rounded half up: with the luma DC quantizer ``q``, ``k * q`` falls on a tie (4 mod 8) for a
    share ``gcd(q, 8) / 8`` of the blocks when ``gcd(q, 8) <= 4``, each tie adding 0.5."""
    try:
        table = im.layer[0][3]  # type: ignore[attr-defined]
        q = int(im.quantization[table][0])  # type: ignore[attr-defined]
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return 1 / 16
    g = math.gcd(q, 8)
    return 0.5 * g / 8 if g <= 4 else 0.0


def reduced_array(data: bytes, side: int) -> tuple[np.ndarray, float]:
    """The picture in greyscale as a uint8 array, decoded at the smallest JPEG scale (1/2, 1/4,
    1/8) that keeps both sides >= ``side`` (other formats in full), and the expected bias of its
    pixels against the full decode's (non-zero only for the 1/8 scale, see
    :func:`_dc_rounding_bias`).

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
                    arr = _cv2_reduced_grey(data, scale)
                    if arr is not None:
                        return arr, (_dc_rounding_bias(im) if scale == 8 else 0.0)
                im.draft("L", (side, side))
            return np.asarray(im.convert("L")), 0.0


def reduced_grey(data: bytes, side: int) -> Image.Image:
    """The picture in greyscale, decoded at the smallest JPEG scale (1/2, 1/4, 1/8) that keeps
    both sides >= ``side``; other formats are decoded in full.

    Raises:
        OSError / PIL.UnidentifiedImageError: not a decodable image.
        PIL.Image.DecompressionBombWarning / DecompressionBombError: too many pixels.
    """
    return Image.fromarray(reduced_array(data, side)[0])


def rounding_bits(v: np.ndarray, method: str, margin: float) -> tuple[int, int]:
    """(aHash or dHash bits, uncertain bits) of the uint8 thumbnail ``clip(floor(v + 0.5))``
    (Pillow's last rounding) when ``v`` may be off by ``margin``: each pixel then lies in
    [lo, hi]; a bit is certain when its comparison holds (or fails) for every pixel value in
    those ranges. ``margin=0`` gives the bits of the estimate, with no uncertain bit."""
    lo = np.clip(np.floor(v - margin + 0.5), 0, 255)
    hi = np.clip(np.floor(v + margin + 0.5), 0, 255)
    if method == "ahash":  # bit = t_i > mean  <=>  (n - 1) t_i > sum of the others
        n = lo.size - 1
        one = n * lo > hi.sum() - hi
        zero = n * hi <= lo.sum() - lo
    else:  # bit = right > left
        one = lo[:, 1:] > hi[:, :-1]
        zero = hi[:, 1:] <= lo[:, :-1]
    return bits_to_int(one), bits_to_int(~(one | zero))


def reduced_values(data: bytes, method: str, hash_size: int) -> np.ndarray:
    """Estimate, from a reduced-size decode, of the aHash (``hash_size`` square) or dHash
    (one column more) thumbnail Pillow computes from the full decode, before its last rounding.
    On 1280x720 camera frames: within 0.05 grey level for half the pixels, 0.25 for 99%."""
    arr, bias = reduced_array(data, (hash_size + 1) * 4)
    grey = arr.astype(np.float64)
    width = hash_size + (method == "dhash")
    # LANCZOS in floats, as Pillow's "F" mode resize (two matrix products); the resize keeps
    # constants, so the decode's bias comes off the result
    rows, cols = lanczos_matrix(grey.shape[0], hash_size), lanczos_matrix(grey.shape[1], width)
    return rows @ _matmul_one_thread(grey, cols.T) - bias


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
        fast: decode JPEGs at reduced size (libjpeg DCT scaling); agrees with imagehash on most
            pictures, not all (a pixel next to the mean can round the other way; use
            :func:`vigie.dedup.keep_decisions` for decisions that must match). ``False`` decodes
            every pixel, exactly like ``imagehash.<method>(Image.open(source))``.

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
        if method != "phash":  # imagehash's uint8 thumbnail, estimated in floats then rounded
            return rounding_bits(reduced_values(data, method, hash_size), method, 0.0)[0]
        return hasher(reduced_grey(data, _draft_side(method, hash_size)), hash_size)
    fp = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(fp) as im:
            return hasher(im.convert("L"), hash_size)
