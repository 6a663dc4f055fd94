"""Study rows -> :class:`~vigie.types.Link` records -> link files, manifest and catalog items."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from vigie.catalog import Catalog, stage_run
from vigie.config import LinksSettings, Settings, load_settings
from vigie.errors import ConfigError
from vigie.files import write_atomic
from vigie.identity import MediaIdentity, media_id, safe_part
from vigie.links.query import StudyMediaRow, parse_bound, select_study_media
from vigie.links.urls import EXTENSIONS, make_url_builder, s3_key
from vigie.types import ItemStatus, Link, MediaKind

log = logging.getLogger(__name__)

IMAGE_TYPES = frozenset({"image", "carousel_album", "photo"})
VIDEO_TYPES = frozenset({"video", "animated_gif"})
MANIFEST_FIELDS = (
    "study_id",
    "platform_id",
    "platform_name",
    "publication_id",
    "media_type",
    "url",
    "filename",
    "published_at",
    "media_index",
    "media_id",
)


@dataclass
class LinksResult:
    """What :func:`build_links` produced."""

    study_id: int
    links: list[Link]
    rows: int = 0
    unknown_types: Counter[str] = field(default_factory=Counter)
    missing_url: list[tuple[int, str]] = field(default_factory=list)  # (platform, publication)
    duplicates: int = 0
    manifest: Path | None = None
    folders: list[Path] = field(default_factory=list)

    @property
    def images(self) -> int:
        return sum(1 for link in self.links if link.media_type is MediaKind.IMAGE)

    @property
    def videos(self) -> int:
        return sum(1 for link in self.links if link.media_type is MediaKind.VIDEO)

    @property
    def unknown(self) -> int:
        return sum(self.unknown_types.values())


def classify_media_type(value: str | None) -> MediaKind:
    """IMAGE/CAROUSEL_ALBUM/photo -> image, VIDEO/video/animated_gif -> video, else unknown."""
    name = (value or "").strip().lower()
    if name in IMAGE_TYPES:
        return MediaKind.IMAGE
    if name in VIDEO_TYPES:
        return MediaKind.VIDEO
    return MediaKind.UNKNOWN


def target_filename(
    study: int, publication: str, platform: int, kind: MediaKind, index: int = 1
) -> str:
    """The file name of a media: ``<study>_<publication>_<platform>[_<n>].<ext>``."""
    return MediaIdentity(study, platform, publication, index).filename(EXTENSIONS[kind])


@dataclass
class _Media:
    """A distinct media of a publication: its key (URL or S3 key) and its first row."""

    key: str
    kind: MediaKind
    row: StudyMediaRow


def _publication_media(
    rows: list[StudyMediaRow], twitter_id: int, result: LinksResult
) -> list[_Media]:
    """The distinct media of one publication's rows, in index order (see vigie.identity)."""
    found: dict[str, _Media] = {}
    for row in rows:
        kind = classify_media_type(row.media_type)
        if kind is MediaKind.UNKNOWN:
            result.unknown_types[row.media_type or "<none>"] += 1
            continue
        if row.platform_id == twitter_id:
            if not row.media_url or not row.media_url.strip():
                result.missing_url.append((row.platform_id, row.publication_id))
                continue
            key = row.media_url.strip()
        else:
            key = s3_key(row.publication_id, row.platform_id, kind)
        if key in found:  # the status join's copies, or the same media listed twice
            result.duplicates += 1
            continue
        found[key] = _Media(key, kind, row)
    media = list(found.values())
    if rows and rows[0].platform_id == twitter_id:
        return sorted(media, key=lambda m: m.key)  # URL order (code points, any database)
    return sorted(media, key=lambda m: m.kind is MediaKind.VIDEO)  # the .jpg key, then .mp4


def rows_to_links(
    rows: Iterable[StudyMediaRow], cfg: LinksSettings, url_for_key: Callable[[str], str]
) -> LinksResult:
    """Turn selection rows into one link per distinct media, each with its identity.

    Unknown types, Twitter rows without URL and duplicate rows are counted in the result.

    Raises:
        ConfigError: non-Twitter media but no S3 bucket to build their links from.
    """
    result = LinksResult(study_id=-1, links=[])
    publications: dict[tuple[int, int, str], list[StudyMediaRow]] = {}
    for row in rows:
        result.rows += 1
        result.study_id = row.study_id
        publications.setdefault((row.study_id, row.platform_id, row.publication_id), []).append(row)
    twitter = cfg.twitter_platform_id
    names: dict[str, str] = {}  # file name -> publication (ids made safe may collide)
    for (study, platform, publication), pub_rows in publications.items():
        for index, media in enumerate(_publication_media(pub_rows, twitter, result), start=1):
            url = media.key if platform == twitter else url_for_key(media.key)
            name = target_filename(study, publication, platform, media.kind, index)
            if names.setdefault(name, publication) != publication:
                log.warning(
                    "publications %r and %r have the same file name %s once made safe",
                    names[name],
                    publication,
                    name,
                )
            result.links.append(
                Link(
                    study_id=study,
                    platform_id=platform,
                    publication_id=publication,
                    media_type=media.kind,
                    url=url,
                    filename=name,
                    platform_name=media.row.platform_name,
                    published_at=media.row.published_at,
                    media_index=index,
                )
            )
    return result


def _write_atomic(path: Path, content: str) -> None:
    write_atomic(path, content, durable=True)


