from __future__ import annotations

import io
from pathlib import Path

import imagehash
import pytest
from PIL import Image

from tests.fixtures.media import jpeg_bytes, png_bytes
from vigie.dedup import hamming, image_hash, int_to_hex

BASELINE = {"ahash": imagehash.average_hash, "phash": imagehash.phash, "dhash": imagehash.dhash}


@pytest.mark.parametrize("method", ["ahash", "phash", "dhash"])
def test_full_decode_hash_equals_imagehash_bits(method: str) -> None:
    data = jpeg_bytes(640, 360, seed=3)
    expected = BASELINE[method](Image.open(io.BytesIO(data)))
    got = image_hash(data, method, fast=False)
    assert int_to_hex(got) == str(expected)


@pytest.mark.parametrize("method", ["ahash", "phash", "dhash"])
def test_fast_hash_stays_within_two_bits_of_full_decode(method: str) -> None:
    for seed in range(6):
        data = jpeg_bytes(1280, 720, seed=seed, quality=85)
        assert hamming(image_hash(data, method), image_hash(data, method, fast=False)) <= 2


def test_image_hash_accepts_path_and_png(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    path.write_bytes(png_bytes(seed=1))
    assert image_hash(path) == image_hash(png_bytes(seed=1)) == image_hash(str(path))


def test_hamming_counts_differing_bits() -> None:
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(0, (1 << 64) - 1) == 64


def test_image_hash_rejects_non_images_and_bad_arguments() -> None:
    with pytest.raises(OSError):
        image_hash(b"<html>error</html>")
    with pytest.raises(ValueError):
        image_hash(jpeg_bytes(), method="md5")
    with pytest.raises(ValueError):
        image_hash(jpeg_bytes(), hash_size=1)


def test_image_hash_larger_hash_size_has_more_bits() -> None:
    value = image_hash(jpeg_bytes(seed=2), hash_size=16)
    assert value.bit_length() > 64
