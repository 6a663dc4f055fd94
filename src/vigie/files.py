"""Atomic file writes (reliability promise 1): no truncated file ever sits under its final name.

Every stage writes through :func:`write_atomic`: the bytes go to ``<name>.part`` in the target
folder, then ``os.replace`` puts them under the final name; on any failure the ``.part`` is
removed and the error goes on. A run that was killed leaves ``.part`` files behind:
:func:`sweep_parts` removes them when the next run starts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

PART_SUFFIX = ".part"


def write_atomic(path: Path, data: bytes | str, *, durable: bool = False) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` through ``path.part``.

    Args:
        path: the final file; its folder is created when missing.
        data: the content.
        durable: fsync before the rename (manifests and logs that must survive a power cut).

    Returns:
        ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + PART_SUFFIX)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(part, "wb") as fh:
            fh.write(payload)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path


def sweep_parts(folders: Path | Iterable[Path], *, recursive: bool = False) -> int:
    """Delete the ``*.part`` files an interrupted run left in ``folders``; return how many.

    Args:
        folders: one folder or several; a folder that does not exist is skipped.
        recursive: also sweep their sub-folders.
    """
    removed = 0
    for folder in [folders] if isinstance(folders, Path) else folders:
        if not folder.is_dir():
            continue
        for stale in (
            folder.rglob("*" + PART_SUFFIX) if recursive else folder.glob("*" + PART_SUFFIX)
        ):
            with contextlib.suppress(OSError):
                stale.unlink()
                removed += 1
    return removed
