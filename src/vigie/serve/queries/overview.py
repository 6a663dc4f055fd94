"""Counts over time and per study, a study's downloads, and the models.

Counts and models are the static report's own loaders (``vigie.report.data``), so the dashboard
and ``vigie report`` always agree; a study's progress and failures are read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from vigie.catalog import Catalog, media_items, sources
from vigie.report import load_camera_series, load_models, load_study_objects
from vigie.serve.health import iso
from vigie.serve.queries.common import safe_url


def counts(
    catalog: Catalog,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    platforms: Mapping[int, str] | None = None,
    max_points: int = 80,
) -> dict[str, Any]:
    """Objects per class over time per camera (between ``since`` and ``until``), the time span
    of all kept snapshots, and objects per study and platform by size category."""
    series = load_camera_series(catalog, max_points, since=since, until=until)
    taken = func.coalesce(media_items.c.captured_at, media_items.c.created_at)
    with catalog.engine.connect() as conn:
        first, last = conn.execute(
            select(func.min(taken), func.max(taken))
            .select_from(media_items.join(sources, media_items.c.source_id == sources.c.id))
            .where(sources.c.kind == "camera", media_items.c.status == "done")
        ).one()
    studies = load_study_objects(catalog, platforms)
    return {
        "since": iso(since),
        "until": iso(until),
        "extent": {"first": iso(first), "last": iso(last)},
        "cameras": [
            {
                "camera": s.camera,
                "model": s.model or None,
                "snapshots": s.snapshots,
                "series": {c: [[iso(t), v] for t, v in pts] for c, pts in s.points.items()},
            }
            for s in series
        ],
        "studies": [asdict(st) for st in studies],
    }


def downloads(catalog: Catalog, study: int | None = None) -> dict[str, Any]:
    """Every study's progress, and for ``study`` (default: the last one updated) its items by
    kind and status, failures by reason, and the most recent failures."""
    m = media_items
    not_frame = m.c.kind != "frame"
    with catalog.engine.connect() as conn:
        per_study = conn.execute(
            select(m.c.study_id, m.c.status, func.count(), func.max(m.c.updated_at))
            .where(m.c.study_id.is_not(None), not_frame)
            .group_by(m.c.study_id, m.c.status)
        ).all()
        studies: dict[int, dict[str, Any]] = {}
        for sid, status, n, updated in per_study:
            entry = studies.setdefault(int(sid), {"study_id": int(sid), "statuses": {}})
            entry["statuses"][status] = int(n)
            entry["updated"] = max(filter(None, [entry.get("updated"), updated]), default=None)
        chosen = study
        if chosen is None and studies:
            chosen = max(studies.values(), key=lambda s: str(s.get("updated") or ""))["study_id"]
        detail = _study(conn, chosen) if chosen is not None else None
    for entry in studies.values():
        total = sum(entry["statuses"].values())
        finished = total - entry["statuses"].get("pending", 0)
        entry.update(total=total, finished=finished, updated=iso(entry.get("updated")))
    return {"studies": sorted(studies.values(), key=lambda s: s["study_id"]), "study": detail}


def _study(conn: Any, study: int) -> dict[str, Any]:
    m = media_items
    mine = [m.c.study_id == study, m.c.kind != "frame"]
    by_kind: dict[str, dict[str, int]] = {}
    for kind, status, n in conn.execute(
        select(m.c.kind, m.c.status, func.count()).where(*mine).group_by(m.c.kind, m.c.status)
    ):
        by_kind.setdefault(kind, {})[status] = int(n)
    failed = [*mine, m.c.status == "failed"]
    reasons = conn.execute(
        select(m.c.error_class, func.count())
        .where(*failed)
        .group_by(m.c.error_class)
        .order_by(func.count().desc())
    ).all()
    recent = conn.execute(
        select(
            m.c.id,
            m.c.kind,
            m.c.url,
            m.c.filename,
            m.c.error_class,
            m.c.error,
            m.c.attempts,
            m.c.updated_at,
        )
        .where(*failed)
        .order_by(m.c.updated_at.desc(), m.c.id.desc())
        .limit(50)
    ).all()
    total = sum(n for statuses in by_kind.values() for n in statuses.values())
    done = sum(statuses.get("done", 0) for statuses in by_kind.values())
    return {
        "study_id": study,
        "total": total,
        "done": done,
        "by_kind": by_kind,
        "failures": {str(reason or "unknown"): int(n) for reason, n in reasons},
        "recent_failures": [
            {
                "id": r.id,
                "kind": r.kind,
                "url": safe_url(r.url),
                "filename": r.filename,
                "reason": r.error_class or "unknown",
                "error": (r.error or "")[:300],
                "attempts": r.attempts,
                "at": iso(r.updated_at),
            }
            for r in recent
        ],
    }


def download_runs(catalog: Catalog, limit: int = 10) -> list[dict[str, Any]]:
    """The most recent download runs with their counts."""
    return [
        {
            "id": r.id,
            "status": r.status,
            "started_at": iso(r.started_at),
            "ended_at": iso(r.ended_at),
            "counts": {k: v for k, v in (r.counts or {}).items() if v},
            "error": r.error,
        }
        for r in catalog.last_runs("download", limit)
    ]


def models(catalog: Catalog) -> list[dict[str, Any]]:
    """Registered models: metrics, parameters and training curves (``results.csv``)."""
    return [
        {
            "name": m.name,
            "weights": m.weights,
            "created_at": iso(m.created_at),
            "metrics": m.metrics,
            "params": {k: v for k, v in m.params.items() if isinstance(v, str | int | float)},
            "curves": {k: [list(p) for p in v] for k, v in m.curves.items()},
        }
        for m in load_models(catalog)
    ]
