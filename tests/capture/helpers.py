"""Test helpers of the capture stage: variants of a picture and hostile bodies."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from tests.fixtures.http import Reply, RequestInfo
from tests.fixtures.media import jpeg_bytes, png_bytes
from vigie.catalog import Catalog


def reencoded(data: bytes, quality: int = 75) -> bytes:
    """The same picture, decoded and encoded again (different bytes, same look)."""
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels (CRC fixed up)."""
    data = bytearray(png_bytes(64, 64))
    ihdr = 8  # after the PNG signature: length(4) type(4) data(13) crc(4)
    struct.pack_into(">II", data, ihdr + 8, width, height)
    crc = zlib.crc32(bytes(data[ihdr + 4 : ihdr + 8 + 13]))
    struct.pack_into(">I", data, ihdr + 8 + 13, crc)
    return bytes(data)


HTML_ERROR = b"<!DOCTYPE html><html><body><h1>Camera offline</h1></body></html>"


def cycling(*bodies: bytes) -> Callable[[RequestInfo], Reply]:
    """A route answering the bodies in turn, forever."""
    state = {"i": 0}

    def reply(_info: RequestInfo) -> Reply:
        body = bodies[state["i"] % len(bodies)]
        state["i"] += 1
        return Reply(body=body, headers={"Content-Type": "image/jpeg"})

    return reply


def frames(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    return jpeg_bytes(size[0], size[1], seed=seed)


def kept_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".part"))


def statuses(catalog: Catalog, camera: str) -> list[tuple[str, str | None]]:
    """(status, error_class) of the camera's items in poll order."""
    rows = catalog.items(key_prefix=f"camera:{camera}:")
    rows.sort(key=lambda r: r.captured_at)
    return [(r.status, r.error_class) for r in rows]
