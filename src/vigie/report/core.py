"""``build_report``: the report stage's core, :func:`vigie.report.build.write_report` as a run."""

from __future__ import annotations

from pathlib import Path

from vigie.catalog import Catalog, stage_run
from vigie.config import Settings, load_settings
from vigie.report.build import write_report


def build_report(
    catalog: Catalog | None,
    out_dir: Path | str,
    *,
    title: str = "Vigie report",
    max_samples: int = 8,
    study_db_url: str | None = None,
    settings: Settings | None = None,
) -> Path:
    """Write the static HTML report of ``catalog`` into ``out_dir``; return its index.html.

    Args:
        catalog: the catalog to report on, which records the run (``report``); ``None``: the
            one of ``settings``.
        out_dir: the report folder (created; index.html and img/ inside are replaced).
        title: the page title.
        max_samples: how many annotated sample images to include.
        study_db_url: the study database, for platform names (else ``platform <id>``);
            default: ``settings.study_db_url``.
        settings: the settings (default :func:`vigie.config.load_settings`).

    Raises:
        MediaError: the report folder cannot be written.
    """
    cfg = settings or load_settings()
    db_url = study_db_url or cfg.study_db_url
    run_options = {"out": str(out_dir), "title": title, "max_samples": max_samples}
    with stage_run("report", cfg, catalog, run_options) as (cat, run):
        index = write_report(
            cat, out_dir, title=title, max_samples=max_samples, study_db_url=db_url
        )
        run.counts.done = 1
    return index
