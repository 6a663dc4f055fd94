"""What the report shows, read from the catalog into plain records.

Each ``load_*`` function reads the tables of one stage through their SQLAlchemy ``Table`` objects
and returns an empty result when a table or its rows are not there yet (a stage not run, or a
Vigie without it), so every section can say "no data yet" instead of failing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from vigie.catalog import Catalog, media_items, runs, sources
from vigie.report.models import ModelInfo, load_models, plot_figures, read_results_csv
from vigie.report.query import has, log, safe, table
from vigie.report.tracks import VideoTracks, load_video_tracks, study_tracks

__all__ = [
    "CameraSeries",
    "ModelInfo",
    "SampleImage",
    "SourceHealth",
    "StudyObjects",
    "VideoTracks",
    "load_camera_series",
    "load_health",
    "load_models",
    "load_samples",
    "load_study_objects",
    "load_totals",
    "load_video_tracks",
    "plot_figures",
    "read_results_csv",
    "study_platform_names",
]

SIZE_ORDER = ("large", "medium", "small", "negligible")


@dataclass
class CameraSeries:
    """Objects per class in each kept snapshot of one camera (mean per snapshot when bucketed)."""

    camera: str
    model: str
    snapshots: int
    points: dict[str, list[tuple[datetime, float]]]


@dataclass
class StudyObjects:
    """Objects found in the media of one study on one platform, by class and size category."""

    study_id: int
    platform: str
    by_size: dict[str, int] = field(default_factory=dict)
    by_class: dict[str, int] = field(default_factory=dict)
    images: int = 0
    videos: int = 0


@dataclass
class SourceHealth:
    """Items of one source by status, and its failures by reason."""

    kind: str
    name: str
    statuses: dict[str, int]
    failures: dict[str, int]


@dataclass
class SampleImage:
    """An image with boxes to draw: ``(class, confidence, x1, y1, x2, y2)``."""

    path: Path
    caption: str
    boxes: list[tuple[str, float, float, float, float, float]]


def _latest_model(catalog: Catalog, where: Any) -> str | None:
    det = table("detections")
    assert det is not None
    q = (
        select(det.c.model_name)
        .select_from(det.join(media_items, det.c.media_item_id == media_items.c.id))
        .where(where)
        .order_by(det.c.id.desc())
        .limit(1)
    )
    with catalog.engine.connect() as conn:
        return conn.execute(q).scalar()


@safe(list)
def load_camera_series(
    catalog: Catalog,
    max_points: int = 60,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[CameraSeries]:
    """Counts per class over time per camera, from the detections of kept snapshots
    (only of the snapshots taken from ``since`` to ``until``, when given: UTC)."""
    det = table("detections")
    if not has(det, "media_item_id", "model_name", "class_name"):
        return []
    assert det is not None
    is_camera = sources.c.kind == "camera"
    joined = media_items.join(sources, media_items.c.source_id == sources.c.id)
    taken = func.coalesce(media_items.c.captured_at, media_items.c.created_at)
    in_range = [taken >= since] if since is not None else []
    in_range += [taken <= until] if until is not None else []
    result = []
    with catalog.engine.connect() as conn:
        cameras = conn.execute(select(sources.c.id, sources.c.name).where(is_camera)).all()
    for source_id, camera in cameras:
        model = _latest_model(catalog, media_items.c.source_id == source_id) or ""
        with catalog.engine.connect() as conn:
            shots = conn.execute(
                select(media_items.c.id, media_items.c.captured_at, media_items.c.created_at)
                .select_from(joined)
                .where(
                    media_items.c.source_id == source_id, media_items.c.status == "done", *in_range
                )
            ).all()
            counts = conn.execute(
                select(det.c.media_item_id, det.c.class_name, func.count())
                .select_from(det.join(media_items, det.c.media_item_id == media_items.c.id))
                .where(media_items.c.source_id == source_id, det.c.model_name == model, *in_range)
                .group_by(det.c.media_item_id, det.c.class_name)
            ).all()
        per_item: dict[int, dict[str, int]] = defaultdict(dict)
        for item_id, cls, n in counts:
            per_item[item_id][cls] = int(n)
        classes = sorted({c for d in per_item.values() for c in d})
        times = sorted((ts or created, item_id) for item_id, ts, created in shots)
        result.append(
            CameraSeries(camera, model, len(times), _bucket(times, per_item, classes, max_points))
        )
    return result


def _bucket(
    times: list[tuple[datetime, int]],
    per_item: dict[int, dict[str, int]],
    classes: list[str],
    max_points: int,
) -> dict[str, list[tuple[datetime, float]]]:
    """Per-snapshot counts, averaged into at most ``max_points`` time buckets."""
    points: dict[str, list[tuple[datetime, float]]] = {c: [] for c in classes}
    if not times:
        return points
    size = max(1, -(-len(times) // max_points))
    for start in range(0, len(times), size):
        chunk = times[start : start + size]
        at = chunk[len(chunk) // 2][0]
        for c in classes:
            mean = sum(per_item.get(i, {}).get(c, 0) for _, i in chunk) / len(chunk)
            points[c].append((at, mean))
    return points


@safe(list)
def load_study_objects(
    catalog: Catalog, platform_names: Mapping[int, str] | None = None
) -> list[StudyObjects]:
    """Objects per study and platform, by size category, from image detections and tracks."""
    found: dict[tuple[int, str], StudyObjects] = {}
    names = _platform_names(catalog)
    names.update(dict(platform_names or {}).items())

    def entry(study: int, platform: int | None) -> StudyObjects:
        label = names.get(platform, f"platform {platform}") if platform is not None else "-"
        key = (int(study), label)
        if key not in found:
            found[key] = StudyObjects(int(study), label)
        return found[key]

    det = table("detections")
    in_study = media_items.c.study_id.is_not(None)
    if has(det, "media_item_id", "model_name", "class_name", "size"):
        assert det is not None
        model = _latest_model(catalog, in_study)
        if model is not None:
            q = (
                select(
                    media_items.c.study_id,
                    media_items.c.platform_id,
                    det.c.class_name,
                    det.c.size,
                    func.count(),
                    func.count(func.distinct(det.c.media_item_id)),
                )
                .select_from(det.join(media_items, det.c.media_item_id == media_items.c.id))
                .where(in_study, det.c.model_name == model, media_items.c.kind != "video")
                .group_by(
                    media_items.c.study_id, media_items.c.platform_id, det.c.class_name, det.c.size
                )
            )
            with catalog.engine.connect() as conn:
                for study, platform, cls, size, n, _items in conn.execute(q):
                    _add(entry(study, platform), cls, size, int(n))
    for study, platform, cls, size in study_tracks(catalog):
        _add(entry(study, platform), cls, size, 1)
    with catalog.engine.connect() as conn:
        media = conn.execute(
            select(
                media_items.c.study_id, media_items.c.platform_id, media_items.c.kind, func.count()
            )
            .where(in_study, media_items.c.status == "done")
            .group_by(media_items.c.study_id, media_items.c.platform_id, media_items.c.kind)
        ).all()
    for study, platform, kind, n in media:
        key_label = names.get(platform, f"platform {platform}")
        e = found.get((int(study), key_label))
        if e is not None:
            if kind == "image":
                e.images += int(n)
            elif kind == "video":
                e.videos += int(n)
    return sorted(found.values(), key=lambda s: (s.study_id, s.platform))


def _add(e: StudyObjects, cls: str, size: str | None, n: int) -> None:
    size = size or "negligible"
    e.by_size[size] = e.by_size.get(size, 0) + n
    e.by_class[cls] = e.by_class.get(cls, 0) + n


def _platform_names(catalog: Catalog) -> dict[int | None, str]:
    """Platform id -> name, from what the download stage kept in media_items.meta."""
    names: dict[int | None, str] = {}
    with catalog.engine.connect() as conn:
        rows = conn.execute(
            select(media_items.c.platform_id, media_items.c.meta)
            .where(media_items.c.platform_id.is_not(None), media_items.c.meta.is_not(None))
            .limit(5000)
        ).all()
    for pid, meta in rows:
        if isinstance(meta, dict):
            name = meta.get("platform_name") or meta.get("platform")
            if name and pid not in names:
                names[pid] = f"{name}"
    return names


@safe(list)
def load_health(catalog: Catalog) -> list[SourceHealth]:
    """Per source: items by status (kept, duplicates, failed...) and failures by reason."""
    joined = media_items.outerjoin(sources, media_items.c.source_id == sources.c.id)
    with catalog.engine.connect() as conn:
        statuses = conn.execute(
            select(sources.c.kind, sources.c.name, media_items.c.status, func.count())
            .select_from(joined)
            .where(media_items.c.kind != "frame")
            .group_by(sources.c.kind, sources.c.name, media_items.c.status)
        ).all()
        failures = conn.execute(
            select(sources.c.kind, sources.c.name, media_items.c.error_class, func.count())
            .select_from(joined)
            .where(media_items.c.status == "failed", media_items.c.kind != "frame")
            .group_by(sources.c.kind, sources.c.name, media_items.c.error_class)
        ).all()
    found: dict[tuple[str, str], SourceHealth] = {}
    for kind, name, status, n in statuses:
        key = (kind or "-", name or "-")
        found.setdefault(key, SourceHealth(key[0], key[1], {}, {})).statuses[status] = int(n)
    for kind, name, reason, n in failures:
        key = (kind or "-", name or "-")
        found.setdefault(key, SourceHealth(key[0], key[1], {}, {})).failures[
            reason or "unknown"
        ] = int(n)
    return sorted(found.values(), key=lambda h: (h.kind, h.name))


@safe(list)
def load_samples(catalog: Catalog, limit: int = 8) -> list[SampleImage]:
    """Images with the most detections, a few per source, with their boxes."""
    det = table("detections")
    if not has(det, "media_item_id", "model_name", "class_name", "x1", "y1", "x2", "y2"):
        return []
    assert det is not None
    still = media_items.c.kind.in_(["image", "frame"])
    with catalog.engine.connect() as conn:
        ranked = conn.execute(
            select(det.c.media_item_id, det.c.model_name, media_items.c.source_id, func.count())
            .select_from(det.join(media_items, det.c.media_item_id == media_items.c.id))
            .where(still)
            .group_by(det.c.media_item_id, det.c.model_name, media_items.c.source_id)
            .order_by(func.count().desc(), det.c.media_item_id)
            .limit(500)
        ).all()
    # round-robin over sources so every camera and study shows up
    by_source: dict[Any, list[tuple[int, str]]] = defaultdict(list)
    for item_id, model, source_id, _n in ranked:
        by_source[source_id].append((item_id, model))
    picked: list[tuple[int, str]] = []
    while len(picked) < limit and any(by_source.values()):
        for queue in by_source.values():
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    samples = []
    with catalog.engine.connect() as conn:
        for item_id, model in picked:
            media = conn.execute(select(media_items).where(media_items.c.id == item_id)).first()
            if media is None or not media.path or not Path(media.path).is_file():
                continue
            boxes = conn.execute(
                select(det.c.class_name, det.c.confidence, det.c.x1, det.c.y1, det.c.x2, det.c.y2)
                .where(det.c.media_item_id == item_id, det.c.model_name == model)
                .order_by(det.c.id)
            ).all()
            caption = f"{media.filename or Path(media.path).name} · {model} · {len(boxes)} objects"
            samples.append(SampleImage(Path(media.path), caption, [tuple(b) for b in boxes]))
    return samples


@safe(dict)
def load_totals(catalog: Catalog) -> dict[str, int]:
    """Media items per kind, and run count."""
    with catalog.engine.connect() as conn:
        kinds = conn.execute(
            select(media_items.c.kind, func.count()).group_by(media_items.c.kind)
        ).all()
        n_runs = conn.execute(select(func.count()).select_from(runs)).scalar()
    totals = {str(k): int(n) for k, n in kinds}
    totals["runs"] = int(n_runs or 0)
    return totals


def study_platform_names(db_url: str) -> dict[int, str]:
    """Platform id -> name from the study database's ``plateforms`` table ({} if unreachable:
    the report then says ``platform <id>``, it does not fail for a missing name)."""
    from vigie.errors import DatabaseError
    from vigie.studydb import connect, plateforms

    try:
        engine = connect(db_url)
    except DatabaseError as exc:
        log.warning("report: no platform names: %s", exc.message)
        return {}
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(plateforms.c.id_plateform, plateforms.c.name)).all()
    except SQLAlchemyError as exc:
        log.warning(
            "report: no platform names from the study database (%s)", exc.__class__.__name__
        )
        return {}
    finally:
        engine.dispose()
    return {int(pid): str(name) for pid, name in rows}
