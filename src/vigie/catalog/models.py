"""Catalog table of the model registry: trained weights that detection can name.

``vigie train`` registers its best weights under ``--name``; ``vigie detect --model NAME`` and the
Python API resolve the name back to the weights path. Re-registering a name replaces the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    select,
    update,
)

from vigie.catalog.schema import metadata

if TYPE_CHECKING:
    from sqlalchemy.engine import Row

    from vigie.catalog.store import Catalog

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("weights", Text, nullable=False),  # absolute path of the .pt
    Column("dataset", Text),  # data.yaml the model was trained on
    Column("classes", JSON),  # {"0": "Car", ...}
    Column("metrics", JSON),  # {"all": {...}, "per_class": {...}, "plots": {stem: path}}
    Column("params", JSON),  # epochs, imgsz, batch, base model, device...
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def register_model(
    catalog: Catalog,
    name: str,
    weights: Path | str,
    *,
    dataset: Path | str | None = None,
    classes: Mapping[int, str] | None = None,
    metrics: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    run_id: int | None = None,
    plots: Mapping[str, Path | str] | None = None,
) -> int:
    """Register (or replace) the model ``name``; return its row id.

    ``plots`` (training plots by name, e.g. ``results``, ``confusion_matrix``) are kept with the
    metrics they draw, as absolute paths under ``metrics["plots"]``; :func:`model_plots` reads them back.
    """
    from vigie.catalog.store import upsert, utcnow

    if plots:
        metrics = {
            **(metrics or {}),
            "plots": {k: str(Path(v).resolve()) for k, v in plots.items()},
        }

    row = {
        "name": name,
        "weights": str(Path(weights).resolve()),
        "dataset": str(dataset) if dataset is not None else None,
        "classes": {str(k): v for k, v in classes.items()} if classes is not None else None,
        "metrics": dict(metrics) if metrics is not None else None,
        "params": dict(params) if params is not None else None,
        "run_id": run_id,
        "created_at": utcnow(),
    }
    with catalog.transaction() as conn:
        upsert(conn, models, [row], ["name"])
        found = conn.execute(select(models.c.id).where(models.c.name == name)).scalar_one()
    return int(found)


def get_model(catalog: Catalog, name: str) -> Row[Any] | None:
    """The registry entry called ``name``, or None."""
    with catalog.engine.connect() as conn:
        return conn.execute(select(models).where(models.c.name == name)).first()


def list_models(catalog: Catalog) -> list[Row[Any]]:
    """Every registered model, newest first."""
    with catalog.engine.connect() as conn:
        return list(conn.execute(select(models).order_by(models.c.id.desc())))


def model_plots(metrics: Any) -> dict[str, Path]:
    """The training plots recorded in a registry entry's ``metrics`` (``{name: path}``)."""
    plots = metrics.get("plots") if isinstance(metrics, dict) else None
    if not isinstance(plots, dict):
        return {}
    return {str(k): Path(str(v)) for k, v in plots.items()}


def find_model_by_weights(catalog: Catalog, weights: Path | str) -> Row[Any] | None:
    """The newest registry entry whose weights are this file, or None."""
    path = str(Path(weights).resolve())
    with catalog.engine.connect() as conn:
        query = select(models).where(models.c.weights == path).order_by(models.c.id.desc())
        return conn.execute(query).first()


def record_export(catalog: Catalog, name: str, fmt: str, path: Path | str, imgsz: int) -> None:
    """Note an export of the model ``name`` in its params: ``exports["onnx@640"] = path``."""
    row = get_model(catalog, name)
    if row is None:
        return
    params = dict(row.params or {})
    exports = dict(params.get("exports") or {})
    exports[f"{fmt}@{imgsz}"] = str(Path(path).resolve())
    params["exports"] = exports
    with catalog.transaction() as conn:
        conn.execute(update(models).where(models.c.name == name).values(params=params))
