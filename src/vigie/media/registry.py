"""Which files are media: the one suffix registry, and the one rule for listing media files.

Every stage that looks for images or videos on disk asks here, so ``vigie frames videos/`` and
``vigie track videos/`` see the same files. The image suffixes are the formats Vigie decodes
(the allow-list of reliability promise 10: JPEG, PNG, GIF, WEBP); the video suffixes are the
containers cameras, phones and recorders write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from vigie.errors import SourceError
from vigie.types import MediaKind

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp"})
VIDEO_SUFFIXES = frozenset(
    {
        ".mp4",  # phones, cameras, the web
        ".m4v",  # iOS exports
        ".mov",  # iPhones, cameras
        ".3gp",  # older phones
        ".mkv",
        ".webm",  # the web, screen recorders
        ".avi",  # dash cams, older cameras
        ".ts",  # camera recorders, broadcast (MPEG-2 transport stream)
        ".mts",
        ".m2ts",  # AVCHD camcorders
        ".mpg",
        ".mpeg",  # MPEG-1/2 program streams
        ".wmv",
        ".flv",
    }
)
MEDIA_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES

Kind = Literal["image", "video"] | MediaKind
_SUFFIXES = {MediaKind.IMAGE: IMAGE_SUFFIXES, MediaKind.VIDEO: VIDEO_SUFFIXES}


def kind_of(path: str | Path) -> MediaKind:
    """IMAGE or VIDEO by the file name's suffix (case-insensitive), else UNKNOWN."""
    suffix = Path(str(path)).suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return MediaKind.IMAGE
    if suffix in VIDEO_SUFFIXES:
        return MediaKind.VIDEO
    return MediaKind.UNKNOWN


def suffixes_of(kind: Kind) -> frozenset[str]:
    """The suffixes of ``kind`` ("image" or "video")."""
    try:
        return _SUFFIXES[MediaKind(kind)]
    except (KeyError, ValueError):
        raise ValueError(f"no suffix registry for media kind {kind!r}") from None


def list_media(
    sources: str | Path | Sequence[str | Path],
    kind: Kind,
    *,
    recursive: bool = False,
    exclude: Path | None = None,
    allow_empty: bool = False,
) -> list[Path]:
    """The media files of ``kind`` in ``sources``: the one listing rule of every stage.

    A source that is a file is taken as it is (a list of one, whatever its suffix); a folder
    gives its files with a registered suffix (case-insensitive), hidden names (``.*``, such as
    macOS ``._`` files) skipped, sorted; ``recursive`` looks into sub-folders. Files found
    twice (two sources naming one file) are listed once, in the order first found.

    Args:
        sources: one or several files or folders.
        kind: ``"image"`` or ``"video"``.
        recursive: also list the files of sub-folders.
        exclude: a folder whose files are left out (a destination inside the source).
        allow_empty: return ``[]`` instead of raising when nothing is found (a missing folder
            included), for callers to whom an empty folder is data.

    Raises:
        SourceError: a source does not exist, or no media file was found (the message names
            the suffixes looked for).
    """
    suffixes = suffixes_of(kind)
    paths = [Path(sources)] if isinstance(sources, str | Path) else [Path(s) for s in sources]
    excluded = exclude.resolve() if exclude is not None else None
    found: list[Path] = []
    for source in paths:
        if source.is_file():
            found.append(source)
        elif source.is_dir():
            found += _folder_files(source, suffixes, recursive, excluded)
        elif not allow_empty:
            raise SourceError(
                f"{source} does not exist", hint=f"give {MediaKind(kind).value} files or folders"
            )
    unique = _unique(found) if len(paths) > 1 else found
    if not unique and not allow_empty:
        where = ", ".join(str(p) for p in paths) or "(no source)"
        hint = None if recursive or not any(p.is_dir() for p in paths) else "add --recursive"
        looked = " ".join(sorted(suffixes))
        raise SourceError(
            f"no {MediaKind(kind).value} in {where} (looked for {looked})",
            hint=hint and f"{hint} to look into sub-folders",
        )
    return unique


def _folder_files(
    folder: Path, suffixes: frozenset[str], recursive: bool, excluded: Path | None
) -> list[Path]:
    candidates = folder.rglob("*") if recursive else folder.glob("*")
    files = []
    for p in candidates:
        if p.suffix.lower() not in suffixes or p.name.startswith(".") or not p.is_file():
            continue
        if excluded is not None and p.resolve().is_relative_to(excluded):
            continue
        files.append(p)
    return sorted(files)


def _unique(paths: Iterable[Path]) -> list[Path]:
    seen: set[Path] = set()
    out = []
    for p in paths:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
