"""Vigie: from raw camera and study media to analysed results.

The public API is a handful of functions, one per stage; each takes explicit arguments and returns
typed records (see :mod:`vigie.types`). They are loaded on first use so ``import vigie`` stays
light::

    import vigie
    result = vigie.capture(urls=["http://127.0.0.1:8000/cam.jpg"], every=1, count=3, out="caps")
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("vigie")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+local"

# public name -> "module:attribute"
_API = {
    "load_settings": "vigie.config:load_settings",
    "Catalog": "vigie.catalog:Catalog",
    "capture": "vigie.capture:capture",
    "list_cameras": "vigie.capture:list_cameras",
    "find_duplicates": "vigie.dedup:find_duplicates",
    "build_links": "vigie.links:build_links",
    "download": "vigie.download:download",
    "probe_video": "vigie.frames:probe",
    "extract_frames": "vigie.frames:extract_frames",
    "build_dataset": "vigie.dataset:build_dataset",
    "check_dataset": "vigie.dataset:check_dataset",
    "train": "vigie.train:train",
    "load_detector": "vigie.detect:load_detector",
    "detect": "vigie.detect:detect",
    "track": "vigie.track:track",
    "make_tracker": "vigie.track:make_tracker",
    "build_report": "vigie.report:build_report",
    "run_demo": "vigie.demo:run_demo",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'vigie' has no attribute {name!r}")
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)
