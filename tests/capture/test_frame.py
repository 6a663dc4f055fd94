from __future__ import annotations

import pytest

from tests.capture.helpers import HTML_ERROR, frames, png_bomb, truncated
from tests.fixtures.media import png_bytes
from vigie.capture.frame import FrameRejected, inspect_frame
from vigie.net import parse_retry_after


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (HTML_ERROR, "not_an_image"),
        (truncated(frames(1)), "truncated"),
        (png_bomb(), "decompression_bomb"),
        (png_bomb(8000, 8000), "decompression_bomb"),  # under Pillow's limit, over ours
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "not_an_image"),
    ],
)
def test_inspect_frame_rejects_with_reason(body: bytes, reason: str) -> None:
    with pytest.raises(FrameRejected) as info:
        inspect_frame(body, max_pixels=50_000_000)
    assert info.value.error_class == reason


def test_inspect_frame_decodes_and_hashes_jpeg_and_png() -> None:
    jpg = inspect_frame(frames(1), max_pixels=10**6)
    assert (jpg.format, jpg.suffix, jpg.width, jpg.height) == ("JPEG", ".jpg", 320, 240)
    assert set(jpg.hashes) == {"ahash", "phash", "dhash"} and len(jpg.sha256) == 64
    png = inspect_frame(png_bytes(), max_pixels=10**6)
    assert png.suffix == ".png"


def test_parse_retry_after_seconds_date_garbage_and_cap() -> None:
    assert parse_retry_after("5", cap=3600) == 5
    assert parse_retry_after("999999", cap=60) == 60
    assert parse_retry_after("soon", cap=60) is None
    assert parse_retry_after(None, cap=60) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", cap=60) == 0  # in the past
