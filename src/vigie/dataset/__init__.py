"""YOLO datasets: build train/val from pulled annotations (group-aware split), check them.

Public API:

- :func:`build_dataset` - ``images/`` + ``labels/`` -> ``images/{train,val}``, ``labels/{train,val}``,
  ``data.yaml``; near-duplicates and frames of one video stay on one side;
- :func:`check_dataset` - missing/orphan labels, empty labels, malformed or out-of-bounds boxes,
  class counts per split.
"""

from vigie.dataset.build import BuildResult, build_dataset
from vigie.dataset.check import CheckReport, Issue, check_dataset
from vigie.dataset.split import group_items, split_groups, video_of_name

__all__ = [
    "BuildResult",
    "CheckReport",
    "Issue",
    "build_dataset",
    "check_dataset",
    "group_items",
    "split_groups",
    "video_of_name",
]
