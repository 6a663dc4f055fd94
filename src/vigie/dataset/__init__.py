"""YOLO datasets: build train/val from pulled annotations (group-aware split), check them.

Public API:

- :func:`build_dataset` - ``images/`` + ``labels/`` -> ``images/{train,val}``, ``labels/{train,val}``,
  ``data.yaml``; near-duplicates and frames of one video stay on one side;
- :func:`check_dataset` - missing/orphan labels, empty labels, malformed or out-of-bounds boxes,
  class counts per split;
- :func:`export_dataset` / :func:`import_dataset` - YOLO <-> COCO and Pascal VOC, class ids kept;
  the text readers :func:`parse_coco`, :func:`parse_voc` and :func:`parse_yolo_labels` need no disk.
"""

from vigie.dataset.build import BuildResult, build_dataset
from vigie.dataset.check import CheckReport, Issue, check_dataset
from vigie.dataset.coco import coco_index, coco_text, parse_coco
from vigie.dataset.convert import export_dataset, import_dataset
from vigie.dataset.formats import FORMATS, Box, ConvertResult, LabelledDataset, LabelledImage
from vigie.dataset.split import group_items, split_groups, video_of_name
from vigie.dataset.voc import parse_voc, voc_xml
from vigie.dataset.yolo_io import parse_yolo_labels, yolo_label_text

__all__ = [
    "FORMATS",
    "Box",
    "BuildResult",
    "CheckReport",
    "ConvertResult",
    "Issue",
    "LabelledDataset",
    "LabelledImage",
    "build_dataset",
    "check_dataset",
    "coco_index",
    "coco_text",
    "export_dataset",
    "group_items",
    "import_dataset",
    "parse_coco",
    "parse_voc",
    "parse_yolo_labels",
    "split_groups",
    "video_of_name",
    "voc_xml",
    "yolo_label_text",
]