def write_link_files(
    links: Sequence[Link], out: Path, study: int, tag: str, twitter_id: int
) -> list[Path]:
    """The seed's layout: ``images_<study>_<tag>/{aws,twitter}_links.txt`` and the same for videos."""
    folders = []
    for kind, prefix in ((MediaKind.IMAGE, "images"), (MediaKind.VIDEO, "videos")):
        folder = out / f"{prefix}_{study}_{safe_part(tag)}"
        of_kind = [link for link in links if link.media_type is kind]
        twitter = [link.url for link in of_kind if link.platform_id == twitter_id]
        aws = [link.url for link in of_kind if link.platform_id != twitter_id]
        for name, urls in (("aws_links.txt", aws), ("twitter_links.txt", twitter)):
            unique = list(dict.fromkeys(urls))
            _write_atomic(folder / name, "".join(u + "\n" for u in unique))
        folders.append(folder)
    return folders


def link_record(link: Link) -> dict[str, Any]:
    """A manifest row."""
    return {
        "study_id": link.study_id,
        "platform_id": link.platform_id,
        "platform_name": link.platform_name,
        "publication_id": link.publication_id,
        "media_type": link.media_type.value,
        "url": link.url,
        "filename": link.filename,
        "published_at": link.published_at.isoformat() if link.published_at else None,
        "media_index": link.media_index,
        "media_id": media_id(link.publication_id, link.media_index),
    }


def write_manifest(links: Sequence[Link], path: Path, fmt: str) -> Path:
    """Write every link as CSV or JSONL (atomically); return the path."""
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
        writer.writeheader()
        for link in links:
            writer.writerow({k: ("" if v is None else v) for k, v in link_record(link).items()})
        text = buf.getvalue()
    else:
        text = "".join(json.dumps(link_record(link), ensure_ascii=False) + "\n" for link in links)
    _write_atomic(path, text)
    return path


def register_links(catalog: Catalog, links: Sequence[Link], batch: int = 500) -> int:
    """Register each link as a pending media item; an existing item keeps its status.

    Returns the number of new items.
    """
    if not links:
        return 0
    study = links[0].study_id
    source_id = catalog.source("study", str(study))
    existing = {r.key: r.status for r in catalog.items(key_prefix=f"study:{study}:")}
    new = 0
    for i in range(0, len(links), batch):
        rows = []
        for link in links[i : i + batch]:
            key = f"study:{link.study_id}:{link.filename}"
            status = existing.get(key)
            new += status is None
            rows.append(
                {
                    "key": key,
                    "kind": link.media_type.value,
                    "source_id": source_id,
                    "url": link.url,
                    "filename": link.filename,
                    "study_id": link.study_id,
                    "publication_id": link.publication_id,
                    "platform_id": link.platform_id,
                    "media_type": link.media_type.value,
                    "captured_at": link.published_at,
                    "status": status or ItemStatus.PENDING.value,
                    "meta": {"platform_name": link.platform_name, "media_index": link.media_index},
                }
            )
        catalog.upsert_items(rows)
    return new


def build_links(
    study: int,
    start: str | date | datetime,
    end: str | date | datetime,
    *,
    db_url: str | None = None,
    out: Path | str | None = None,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    tag: str | None = None,
) -> LinksResult:
    """Read a study's media from the study database and write its links.

    Args:
        study: the study id.
        start, end: the period; a bare date as ``end`` includes that whole day.
        db_url: SQLAlchemy URL of the study database (default ``settings.study_db_url``).
        out: folder of the link files and manifest (default ``settings.links.out`` in the
            workspace).
        settings: Vigie settings (default: :func:`vigie.config.load_settings`).
        catalog: where links are registered (default: the settings' catalog; closed after).
        tag: suffix of the seed's folder names (default ``settings.links.tag``).

    Raises:
        ConfigError: no database URL, bad dates, non-Twitter media without an S3 bucket, or
            S3 presigning without credentials.
        DatabaseError: the study database cannot be reached or read.
    """
    from vigie.studydb import connect

    cfg = settings or load_settings()
    url = db_url or cfg.study_db_url
    if not url:
        raise ConfigError("no study database given", hint="pass --db URL or set VIGIE_STUDY_DB_URL")
    start_dt, end_dt = parse_bound(start, end=False), parse_bound(end, end=True)
    if end_dt < start_dt:
        raise ConfigError(f"--to ({end_dt}) is before --from ({start_dt})")
    lcfg = cfg.links
    out_dir = Path(out) if out is not None else cfg.output_path(lcfg.out)
    tag_value = tag or lcfg.tag
    engine = connect(url)
    try:
        rows = select_study_media(
            engine,
            study,
            start_dt,
            end_dt,
            page_size=lcfg.page_size,
            retries=lcfg.read_retries,
        )
    finally:
        engine.dispose()
    result = rows_to_links(rows, lcfg, make_url_builder(lcfg))
    result.study_id = study
    result.folders = write_link_files(
        result.links, out_dir, study, tag_value, lcfg.twitter_platform_id
    )
    ext = "csv" if lcfg.manifest_format == "csv" else "jsonl"
    result.manifest = write_manifest(
        result.links, out_dir / f"links_{study}_{safe_part(tag_value)}.{ext}", ext
    )
    run_options = {"study": study, "start": str(start), "end": str(end), "out": str(out_dir)}
    with stage_run("links", cfg, catalog, run_options) as (cat, run):
        new = register_links(cat, result.links)
        run.counts.done = len(result.links)
        run.counts.skipped = result.unknown + len(result.missing_url) + result.duplicates
        run.counts.extra = {"new": new, "rows": result.rows}
    for platform, publication in result.missing_url:
        log.warning("no media_url for twitter publication %s (platform %s)", publication, platform)
    if result.unknown:
        log.warning(
            "skipped %d media of unknown type: %s", result.unknown, dict(result.unknown_types)
        )
    return result
