"""What a push sends for each image: its upload name or its local-files reference.

``upload`` sends the files through the import API (tasks point at
``/data/upload/<project>/<uuid>-<name>``); ``local-files`` imports references
``/data/local-files/?d=<path relative to the document root>``, each checked to lie inside the
document root before any request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from vigie.errors import ConfigError, SourceError
from vigie.media import list_media

STORAGES = ("upload", "local-files")
LOCAL_FILES_PREFIX = "/data/local-files/?d="


@dataclass(frozen=True)
class PushItem:
    """One image of a push, with its catalog id and what the task will point at."""

    path: Path
    media_id: int
    name: str  # upload file name (unique within the push)
    ref: str  # local-files reference, or "" for uploads


def list_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursive), sorted; raises SourceError if not a folder."""
    if not folder.is_dir():
        raise SourceError(f"{folder} is not a folder", hint="give the folder of images to push")
    return list_media(folder, "image", recursive=True, allow_empty=True)


def local_files_ref(path: Path, document_root: Path) -> str:
    """``/data/local-files/?d=<relative path>`` for a file inside ``document_root``.

    Raises:
        ConfigError: the file is outside the document root (nothing is sent).
    """
    root = document_root.resolve()
    full = path.resolve()
    if not full.is_relative_to(root) or full == root:
        raise ConfigError(
            f"{path} is outside the Label Studio document root {root}",
            hint="move the images under LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT, set "
            "labelstudio.local_files_document_root, or push with --storage upload",
        )
    return LOCAL_FILES_PREFIX + quote(full.relative_to(root).as_posix(), safe="/")


def ref_path(ref: str) -> str:
    """The unquoted relative path of a local-files reference (or "")."""
    query = urlsplit(ref).query
    return unquote(parse_qs(query).get("d", [""])[0]) if ref.startswith("/data/local-files") else ""


def resolve_document_root(explicit: Path | None) -> Path:
    """The local-files document root: explicit setting, else Label Studio's own variable."""
    root = explicit or (
        Path(os.environ["LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT"])
        if os.environ.get("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT")
        else None
    )
    if root is None:
        raise ConfigError(
            "--storage local-files needs the Label Studio document root",
            hint="set labelstudio.local_files_document_root or LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT",
        )
    return root


def upload_name(path: Path, folder: Path) -> str:
    """A flat, unique file name for the upload: the relative path with '/' -> '__'."""
    return "__".join(path.relative_to(folder).parts)
