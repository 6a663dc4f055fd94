"""Detections: the grid, paged in SQL by keyset on the media item id, and one image's boxes."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.sql import ColumnElement

from vigie.catalog import Catalog, media_items, sources
from vigie.catalog.detections import detections
from vigie.serve.health import iso

PAGE_SIZE = 48
COUNT_CAP = 1_000  # "1,000+" beyond: an exact count of a huge match costs a scan of it
_d = detections.c
# A box as the JSON gives it (``model`` and ``class`` for model_name and class_name).
BOX = (
    _d.id, _d.model_name.label("model"), _d.class_id, _d.class_name.label("class"),
    _d.confidence, _d.x1, _d.y1, _d.x2, _d.y2, _d.area_percentage, _d.size, _d.frame_index,
    _d.track_id,
)  # fmt: skip


@dataclass(frozen=True)
class DetectionFilter:
    """What the detections grid shows; None = any."""

    camera: str | None = None  # camera (source) name
    study: int | None = None
    model: str | None = None
    class_name: str | None = None
    size: str | None = None
    min_conf: float | None = None
    max_conf: float | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL conditions on ``detections`` joined with ``media_items``."""
        d, m = detections.c, media_items.c
        cond: list[ColumnElement[bool]] = []
        if self.camera is not None:
            ids = select(sources.c.id).where(
                sources.c.kind == "camera", sources.c.name == self.camera
            )
            cond.append(m.source_id.in_(ids.scalar_subquery()))
        taken = func.coalesce(m.captured_at, m.created_at)
        checks: list[tuple[Any, Any, Callable[[Any, Any], ColumnElement[bool]]]] = [
            (self.study, m.study_id, operator.eq),
            (self.model, d.model_name, operator.eq),
            (self.class_name, d.class_name, operator.eq),
            (self.size, d.size, operator.eq),
            (self.min_conf, d.confidence, operator.ge),
            (self.max_conf, d.confidence, operator.le),
            (self.since, taken, operator.ge),
            (self.until, taken, operator.le),
        ]
        cond += [op(column, value) for value, column, op in checks if value is not None]
        return cond

    @property
    def on_media(self) -> bool:
        """True when a condition is on the media item (so the query must join it)."""
        return any(v is not None for v in (self.camera, self.study, self.since, self.until))

    def source(self) -> Any:
        """What the query reads: the detections, joined with their media items if needed."""
        if not self.on_media:
            return detections  # the count and the page are then scans of one index
        return detections.join(media_items, detections.c.media_item_id == media_items.c.id)


def detection_page(
    catalog: Catalog,
    where: DetectionFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> dict[str, Any]:
    """One page of images with matching detections, newest media item first.

    ``before`` (the ``next`` cursor) gives the page after an item id, ``after`` (``prev``) the
    page before it. Each image lists its matching boxes; ``matches`` counts the matching
    detections up to ``COUNT_CAP`` (``capped`` when there are more).
    """
    item = detections.c.media_item_id
    with catalog.engine.connect() as conn:
        cond = where.conditions()
        q = select(item).select_from(where.source()).where(*cond).group_by(item)
        if after is not None:
            ids = [
                r[0] for r in conn.execute(q.where(item > after).order_by(item).limit(limit + 1))
            ]
            more_newer, ids = len(ids) > limit, ids[:limit][::-1]
            more_older = bool(ids) and _exists(conn, q.where(item < ids[-1]))
        else:
            page = q.where(item < before) if before is not None else q
            ids = [r[0] for r in conn.execute(page.order_by(item.desc()).limit(limit + 1))]
            more_older, ids = len(ids) > limit, ids[:limit]
            more_newer = bool(ids) and _exists(conn, q.where(item > ids[0]))
        n = conn.execute(
            select(func.count()).select_from(
                select(detections.c.id)
                .select_from(where.source())
                .where(*cond)
                .limit(COUNT_CAP + 1)
                .subquery()
            )
        ).scalar_one()
        images = _images(conn, ids, where)
    return {
        "images": images,
        "matches": min(int(n), COUNT_CAP),
        "capped": int(n) > COUNT_CAP,
        "next": ids[-1] if ids and more_older else None,
        "prev": ids[0] if ids and more_newer else None,
    }


def _exists(conn: Connection, q: Any) -> bool:
    return conn.execute(q.limit(1)).first() is not None


def _images(conn: Connection, ids: list[int], where: DetectionFilter) -> list[dict[str, Any]]:
    if not ids:
        return []
    boxes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute(
        select(detections.c.media_item_id.label("item"), *BOX)
        .select_from(where.source())
        .where(detections.c.media_item_id.in_(ids), *where.conditions())
        .order_by(detections.c.id)
    ):
        box = r._asdict()
        boxes[box.pop("item")].append(box)
    media = {r.id: r for r in conn.execute(_media_query().where(media_items.c.id.in_(ids)))}
    return [_media(media[i], boxes[i]) for i in ids if i in media]


def _media_query() -> Any:
    m = media_items
    return select(
        m.c.id, m.c.kind, m.c.filename, m.c.path, m.c.width, m.c.height, m.c.captured_at,
        m.c.created_at, m.c.study_id, m.c.platform_id, m.c.parent_id, m.c.frame_index,
        m.c.timestamp, sources.c.kind.label("source_kind"), sources.c.name.label("source_name"),
    ).select_from(m.outerjoin(sources, m.c.source_id == sources.c.id))  # fmt: skip


def _media(r: Any, boxes: list[dict[str, Any]]) -> dict[str, Any]:
    source = f"{r.source_kind}:{r.source_name}" if r.source_kind else None
    if source is None and r.study_id is not None:
        source = f"study:{r.study_id}"
    return {
        "id": r.id,
        "kind": r.kind,
        "name": r.filename or (r.path or "").rsplit("/", 1)[-1],
        "media": f"/media/{r.id}",
        "width": r.width,
        "height": r.height,
        "taken_at": iso(r.captured_at or r.created_at),
        "source": source,
        "study_id": r.study_id,
        "platform_id": r.platform_id,
        "video_id": r.parent_id,
        "frame_index": r.frame_index,
        "boxes": boxes,
    }


def detection_item(catalog: Catalog, media_item_id: int) -> dict[str, Any] | None:
    """One image with every one of its boxes (every model), or None."""
    with catalog.engine.connect() as conn:
        row = conn.execute(_media_query().where(media_items.c.id == media_item_id)).first()
        if row is None:
            return None
        boxes = conn.execute(
            select(*BOX)
            .where(detections.c.media_item_id == media_item_id)
            .order_by(detections.c.model_name, detections.c.frame_key, detections.c.det_index)
        ).all()
    return _media(row, [b._asdict() for b in boxes])


def detection_choices(catalog: Catalog) -> dict[str, Any]:
    """What the filters can pick: cameras, studies, models and classes with detections."""
    with catalog.engine.connect() as conn:
        pairs = conn.execute(
            select(detections.c.model_name, detections.c.class_name).distinct()
        ).all()
        cams = conn.execute(
            select(sources.c.name).where(sources.c.kind == "camera").order_by(sources.c.name)
        ).scalars()
        studies = conn.execute(
            select(media_items.c.study_id)
            .where(media_items.c.study_id.is_not(None))
            .distinct()
            .order_by(media_items.c.study_id)
        ).scalars()
        return {
            "cameras": list(cams),
            "studies": [int(s) for s in studies],
            "models": sorted({p[0] for p in pairs}),
            "classes": sorted({p[1] for p in pairs}),
        }
