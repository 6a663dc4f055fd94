"""Catalog table of detections: one row per box of an image (or of a video frame).

Rows are replaced per media item and model in one transaction (delete, then insert), so a rerun
of ``vigie detect`` on the same images leaves exactly one set of rows; the unique key
``(media_item_id, model_name, frame_key, det_index)`` guards against any double insert.
``frame_key`` is the frame index, or -1 for a still image.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    delete,
    select,
)

from vigie.catalog.schema import metadata

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.engine import Row

    from vigie.catalog.store import Catalog

detections = Table(
    "detections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("media_item_id", Integer, ForeignKey("media_items.id"), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("model_name", String(255), nullable=False),
    Column("class_id", Integer, nullable=False),
    Column("class_name", String(128), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("x1", Float, nullable=False),
    Column("y1", Float, nullable=False),
    Column("x2", Float, nullable=False),
    Column("y2", Float, nullable=False),
    Column("area", Float, nullable=False),
    Column("area_percentage", Float, nullable=False),
    Column("size", String(16), nullable=False),
    Column("frame_index", Integer),  # None for a still image
    Column("track_id", Integer),  # None unless a tracker assigned one
    Column("frame_key", Integer, nullable=False, default=-1),
    Column("det_index", Integer, nullable=False),  # order of the box within its image/frame
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("media_item_id", "model_name", "frame_key", "det_index"),
    Index("ix_detections_model_class", "model_name", "class_name"),
    Index("ix_detections_class_item", "class_name", "media_item_id"),  # migration 2
)

_COLUMNS = (
    "class_id",
    "class_name",
    "confidence",
    "x1",
    "y1",
    "x2",
    "y2",
    "area",
    "area_percentage",
    "size",
    "frame_index",
    "track_id",
)


def replace_detections(
    catalog: Catalog,
    rows_by_item: Mapping[int, Sequence[Mapping[str, Any]]],
    *,
    model_name: str,
    run_id: int | None = None,
    frame_indexes: Iterable[int] | None = None,
) -> int:
    """Replace the detections of these media items by ``model_name``, in one transaction.

    Args:
        rows_by_item: media item id -> its detection rows (keys as the table's columns:
            class_id, class_name, confidence, x1..y2, area, area_percentage, size, and optional
            frame_index, track_id). An empty list clears the item's detections.
        model_name: the model that produced them (part of the key).
        run_id: the run writing them.
        frame_indexes: for video frames, only the rows of these frames are replaced;
            None replaces every row of the items.

    Returns:
        the number of rows inserted.
    """
    with catalog.transaction() as conn:
        return _replace(conn, rows_by_item, model_name, run_id, frame_indexes)


def record_image_batch(
    catalog: Catalog,
    items: Sequence[Mapping[str, Any]],
    rows_by_key: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    model_name: str,
    run_id: int | None = None,
) -> int:
    """One transaction for a batch of images: upsert ``items`` (media item rows with ``key``,
    ``kind``, ``status``...), then replace the detections of every item named in ``rows_by_key``
    (item key -> detection rows). Returns the number of detection rows inserted.
    """
    from vigie.catalog.schema import media_items
    from vigie.catalog.store import upsert, utcnow

    now = utcnow()
    prepared = []
    for item in items:
        row = dict(item)
        row.setdefault("created_at", now)
        row["updated_at"] = now
        row.setdefault("attempts", 0)
        prepared.append(row)
    with catalog.transaction() as conn:
        by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in prepared:
            by_shape.setdefault(tuple(sorted(row)), []).append(row)
        for group in by_shape.values():
            cols = [c for c in group[0] if c not in ("key", "created_at")]
            upsert(conn, media_items, group, ["key"], update_cols=cols)
        keys = list(rows_by_key)
        ids = (
            dict(
                conn.execute(
                    select(media_items.c.key, media_items.c.id).where(media_items.c.key.in_(keys))
                ).all()
            )
            if keys
            else {}
        )
        rows_by_item = {int(ids[k]): rows for k, rows in rows_by_key.items() if k in ids}
        return _replace(conn, rows_by_item, model_name, run_id, None)


def _replace(
    conn: Connection,
    rows_by_item: Mapping[int, Sequence[Mapping[str, Any]]],
    model_name: str,
    run_id: int | None,
    frame_indexes: Iterable[int] | None,
) -> int:
    from vigie.catalog.store import utcnow

    if not rows_by_item:
        return 0
    now = utcnow()
    ids = list(rows_by_item)
    prepared: list[dict[str, Any]] = []
    for item_id, rows in rows_by_item.items():
        per_frame: dict[int, int] = {}
        for row in rows:
            frame = row.get("frame_index")
            key = -1 if frame is None else int(frame)
            index = per_frame.get(key, 0)
            per_frame[key] = index + 1
            data = {c: row.get(c) for c in _COLUMNS}
            data.update(
                media_item_id=item_id,
                run_id=run_id,
                model_name=model_name,
                frame_key=key,
                det_index=index,
                created_at=now,
            )
            prepared.append(data)
    cond = [detections.c.media_item_id.in_(ids), detections.c.model_name == model_name]
    if frame_indexes is not None:
        cond.append(detections.c.frame_key.in_([int(f) for f in frame_indexes]))
    conn.execute(delete(detections).where(*cond))
    if prepared:
        conn.execute(detections.insert(), prepared)
    return len(prepared)


def detections_of(
    catalog: Catalog, media_item_id: int, model_name: str | None = None
) -> list[Row[Any]]:
    """The detection rows of one media item (optionally of one model), in key order."""
    q = select(detections).where(detections.c.media_item_id == media_item_id)
    if model_name is not None:
        q = q.where(detections.c.model_name == model_name)
    q = q.order_by(detections.c.model_name, detections.c.frame_key, detections.c.det_index)
    with catalog.engine.connect() as conn:
        return list(conn.execute(q))
