"""Cameras: last kept frame, polls by status and per hour, last success, health."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from vigie.catalog import Catalog, media_items, runs, sources
from vigie.serve.health import Poll, camera_health, iso, utc
from vigie.serve.queries.common import hour_of, safe_url


def cameras(catalog: Catalog, now: datetime) -> list[dict[str, Any]]:
    """Every camera: last kept frame, polls by status, per hour (the 24 h up to its last
    poll), last success and health."""
    with catalog.engine.connect() as conn:
        rows = conn.execute(
            select(sources).where(sources.c.kind == "camera").order_by(sources.c.name)
        ).all()
        return [_camera(conn, row, now) for row in rows]


def camera(catalog: Catalog, source_id: int, now: datetime) -> dict[str, Any] | None:
    """One camera as in :func:`cameras`, or None."""
    with catalog.engine.connect() as conn:
        row = conn.execute(
            select(sources).where(sources.c.id == source_id, sources.c.kind == "camera")
        ).first()
        return _camera(conn, row, now) if row is not None else None


def _camera(conn: Connection, cam: Any, now: datetime) -> dict[str, Any]:
    m = media_items
    mine = m.c.source_id == cam.id
    grouped_status = select(m.c.status, func.count()).where(mine).group_by(m.c.status)
    totals = {str(s): int(n) for s, n in conn.execute(grouped_status)}
    newest = (
        select(m.c.id, m.c.captured_at, m.c.status, m.c.error_class, m.c.error, m.c.run_id)
        .where(mine)
        .order_by(m.c.captured_at.desc())
    )
    recent = conn.execute(newest.limit(5)).all()
    kept = conn.execute(newest.where(m.c.status == "done").limit(1)).first()
    success = conn.execute(newest.where(m.c.status.in_(["done", "duplicate"])).limit(1)).first()
    run = None
    if recent and recent[0].run_id is not None:
        run = conn.execute(select(runs).where(runs.c.id == recent[0].run_id)).first()
    every = _every(run.config if run is not None else None)
    polls = [Poll(r.captured_at, r.status, r.error_class, r.error) for r in recent if r.captured_at]
    health = camera_health(
        polls,
        now=now,
        every=every,
        run_status=run.status if run is not None else None,
        last_success=success.captured_at if success is not None else None,
    )
    hours: list[dict[str, Any]] = []
    if polls:
        end = utc(polls[0].at).replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(hours=23)
        bucket = hour_of(conn, m.c.captured_at)
        grouped = conn.execute(
            select(bucket, m.c.status, func.count())
            .where(mine, m.c.captured_at >= start)
            .group_by(bucket, m.c.status)
        ).all()
        per: dict[str, dict[str, int]] = defaultdict(dict)
        for hour, status, n in grouped:
            per[str(hour)][status] = int(n)
        for i in range(24):
            at = start + timedelta(hours=i)
            got = per.get(at.strftime("%Y-%m-%d %H"), {})
            hours.append({"hour": iso(at), **{s: got.get(s, 0) for s in _POLL_STATES}})
    return {
        "id": cam.id,
        "name": cam.name,
        "url": safe_url(cam.url),
        "polls": {s: int(totals.get(s, 0)) for s in _POLL_STATES},
        "last_poll": iso(polls[0].at) if polls else None,
        "last_poll_status": polls[0].status if polls else None,
        "last_success": iso(success.captured_at) if success is not None else None,
        "last_kept": (
            {"id": kept.id, "at": iso(kept.captured_at), "media": f"/media/{kept.id}"}
            if kept is not None
            else None
        ),
        "every": every,
        "run": {"id": run.id, "status": run.status} if run is not None else None,
        "health": {"state": health.state, "reason": health.reason},
        "per_hour": hours,
        "version": f"{recent[0].id if recent else 0}-{sum(totals.values())}-{health.state}",
    }


_POLL_STATES = ("done", "duplicate", "failed")


def _every(config: Any) -> float | None:
    try:
        return float(config["capture"]["every"])
    except (TypeError, KeyError, ValueError):
        return None
