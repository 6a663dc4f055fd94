"""``vigie detect --coco FILE``: detections as a COCO results file, scored by pycocotools.

The results file is the list COCO's ``loadRes`` reads: ``{image_id, category_id, bbox
[x, y, w, h], score}`` per box. Image and category ids come from

- ``--coco-gt dataset.json`` (a COCO dataset, e.g. one ``vigie dataset export`` wrote): images
  by file name (the path relative to the detected folder, else the bare name), categories by
  name; detections on images or of classes the dataset does not have are left out (warning);
- otherwise: images numbered 1..N in file order, categories = the model's class ids, and an
  images/categories file ``<stem>.images.json`` written beside it, so that
  ``COCO("<stem>.images.json").loadRes("<stem>.json")`` works without a dataset.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from vigie.detections import Detections
from vigie.errors import ConfigError
from vigie.files import write_atomic

log = logging.getLogger(__name__)


class CocoResults:
    """Collects detections image by image (call :meth:`add` in file order), then writes."""

    def __init__(self, path: Path | str, gt: Path | str | None = None) -> None:
        """Raises: ConfigError: the ``gt`` file is missing or not a COCO dataset."""
        self.path = Path(path)
        self.gt = Path(gt) if gt is not None else None
        self.results: list[dict[str, Any]] = []
        self.images: list[dict[str, Any]] = []
        self.names: dict[int, str] = {}
        self.unmatched_images: list[str] = []
        self.unmatched_classes: Counter[str] = Counter()
        self._gt_images: dict[str, int] = {}
        self._gt_by_name: dict[str, int] = {}
        self._gt_categories: dict[int, str] = {}
        if self.gt is not None:
            self._load_gt(self.gt)

    @classmethod
    def open(cls, path: Path | str | None, gt: Path | str | None) -> CocoResults | None:
        """A collector when ``path`` is given, else None.

        Raises:
            ConfigError: ``gt`` without ``path``, or a ``gt`` that is not a COCO dataset.
        """
        if path is None:
            if gt is not None:
                raise ConfigError("--coco-gt needs --coco", hint="add --coco detections.json")
            return None
        return cls(path, gt)

    def _load_gt(self, gt: Path) -> None:
        from vigie.dataset import coco_index
        from vigie.errors import DatasetError

        try:
            index = coco_index(gt.read_text(encoding="utf-8"), gt.name)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read --coco-gt {gt}: {exc}") from None
        except DatasetError as exc:
            raise ConfigError(f"--coco-gt: {exc.message}", hint=exc.hint) from None
        self._gt_images = index.images
        names = Counter(Path(f).name for f in index.images)
        self._gt_by_name = {
            Path(f).name: i for f, i in index.images.items() if names[Path(f).name] == 1
        }
        self._gt_categories = index.categories

    def add(self, file: Path | str, dets: Detections) -> None:
        """The detections of one image, ``file`` relative to the detected folder."""
        rel = Path(file).as_posix()
        self.names.update(dets.names)
        if self.gt is None:
            image_id = len(self.images) + 1
            self.images.append(
                {"id": image_id, "file_name": rel, "width": dets.image_width,
                 "height": dets.image_height}
            )  # fmt: skip
        else:
            found = self._gt_images.get(rel, self._gt_by_name.get(Path(rel).name))
            if found is None:
                self.unmatched_images.append(rel)
                return
            image_id = found
        categories = self._categories(dets.names)
        for box, score, cls in zip(dets.xyxy, dets.confidence, dets.class_id, strict=True):
            category = categories.get(int(cls))
            if category is None:
                self.unmatched_classes[dets.names.get(int(cls), str(int(cls)))] += 1
                continue
            x1, y1, x2, y2 = (float(v) for v in box)
            self.results.append(
                {
                    "image_id": image_id,
                    "category_id": category,
                    "bbox": [round(x1, 3), round(y1, 3), round(x2 - x1, 3), round(y2 - y1, 3)],
                    "score": round(float(score), 5),
                }
            )

    def _categories(self, names: dict[int, str]) -> dict[int, int]:
        """Model class id -> COCO category id (the same id without a dataset; by name with one)."""
        if self.gt is None:
            return {k: k for k in names}
        by_name = {v.lower(): k for k, v in self._gt_categories.items()}
        return {k: by_name[v.lower()] for k, v in names.items() if v.lower() in by_name}

    def write(self) -> Path:
        """Write the results (and without a dataset, the images/categories file)."""
        write_atomic(self.path, json.dumps(self.results) + "\n")
        if self.gt is None:
            dataset = {
                "info": {"description": "vigie detect: images and categories of the results"},
                "licenses": [],
                "images": self.images,
                "annotations": [],
                "categories": [{"id": k, "name": v} for k, v in sorted(self.names.items())],
            }
            write_atomic(self.images_path, json.dumps(dataset, indent=1) + "\n")
        if self.unmatched_images:
            log.warning(
                "--coco: %d images are not in %s and were left out (e.g. %s)",
                len(self.unmatched_images), self.gt, self.unmatched_images[0],
            )  # fmt: skip
        if self.unmatched_classes:
            left = ", ".join(f"{k} ({n})" for k, n in self.unmatched_classes.most_common())
            log.warning(
                "--coco: classes not among the categories of %s, left out: %s", self.gt, left
            )
        return self.path

    @property
    def images_path(self) -> Path:
        """``<stem>.images.json`` beside the results (written without ``--coco-gt``)."""
        return self.path.with_name(f"{self.path.stem}.images.json")
