"""``vigie report``: a static HTML report (one folder, opens from disk) built from the catalog."""

from vigie.report.build import draw_boxes
from vigie.report.core import build_report
from vigie.report.data import read_results_csv

__all__ = ["build_report", "draw_boxes", "read_results_csv"]
