"""``vigie report``: a static HTML report of the catalog (one folder, opens from disk)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigie.cli.common import console, open_catalog, settings


def register(app: typer.Typer) -> None:
    """Add ``vigie report`` to the root app."""
    app.command("report")(report)


def report(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="report folder (default: <workspace>/report)"),
    ] = None,
    title: Annotated[str, typer.Option("--title", help="title of the page")] = "Vigie report",
    samples: Annotated[
        int, typer.Option("--samples", min=0, max=100, help="annotated sample images to include")
    ] = 8,
    db: Annotated[
        str | None,
        typer.Option("--db", help="study database URL, for platform names (default: settings)"),
    ] = None,
) -> None:
    """Build the HTML report of the catalog: one folder that opens from disk.

    Objects per camera over time, per study and platform by size, track timelines per video, training curves and metrics, download and capture health, and annotated sample images.

    Example: vigie report --out report, then open report/index.html
    """
    from rich.table import Table

    from vigie.report import build_report

    cfg = settings(ctx)
    target = cfg.output_path(out if out is not None else "report")
    catalog = open_catalog(cfg)
    try:
        index = build_report(
            catalog,
            target,
            title=title,
            max_samples=samples,
            study_db_url=db or cfg.study_db_url,
            settings=cfg,
        )
    finally:
        catalog.close()
    images = len(list((index.parent / "img").glob("*.jpg")))
    html = index.read_text(encoding="utf-8")
    table = Table(title="report")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("page", str(index))
    table.add_row("charts", str(html.count('<svg class="chart"')))
    table.add_row("sample images", str(images))
    table.add_row("sections without data", str(html.count('class="empty"')))
    console.print(table)
