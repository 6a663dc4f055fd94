"""The catalog: what exists, where it came from, and which stage has finished with it."""

from vigie.catalog.migrations import SCHEMA_VERSION, add_column
from vigie.catalog.runs import stage_run
from vigie.catalog.schema import media_items, metadata, runs, sources
from vigie.catalog.store import Catalog, RunHandle, upsert, utcnow

# Stage tables register themselves on `metadata`; import them so every catalog has them.
from vigie.catalog import detections, labelstudio, models, tracks  # noqa: F401  isort: skip

__all__ = [
    "SCHEMA_VERSION",
    "Catalog",
    "RunHandle",
    "add_column",
    "media_items",
    "metadata",
    "runs",
    "sources",
    "stage_run",
    "upsert",
    "utcnow",
]
