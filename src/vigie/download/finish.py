"""After a body is complete: validate it, write it as ``.part``, hash it, rename it (a thread)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from vigie.download.fetch import Body, FetchError, write_failure
from vigie.download.jobs import Job
from vigie.download.safety import inside
from vigie.media import (
    MEDIA_SUFFIXES,
    InvalidMediaError,
    MediaInfo,
    is_image_body,
    sha256_bytes,
    sha256_file,
    validate_media,
)
from vigie.types import MediaKind


@dataclass(frozen=True)
class Stored:
    path: Path
    info: MediaInfo
    sha256: str
    size: int


def part_path(final: Path) -> Path:
    return final.with_name(final.name + ".part")


def write_part(part: Path, data: bytes) -> None:
    """Write a body held in memory to its ``.part`` file (ENOSPC surfaces here on a full disk)."""
    with open(part, "wb") as fh:
        fh.write(data)


def store_body(job: Job, body: Body, folder: Path, max_pixels: int) -> Stored:
    """Validate ``body`` and move it under its final name in ``folder``.

    Raises:
        FetchError: invalid media (final), wrong kind, or a write error.
    """
    final = inside(folder, job.filename)
    part = part_path(final)
    try:
        if body.data is not None:
            info = validate_media(body.data, part, max_pixels) if is_image_body(body.data) else None
            write_part(part, body.data)
            if info is None:
                info = validate_media(None, part, max_pixels)
            sha = sha256_bytes(body.data)
        else:
            info = validate_media(None, part, max_pixels)
            sha = sha256_file(part)
        # a manifest says what the item is; a URL list's extension only chose the folder
        if job.fixed_name and job.kind is not MediaKind.UNKNOWN and info.kind is not job.kind:
            raise InvalidMediaError(
                "wrong_type", f"expected {job.kind.value}, got {info.format} {info.kind.value}"
            )
        if not job.fixed_name and final.suffix.lower() not in MEDIA_SUFFIXES:
            final = inside(folder, f"{final.name}.{info.extension}")
        os.replace(part, final)
    except InvalidMediaError as exc:
        _drop(part)
        raise FetchError(exc.error_class, str(exc), transient=False) from None
    except OSError as exc:
        _drop(part)
        raise write_failure(exc) from None
    except BaseException:
        _drop(part)
        raise
    return Stored(final, info, sha, body.size)


def verify_file(path: Path, max_pixels: int) -> Stored | None:
    """A file already under its final name, validated again (a run killed after the rename)."""
    try:
        info = validate_media(None, path, max_pixels)
        return Stored(path, info, sha256_file(path), path.stat().st_size)
    except (InvalidMediaError, OSError):
        return None


def _drop(part: Path) -> None:
    with contextlib.suppress(OSError):
        part.unlink()
