"""Every query of the dashboard: the HTML pages and the JSON endpoints call these same functions.

Each returns plain JSON-able data (dicts, lists, ISO 8601 dates in UTC) read through a read-only
:class:`~vigie.catalog.Catalog` (``Catalog.read_only``). Lists that grow with the catalog are
paged in SQL: the detections grid by keyset on the media item id (newest first), so page 2,000 of
100,000 detections costs what page 1 does. Counts per class over time, per study, and the models
come from the static report's loaders (``vigie.report.data``).
"""

from vigie.serve.queries.cameras import camera, cameras
from vigie.serve.queries.common import media_path, safe_url
from vigie.serve.queries.detections import (
    COUNT_CAP,
    PAGE_SIZE,
    DetectionFilter,
    detection_choices,
    detection_item,
    detection_page,
)
from vigie.serve.queries.overview import counts, download_runs, downloads, models
from vigie.serve.queries.videos import annotated_path, video, videos

__all__ = [
    "COUNT_CAP",
    "PAGE_SIZE",
    "DetectionFilter",
    "annotated_path",
    "camera",
    "cameras",
    "counts",
    "detection_choices",
    "detection_item",
    "detection_page",
    "download_runs",
    "downloads",
    "media_path",
    "models",
    "safe_url",
    "video",
    "videos",
]
