"""``vigie report``: a static HTML report (one folder, opens from disk) built from the catalog.

Public API: :func:`build_report` (the stage core: the report as a recorded run), the result-file
reader :func:`read_results_csv`, and what ``vigie serve`` shares with the report: the catalog
readers (``load_*``, :func:`study_platform_names`), the SVG chart primitives (:func:`legend`,
:func:`line_chart`, :func:`stacked_bars`, :func:`timeline`, :func:`color`) and their palettes.
"""

from vigie.report.build import SIZE_COLORS, STATUS_COLORS, draw_boxes
from vigie.report.core import build_report
from vigie.report.data import (
    SIZE_ORDER,
    load_camera_series,
    load_models,
    load_study_objects,
    read_results_csv,
    study_platform_names,
)
from vigie.report.svg import color, legend, line_chart, stacked_bars, timeline

__all__ = [
    "SIZE_COLORS",
    "SIZE_ORDER",
    "STATUS_COLORS",
    "build_report",
    "color",
    "draw_boxes",
    "legend",
    "line_chart",
    "load_camera_series",
    "load_models",
    "load_study_objects",
    "read_results_csv",
    "stacked_bars",
    "study_platform_names",
    "timeline",
]
