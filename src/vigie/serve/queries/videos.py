"""Videos and tracks: every analysed video, one video's tracks, its annotated output."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from vigie.catalog import Catalog, media_items
from vigie.catalog.tracks import track_videos, tracks_of
from vigie.serve.health import iso


def videos(catalog: Catalog, media_item_id: int | None = None) -> list[dict[str, Any]]:
    """Every analysed video (one row per model and tracker; or those of one video), newest
    analysis first."""
    t, m = track_videos, media_items
    q = (
        select(t, m.c.filename, m.c.path, m.c.duration, m.c.fps, m.c.study_id)
        .select_from(t.join(m, t.c.media_item_id == m.c.id))
        .order_by(t.c.updated_at.desc(), t.c.id.desc())
    )
    if media_item_id is not None:
        q = q.where(t.c.media_item_id == media_item_id)
    with catalog.engine.connect() as conn:
        rows = conn.execute(q).all()
    return [_video(r) for r in rows]


def _video(r: Any) -> dict[str, Any]:
    outputs = r.outputs if isinstance(r.outputs, dict) else {}
    return {
        "id": r.media_item_id,
        "name": r.filename or (r.path or "").rsplit("/", 1)[-1],
        "model": r.model_name,
        "tracker": r.tracker,
        "status": r.status,
        "tracks": r.tracks,
        "frames_decoded": r.frames_decoded,
        "frames_analysed": r.frames_analysed,
        "duration": r.duration,
        "fps": r.fps,
        "study_id": r.study_id,
        "warning": r.warning,
        "analysed_at": iso(r.updated_at),
        "media": f"/media/{r.media_item_id}",
        "annotated": (
            f"/media/{r.media_item_id}/annotated?model={_q(r.model_name)}&tracker={_q(r.tracker)}"
            if outputs.get("video")
            else None
        ),
        "outputs": sorted(outputs),
    }


def _q(value: str) -> str:
    return quote(value, safe="")


def video(
    catalog: Catalog, media_item_id: int, model: str | None = None, tracker: str | None = None
) -> dict[str, Any] | None:
    """One analysed video with its tracks (the newest analysis unless model/tracker given)."""
    analyses = videos(catalog, media_item_id)
    chosen = next(
        (
            v
            for v in analyses
            if (model is None or v["model"] == model)
            and (tracker is None or v["tracker"] == tracker)
        ),
        None,
    )
    if chosen is None:
        return None
    rows = [r for r in tracks_of(catalog, media_item_id, chosen["model"]) if r.tracker == chosen["tracker"]]  # fmt: skip
    chosen["track_rows"] = [
        {
            "track_id": r.track_id,
            "class": r.class_name,
            "first_frame": r.first_frame,
            "last_frame": r.last_frame,
            "first_time": r.first_time,
            "last_time": r.last_time,
            "frames_seen": r.frames_seen,
            "max_confidence": r.max_confidence,
            "mean_confidence": r.mean_confidence,
            "size": r.size,
        }
        for r in sorted(rows, key=lambda r: (r.first_time, r.track_id))
    ]
    chosen["others"] = [
        {"model": v["model"], "tracker": v["tracker"]} for v in analyses if v is not chosen
    ]
    return chosen


def annotated_path(catalog: Catalog, media_item_id: int, model: str, tracker: str) -> str | None:
    """Where the tracks stage wrote the annotated video of this analysis (None if nowhere)."""
    t = track_videos
    with catalog.engine.connect() as conn:
        outputs = conn.execute(
            select(t.c.outputs).where(
                t.c.media_item_id == media_item_id,
                t.c.model_name == model,
                t.c.tracker == tracker,
            )
        ).scalar()
    return str(outputs["video"]) if isinstance(outputs, dict) and outputs.get("video") else None
