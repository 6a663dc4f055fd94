from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import imagehash
import numpy as np
import pytest
from PIL import Image

from tests.fixtures.media import jpeg_bytes, png_bytes
from vigie.dedup import hamming, image_hash, int_to_hex
from vigie.dedup.hashing import _dc_rounding_bias, bits_to_int, full_grey, lanczos_values

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


def test_bits_to_int_keeps_imagehash_bit_order() -> None:
    assert bits_to_int(np.array([True, False, True])) == 0b101
    assert bits_to_int(np.array([[1, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 1]])) == 0x8001
    assert bits_to_int(np.ones(25, dtype=bool)) == (1 << 25) - 1


@pytest.mark.parametrize("size", [(8, 8), (9, 8), (16, 16), (32, 32)])
def test_lanczos_values_round_to_pillows_resize(size: tuple[int, int]) -> None:
    grey = Image.open(io.BytesIO(jpeg_bytes(1280, 720, seed=4))).convert("L")
    expected = np.asarray(grey.resize(size, Image.Resampling.LANCZOS))
    values = lanczos_values(np.asarray(grey), *size)
    assert values.shape == expected.shape[:2]
    assert (np.clip(np.floor(values + 0.5), 0, 255) == expected).all()


def test_full_grey_is_the_jpeg_luma_and_none_for_other_formats() -> None:
    data = jpeg_bytes(320, 240, seed=1)
    grey = full_grey(data)
    assert grey is not None and grey.shape == (240, 320)
    pillow = np.asarray(Image.open(io.BytesIO(data)).convert("L")).astype(int)
    assert (grey != pillow).mean() < 0.01  # they differ only where RGB clips
    assert full_grey(png_bytes()) is None
    assert full_grey(b"\xff\xd8 not really a jpeg") is None


@pytest.mark.parametrize("q, bias", [(5, 1 / 16), (2, 1 / 8), (12, 1 / 4), (16, 0.0)])
def test_dc_rounding_bias_follows_the_dc_quantizer(q: int, bias: float) -> None:
    header = SimpleNamespace(layer=[(1, 2, 2, 0)], quantization={0: [q] + [1] * 63})
    assert _dc_rounding_bias(header) == bias  # type: ignore[arg-type]


def test_fast_ahash_matches_full_decode_on_most_camera_pictures() -> None:
    same = 0
    for seed in range(8):
        data = jpeg_bytes(1280, 720, seed=seed, quality=85)
        same += image_hash(data) == image_hash(data, fast=False)
    assert same >= 6
