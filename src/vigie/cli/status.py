"""``vigie status``: what the catalog holds, by source and status, and the last runs."""

from __future__ import annotations

from typing import Annotated

import typer

from vigie.cli.common import console, open_catalog, settings


def register(app: typer.Typer) -> None:
    app.command("status")(status)


def status(
    ctx: typer.Context,
    runs: Annotated[int, typer.Option("--runs", help="how many recent runs to list", min=0)] = 10,
) -> None:
    """Show the catalog: items per source, kind and status, and the most recent runs."""
    from rich.table import Table
    from sqlalchemy import func, select

    from vigie.catalog import media_items, sources

    cfg = settings(ctx)
    cat = open_catalog(cfg)
    with cat.engine.connect() as conn:
        rows = conn.execute(
            select(
                sources.c.kind,
                sources.c.name,
                media_items.c.kind,
                media_items.c.status,
                func.count(),
            )
            .select_from(media_items.outerjoin(sources, media_items.c.source_id == sources.c.id))
            .group_by(sources.c.kind, sources.c.name, media_items.c.kind, media_items.c.status)
            .order_by(sources.c.kind, sources.c.name)
        ).all()
    table = Table(title=f"catalog {cfg.resolved_catalog_url}")
    for col in ("source", "name", "kind", "status", "items"):
        table.add_column(col)
    for skind, sname, kind, st, n in rows:
        table.add_row(skind or "-", sname or "-", kind, st, str(n))
    console.print(table)
    last = Table(title="recent runs")
    for col in ("id", "command", "status", "started", "counts"):
        last.add_column(col)
    for r in cat.last_runs(limit=runs):
        counts = ", ".join(f"{k}={v}" for k, v in (r.counts or {}).items() if v)
        last.add_row(str(r.id), r.command, r.status, f"{r.started_at:%Y-%m-%d %H:%M:%S}", counts)
    console.print(last)
    cat.close()
