"""One identity per media, from the study database to the study database (reliability promise 15).

A media of a study is ``MediaIdentity(study_id, platform_id, publication_id, index)``: ``index``
is its rank among the distinct media of its publication, as `vigie links` orders them (Twitter:
the distinct ``media_url`` values in code-point order; other platforms: the distinct S3 keys,
``.jpg`` before ``.mp4``). The identity flows through the links manifest (``media_index``,
``media_id``), the file name, the catalog and every output:

- file name: ``<study>_<publication>_<platform>.<ext>`` for index 1 (the seed's name, so
  ``53_1789_4.jpg`` keeps its meaning) and ``<study>_<publication>_<platform>_<n>.<ext>`` for
  index ``n >= 2``;
- ``media_id`` (the study tables' column): the publication id for index 1, ``<publication>_<n>``
  for ``n >= 2`` (``1520``, ``1520_2``...), so joins on the publication still work.

:func:`identify` maps a file back to its identity: the catalog's provenance columns when the
catalog knows the file, else the file name (:func:`identity_from_name`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vigie.catalog import Catalog

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# <study>_<publication>_<platform>[_<n>]: platform and n are short numbers, n >= 2; the
# publication is the shortest run that leaves such a tail (see identity_from_name)
_NAME = re.compile(r"^(\d+)_(.+?)_(\d{1,4})(?:_([2-9]|[1-9]\d{1,3}))?$")


def safe_part(value: str) -> str:
    """A string made safe for a file name component (no separators, controls or edge dots)."""
    cleaned = _UNSAFE.sub("_", value).strip("._")
    return cleaned[:120] or "x"


@dataclass(frozen=True, slots=True, order=True)
class MediaIdentity:
    """Who a media file is: study, platform, publication and rank in the publication."""

    study_id: int
    platform_id: int
    publication_id: str
    index: int = 1

    def __post_init__(self) -> None:
        if self.index < 1:
            raise ValueError(f"a media index starts at 1, not {self.index}")

    @property
    def media_id(self) -> str:
        """The study tables' ``media_id``: the publication, ``<publication>_<n>`` for n >= 2."""
        return media_id(self.publication_id, self.index)

    @property
    def stem(self) -> str:
        """The file name without extension."""
        base = f"{self.study_id}_{safe_part(self.publication_id)}_{self.platform_id}"
        return base if self.index == 1 else f"{base}_{self.index}"

    def filename(self, ext: str) -> str:
        """``<stem>.<ext>`` (``ext`` without its dot)."""
        return f"{self.stem}.{ext.lstrip('.')}"

    @property
    def study_key(self) -> tuple[int, str, str]:
        """The study tables' key of this media's rows: (study_id, media_id, plateform_id)."""
        return self.study_id, self.media_id, str(self.platform_id)


def media_id(publication_id: str, index: int = 1) -> str:
    """The ``media_id`` of the ``index``-th media of a publication."""
    return publication_id if index == 1 else f"{publication_id}_{index}"


def identity_from_name(name: str | Path) -> MediaIdentity | None:
    """The identity a file name states, or None when it follows no study pattern.

    The name alone is ambiguous when a publication id itself ends in ``_<short number>``
    (Facebook's ``<page>_<post>`` ids end in a long one and parse right): the catalog, which
    :func:`identify` asks first, knows those files exactly.
    """
    match = _NAME.match(Path(name).stem)
    if not match:
        return None
    study, publication, platform, index = match.groups()
    return MediaIdentity(int(study), int(platform), publication, int(index or 1))


def index_in_name(name: str | Path, study_id: int, publication_id: str, platform_id: int) -> int:
    """The media index a file name gives, the publication being known (1 when it gives none)."""
    stem = Path(name).stem
    base = MediaIdentity(study_id, platform_id, publication_id).stem
    rest = stem[len(base) + 1 :] if stem.startswith(base + "_") else ""
    return int(rest) if rest.isdigit() and int(rest) >= 2 else 1


def identity_from_row(row: Any) -> MediaIdentity | None:
    """The identity a catalog ``media_items`` row records (None without study provenance).

    The row's study, publication and platform columns are exact; the index is the one `vigie
    links` recorded (``meta.media_index``), else the one its file name gives.
    """
    study, publication = getattr(row, "study_id", None), getattr(row, "publication_id", None)
    platform = getattr(row, "platform_id", None)
    if study is None or not publication or platform is None:
        return None
    meta = getattr(row, "meta", None)
    index = meta.get("media_index") if isinstance(meta, dict) else None
    if not isinstance(index, int) or index < 1:
        name = getattr(row, "filename", None) or Path(str(getattr(row, "path", "") or "")).name
        index = index_in_name(name, int(study), str(publication), int(platform))
    return MediaIdentity(int(study), int(platform), str(publication), index)


def identity_of(path: str | Path, row: Any = None) -> MediaIdentity | None:
    """The identity of a media file given its catalog row (or None): the row wins over the name.

    A frame taken from a video is not a media of the study (its video is): it has none.
    """
    if row is not None:
        if getattr(row, "kind", None) == "frame":
            return None
        found = identity_from_row(row)
        if found is not None:
            return found
    return identity_from_name(path)


def identify(path: Path, catalog: Catalog | None = None) -> MediaIdentity | None:
    """The identity of a media file, looked up in ``catalog`` first (see :func:`identity_of`)."""
    return identity_of(path, catalog.item_by_path(path) if catalog is not None else None)
