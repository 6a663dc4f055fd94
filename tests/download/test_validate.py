"""Bytes are validated as media: magic number, allow-listed format, real decode."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests.fixtures.media import jpeg_bytes, png_bytes, scene_array, write_video
from vigie.download import InvalidMediaError, validate_media
from vigie.types import MediaKind

LIMIT = 50_000_000


def _image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(scene_array(64, 48)).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_allowed_image_formats_validate_with_their_size(fmt: str, tmp_path: Path) -> None:
    info = validate_media(_image(fmt), tmp_path / "x", LIMIT)
    assert info.kind is MediaKind.IMAGE and (info.width, info.height) == (64, 48)


def _bomb_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 48_000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "error_class"),
    [
        (b"<!doctype html><html>error</html>", "not_media"),
        (b"", "empty_body"),
        (jpeg_bytes()[: len(jpeg_bytes()) // 2], "corrupt_media"),
        (_bomb_png(20000, 20000), "too_many_pixels"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n", "not_media"),
        (b"II*\x00" + b"\x00" * 64, "not_media"),  # TIFF named .jpg
        (png_bytes()[:100], "corrupt_media"),
    ],
)
def test_bad_bodies_are_refused_with_a_reason(
    data: bytes, error_class: str, tmp_path: Path
) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(data)
    with pytest.raises(InvalidMediaError) as info:
        validate_media(data, path, LIMIT)
    assert info.value.error_class == error_class


def test_a_short_mp4_probes_with_frame_count_and_fps(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", frames=12, fps=6, width=64, height=48)
    info = validate_media(None, video, LIMIT)
    assert info.kind is MediaKind.VIDEO and info.frame_count == 12
    assert info.fps == pytest.approx(6.0) and (info.width, info.height) == (64, 48)


@pytest.mark.parametrize("cut", ["empty", "60%", "moov"])
def test_broken_mp4_files_are_refused(cut: str, tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", frames=30, fps=10, width=64, height=48)
    data = video.read_bytes()
    if cut == "empty":
        data = b""
    elif cut == "60%":
        data = data[: int(len(data) * 0.6)]
    else:
        at = data.find(b"moov")
        data = data[: at + 4] + b"\xff" * 64 + data[at + 68 :]
    video.write_bytes(data)
    with pytest.raises(InvalidMediaError):
        validate_media(None, video, LIMIT)


def _jpeg_variants() -> dict[str, bytes]:
    image = Image.fromarray(scene_array(160, 120, seed=3))
    variants = {}
    for name, options in {
        "baseline": {},
        "progressive": {"progressive": True},
        "restart_markers": {"restart_marker_blocks": 2},
        "grey_exif": {"exif": b"Exif\x00\x00" + b"\x00" * 32},
    }.items():
        buf = io.BytesIO()
        (image.convert("L") if name == "grey_exif" else image).save(buf, "JPEG", **options)
        variants[name] = buf.getvalue()
    return variants


def _decoder_accepts(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as im:
            im.load()  # the full decode, not the structure walk
    except Exception:
        return False
    return True


@pytest.mark.parametrize("variant", ["baseline", "progressive", "restart_markers", "grey_exif"])
def test_jpeg_check_refuses_every_truncation_the_full_decoder_refuses(
    variant: str, tmp_path: Path
) -> None:
    data = _jpeg_variants()[variant]
    assert validate_media(data, tmp_path / "x", LIMIT).format == "jpeg"
    assert validate_media(data + b"trailing bytes", tmp_path / "x", LIMIT).format == "jpeg"
    step = max(1, len(data) // 150)
    for cut in [*range(3, len(data), step), len(data) - 2, len(data) - 1]:
        truncated = data[:cut]
        assert not _decoder_accepts(truncated)
        with pytest.raises(InvalidMediaError) as info:
            validate_media(truncated, tmp_path / "x", LIMIT)
        assert info.value.error_class == "corrupt_media"


def test_jpeg_with_malformed_segments_is_refused(tmp_path: Path) -> None:
    data = _jpeg_variants()["baseline"]
    dht = data.find(b"\xff\xc4")
    bad_table = data[: dht + 4] + b"\x00" + b"\xff" * 16 + data[dht + 21 :]  # counts > 256
    sos = data.find(b"\xff\xda")
    no_frame = data[:2] + data[sos:]  # scan data without a frame header
    for broken in (bad_table, no_frame, data[:2] + b"\xff\xd9"):
        with pytest.raises(InvalidMediaError):
            validate_media(broken, tmp_path / "x", LIMIT)
