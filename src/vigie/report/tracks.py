"""Track rows for the report: the newest (model, tracker) of each video."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vigie.catalog import Catalog, media_items
from vigie.report.query import has, safe, table


@dataclass
class VideoTracks:
    """The confirmed tracks of one video: ``(class, start s, end s, track id, confidence)``."""

    name: str
    duration: float
    tracks: list[tuple[str, float, float, int, float]]


_TRACK_COLS = ("media_item_id", "class_name", "first_time", "last_time", "track_id")


def latest_tracks(catalog: Catalog, item_id: Any | None = None) -> list[Any]:
    """Track rows of the newest (model, tracker) of each video (all videos, or one)."""
    t = table("tracks")
    if not has(t, *_TRACK_COLS):
        return []
    assert t is not None
    keyed = has(t, "model_name", "tracker")
    with catalog.engine.connect() as conn:
        q = select(t)
        if item_id is not None:
            q = q.where(t.c.media_item_id == item_id)
        rows = conn.execute(q.order_by(t.c.id)).all()
    if not keyed:
        return list(rows)
    newest: dict[Any, tuple[str, str]] = {}
    for r in rows:  # id order: the last seen is the newest
        newest[r.media_item_id] = (r.model_name, r.tracker)
    return [r for r in rows if newest[r.media_item_id] == (r.model_name, r.tracker)]


def study_tracks(catalog: Catalog) -> list[tuple[int, int | None, str, str | None]]:
    rows = latest_tracks(catalog)
    if not rows:
        return []
    ids = {r.media_item_id for r in rows}
    with catalog.engine.connect() as conn:
        media = {
            m.id: (m.study_id, m.platform_id)
            for m in conn.execute(
                select(media_items.c.id, media_items.c.study_id, media_items.c.platform_id).where(
                    media_items.c.id.in_(ids), media_items.c.study_id.is_not(None)
                )
            )
        }
    return [
        (*media[r.media_item_id], r.class_name, getattr(r, "size", None))
        for r in rows
        if r.media_item_id in media
    ]


@safe(list)
def load_video_tracks(catalog: Catalog, max_videos: int = 12) -> list[VideoTracks]:
    """Per-video track timelines (the videos with the most tracks first)."""
    rows = latest_tracks(catalog)
    by_video: dict[Any, list[Any]] = defaultdict(list)
    for r in rows:
        by_video[r.media_item_id].append(r)
    top = sorted(by_video, key=lambda i: (-len(by_video[i]), i))[:max_videos]
    videos = []
    with catalog.engine.connect() as conn:
        for item_id in top:
            media = conn.execute(select(media_items).where(media_items.c.id == item_id)).first()
            tracks = sorted(
                (
                    str(r.class_name),
                    float(r.first_time or 0),
                    float(r.last_time or 0),
                    int(r.track_id),
                    float(getattr(r, "max_confidence", 1.0) or 0),
                )
                for r in by_video[item_id]
            )
            name = (media.filename or Path(media.path or "").name) if media else f"#{item_id}"
            duration = float(media.duration or 0) if media else 0.0
            end = max((tr[2] for tr in tracks), default=0.0)
            videos.append(VideoTracks(name, max(duration, end), tracks))
    return videos
