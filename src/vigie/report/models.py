"""Registered models for the report: metrics from the registry, curves from results.csv."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vigie.catalog import Catalog
from vigie.catalog.models import model_plots
from vigie.report.query import has, log, safe, table


@dataclass
class ModelInfo:
    """A registered model, its final metrics, and its training curves (if results.csv exists)."""

    name: str
    weights: str
    created_at: datetime | None
    metrics: dict[str, Any]
    params: dict[str, Any]
    curves: dict[str, list[tuple[float, float]]]
    plots: dict[str, Path] = field(default_factory=dict)  # training plots (vigie train --plots)


@safe(list)
def load_models(catalog: Catalog) -> list[ModelInfo]:
    """Registered models with their metrics and the curves of their results.csv."""
    t = table("models")
    if not has(t, "name", "weights"):
        return []
    assert t is not None
    with catalog.engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.id)).all()
    out = []
    for r in rows:
        m = r._mapping
        params = m.get("params") or {}
        out.append(
            ModelInfo(
                name=str(m["name"]),
                weights=str(m["weights"]),
                created_at=m.get("created_at"),
                metrics=m.get("metrics") or {},
                params=params if isinstance(params, dict) else {},
                curves=read_results_csv(_results_csv(Path(str(m["weights"])), params)),
                plots=model_plots(m.get("metrics")),
            )
        )
    return out


def _results_csv(weights: Path, params: Any) -> Path:
    if isinstance(params, dict):
        for key in ("run_dir", "save_dir"):
            if params.get(key):
                return Path(str(params[key])) / "results.csv"
    # ultralytics layout: <run dir>/weights/best.pt
    return weights.parent.parent / "results.csv"


def read_results_csv(path: Path) -> dict[str, list[tuple[float, float]]]:
    """Columns of an ultralytics results.csv as ``{column: [(epoch, value), ...]}``."""
    if not path.is_file():
        return {}
    curves: dict[str, list[tuple[float, float]]] = defaultdict(list)
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                clean = {k.strip(): v for k, v in row.items() if k}
                try:
                    epoch = float(clean.get("epoch", i + 1))
                except ValueError:
                    epoch = float(i + 1)
                for key, value in clean.items():
                    if key == "epoch":
                        continue
                    try:
                        curves[key].append((epoch, float(value)))
                    except (TypeError, ValueError):
                        continue
    except (OSError, csv.Error) as exc:
        log.warning("report: cannot read %s: %s", path, exc)
        return {}
    return dict(curves)


def plot_figures(m: ModelInfo, img_dir: Path) -> str:
    """HTML figures of the model's training plots, copied into the report's ``img_dir``."""
    import re
    import shutil
    from html import escape

    figures = []
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", m.name)
    for name, path in m.plots.items():
        if not path.is_file() or path.suffix.lower() != ".png":
            log.info("report: plot %s of %s is gone (%s)", name, m.name, path)
            continue
        dest = f"model_{stem}_{re.sub(r'[^A-Za-z0-9._-]+', '_', name)}.png"
        try:
            shutil.copyfile(path, img_dir / dest)
        except OSError as exc:
            log.warning("report: cannot copy %s: %s", path, exc)
            continue
        caption = escape(f"{name} of {m.name}")
        figures.append(
            f'<figure class="card plot"><img src="img/{dest}" alt="{caption}">'
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return f'<div class="grid">{"".join(figures)}</div>' if figures else ""
