"""Vigie: from raw camera and study media to analysed results.

The public API is a handful of functions, one per stage; each takes explicit arguments and returns
typed records (see :mod:`vigie.types`). They are loaded on first use so ``import vigie`` stays
light (no numpy, av or torch); editors and type checkers see them through the imports under
``TYPE_CHECKING`` below, which name the same objects as ``_API``::

    import vigie
    result = vigie.capture(urls=["http://127.0.0.1:8000/cam.jpg"], every=1, count=3, out="caps")
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what `_API` loads at run time, visible to type checkers and editors
    from vigie.capture import capture as capture
    from vigie.capture import list_cameras as list_cameras
    from vigie.catalog import Catalog as Catalog
    from vigie.config import load_settings as load_settings
    from vigie.dataset import build_dataset as build_dataset
    from vigie.dataset import check_dataset as check_dataset
    from vigie.dataset import export_dataset as export_dataset
    from vigie.dataset import import_dataset as import_dataset
    from vigie.dedup import find_duplicates as find_duplicates
    from vigie.demo import run_demo as run_demo
    from vigie.detect import detect as detect
    from vigie.detect import export_model as export_model
    from vigie.detect import load_detector as load_detector
    from vigie.detections import Detections as Detections
    from vigie.download import download as download
    from vigie.frames import extract_frames as extract_frames
    from vigie.frames import probe as probe_video
    from vigie.links import build_links as build_links
    from vigie.report import build_report as build_report
    from vigie.track import make_tracker as make_tracker
    from vigie.track import track as track
    from vigie.train import train as train
    from vigie.types import Detection as Detection

try:
    __version__ = version("vigie-cv")
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
    "export_dataset": "vigie.dataset:export_dataset",
    "import_dataset": "vigie.dataset:import_dataset",
    "train": "vigie.train:train",
    "load_detector": "vigie.detect:load_detector",
    "detect": "vigie.detect:detect",
    "export_model": "vigie.detect:export_model",
    "Detections": "vigie.detections:Detections",
    "Detection": "vigie.types:Detection",
    "track": "vigie.track:track",
    "make_tracker": "vigie.track:make_tracker",
    "build_report": "vigie.report:build_report",
    "run_demo": "vigie.demo:run_demo",
}

# a literal list, so that static tools read it; tests/test_api.py checks it matches _API
__all__ = [
    "Catalog",
    "Detection",
    "Detections",
    "__version__",
    "build_dataset",
    "build_links",
    "build_report",
    "capture",
    "check_dataset",
    "detect",
    "download",
    "export_dataset",
    "export_model",
    "extract_frames",
    "find_duplicates",
    "import_dataset",
    "list_cameras",
    "load_detector",
    "load_settings",
    "make_tracker",
    "probe_video",
    "run_demo",
    "track",
    "train",
]


def __getattr__(name: str) -> Any:
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'vigie' has no attribute {name!r}")
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)
