"""Comparing what a run left: files by relative path and content, catalog rows by key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigie.catalog import Catalog

ROW_FIELDS = ("key", "kind", "status", "filename", "sha256", "size_bytes", "error_class")


def tree(folder: Path, unordered: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every file under ``folder``: relative path -> bytes (the lines sorted for the files
    named in ``unordered``, whose order is the order items finished in)."""
    found = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name in unordered:
                data = b"".join(sorted(data.splitlines(keepends=True)))
            found[str(p.relative_to(folder))] = data
    return found


def rows(catalog: Catalog, prefix: str = "", fields: tuple[str, ...] = ROW_FIELDS) -> list[Any]:
    """The catalog's media rows (``fields`` only), sorted by key."""
    return sorted(tuple(getattr(r, f) for f in fields) for r in catalog.items(key_prefix=prefix))
