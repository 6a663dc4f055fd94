"""Untrusted images: the allow-list, the bomb limit, truncation, and the one file hash."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.fixtures.media import jpeg_bytes, png_bytes
from vigie.errors import MediaError
from vigie.media import InvalidMediaError, check_image, decode_image, sha256_bytes, sha256_file


def encoded(fmt: str, size: tuple[int, int] = (32, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_allowed_formats_pass_with_their_size(fmt: str) -> None:
    assert check_image(encoded(fmt)) == (fmt, 32, 24)


@pytest.mark.parametrize(
    ("data", "error_class"),
    [
        (b"", "empty_body"),
        (b"<html><body>login</body></html>", "not_media"),
        (encoded("TIFF"), "not_media"),
        (encoded("BMP"), "not_media"),
        (jpeg_bytes()[:-200], "corrupt_media"),
        (png_bytes()[:300], "corrupt_media"),
    ],
)
def test_other_bodies_are_refused_with_a_reason(data: bytes, error_class: str) -> None:
    with pytest.raises(InvalidMediaError) as info:
        check_image(data)
    assert info.value.error_class == error_class


def test_the_pixel_limit_is_checked_before_decoding() -> None:
    with pytest.raises(InvalidMediaError) as info:
        check_image(encoded("PNG", (400, 300)), max_pixels=100_000)
    assert info.value.error_class == "too_many_pixels"


def test_decode_image_gives_rgb_pixels_and_refuses_what_is_not_allowed(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(encoded("PNG"))
    pixels = decode_image(path)
    assert pixels.shape == (24, 32, 3) and pixels.dtype == np.uint8
    assert tuple(pixels[5, 5]) == (200, 10, 10)
    tiff = tmp_path / "b.jpg"
    tiff.write_bytes(encoded("TIFF"))
    with pytest.raises(MediaError, match="not an allowed image format"):
        decode_image(tiff)


def test_one_sha256_for_files_and_bytes(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # over one read block
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert sha256_file(path) == sha256_bytes(data) == hashlib.sha256(data).hexdigest()
