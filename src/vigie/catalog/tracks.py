"""Catalog tables of the tracks stage, declared on the shared metadata (see schema.py).

``tracks``: one row per confirmed track of a video, per model and tracker. Rows of a video are
replaced (delete, then insert, one transaction) for its (model, tracker) when it is tracked again,
and the unique key ``(media_item_id, model_name, tracker, track_id)`` guards against any double
insert. ``track_videos``: one row per (video, model, tracker) saying the video was analysed, with
which settings and outputs, so a rerun skips it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    select,
)

from vigie.catalog.schema import metadata

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

    from vigie.catalog.store import Catalog

tracks = Table(
    "tracks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("media_item_id", Integer, ForeignKey("media_items.id"), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("model_name", String(255), nullable=False),
    Column("tracker", String(32), nullable=False),
    Column("track_id", Integer, nullable=False),
    Column("class_id", Integer, nullable=False),
    Column("class_name", String(128), nullable=False),
    Column("max_confidence", Float, nullable=False),
    Column("mean_confidence", Float, nullable=False),
    Column("first_frame", Integer, nullable=False),
    Column("last_frame", Integer, nullable=False),
    Column("first_time", Float, nullable=False),
    Column("last_time", Float, nullable=False),
    Column("frames_seen", Integer, nullable=False),
    Column("x1", Float, nullable=False),
    Column("y1", Float, nullable=False),
    Column("x2", Float, nullable=False),
    Column("y2", Float, nullable=False),
    Column("area", Float, nullable=False),
    Column("area_percentage", Float, nullable=False),
    Column("size", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("media_item_id", "model_name", "tracker", "track_id"),
)

track_videos = Table(
    "track_videos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("media_item_id", Integer, ForeignKey("media_items.id"), nullable=False),
    Column("model_name", String(255), nullable=False),
    Column("tracker", String(32), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("signature", String(64), nullable=False),  # hash of the settings that shape results
    Column("status", String(16), nullable=False),  # done | partial | failed
    Column("frames_decoded", Integer),
    Column("frames_analysed", Integer),
    Column("tracks", Integer),
    Column("outputs", JSON),
    Column("warning", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("media_item_id", "model_name", "tracker"),
)

_TRACK_COLUMNS = (
    "track_id",
    "class_id",
    "class_name",
    "max_confidence",
    "mean_confidence",
    "first_frame",
    "last_frame",
    "first_time",
    "last_time",
    "frames_seen",
    "x1",
    "y1",
    "x2",
    "y2",
    "area",
    "area_percentage",
    "size",
)


def replace_tracks(
    catalog: Catalog,
    media_item_id: int,
    rows: Sequence[Mapping[str, Any]],
    *,
    model_name: str,
    tracker: str,
    run_id: int | None,
    video: Mapping[str, Any],
) -> int:
    """Replace a video's tracks for (model, tracker) and record the video as analysed.

    Args:
        rows: one mapping per track with the table's columns (see ``_TRACK_COLUMNS``).
        video: the ``track_videos`` fields: signature, status, frames_decoded,
            frames_analysed, outputs, warning.

    Returns:
        the number of track rows written.
    """
    from vigie.catalog.store import upsert, utcnow

    now = utcnow()
    prepared = [
        {
            **{c: row[c] for c in _TRACK_COLUMNS},
            "media_item_id": media_item_id,
            "run_id": run_id,
            "model_name": model_name,
            "tracker": tracker,
            "created_at": now,
        }
        for row in rows
    ]
    state = {
        "media_item_id": media_item_id,
        "model_name": model_name,
        "tracker": tracker,
        "run_id": run_id,
        "tracks": len(prepared),
        "updated_at": now,
        **{
            k: video.get(k)
            for k in (
                "signature",
                "status",
                "frames_decoded",
                "frames_analysed",
                "outputs",
                "warning",
            )
        },
    }
    with catalog.transaction() as conn:
        conn.execute(
            delete(tracks).where(
                tracks.c.media_item_id == media_item_id,
                tracks.c.model_name == model_name,
                tracks.c.tracker == tracker,
            )
        )
        if prepared:
            conn.execute(tracks.insert(), prepared)
        upsert(conn, track_videos, [state], ["media_item_id", "model_name", "tracker"])
    return len(prepared)


def tracked_video(
    catalog: Catalog, media_item_id: int, model_name: str, tracker: str
) -> Row[Any] | None:
    """The ``track_videos`` row of a video for (model, tracker), or None."""
    q = select(track_videos).where(
        track_videos.c.media_item_id == media_item_id,
        track_videos.c.model_name == model_name,
        track_videos.c.tracker == tracker,
    )
    with catalog.engine.connect() as conn:
        return conn.execute(q).first()


def tracks_of(
    catalog: Catalog, media_item_id: int, model_name: str | None = None
) -> list[Row[Any]]:
    """The track rows of one video (optionally of one model), by tracker and track id."""
    q = select(tracks).where(tracks.c.media_item_id == media_item_id)
    if model_name is not None:
        q = q.where(tracks.c.model_name == model_name)
    q = q.order_by(tracks.c.model_name, tracks.c.tracker, tracks.c.track_id)
    with catalog.engine.connect() as conn:
        return list(conn.execute(q))
