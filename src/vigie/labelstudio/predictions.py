"""Pre-annotations: a detector's boxes as Label Studio predictions with a model version."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.errors import ModelError

if TYPE_CHECKING:
    from vigie.catalog import Catalog
    from vigie.labelstudio.project import LabelConfig
    from vigie.types import Detections, Detector

log = logging.getLogger(__name__)


def detections_to_result(dets: Detections, config: LabelConfig) -> tuple[list[dict[str, Any]], int]:
    """Label Studio ``result`` items (percent boxes) for the boxes whose class is a project label.

    Returns the items and the number of boxes dropped because their class is not a label.
    """
    w, h = float(dets.image_width), float(dets.image_height)
    labels = set(config.labels)
    items: list[dict[str, Any]] = []
    dropped = 0
    for det in dets.to_records():
        if det.class_name not in labels or w <= 0 or h <= 0:
            dropped += 1
            continue
        x1, y1 = max(0.0, det.x1), max(0.0, det.y1)
        x2, y2 = min(w, det.x2), min(h, det.y2)
        if x2 <= x1 or y2 <= y1:
            dropped += 1
            continue
        items.append(
            {
                "from_name": config.from_name,
                "to_name": config.to_name,
                "type": "rectanglelabels",
                "original_width": int(w),
                "original_height": int(h),
                "image_rotation": 0,
                "score": round(det.confidence, 4),
                "value": {
                    "x": 100.0 * x1 / w,
                    "y": 100.0 * y1 / h,
                    "width": 100.0 * (x2 - x1) / w,
                    "height": 100.0 * (y2 - y1) / h,
                    "rotation": 0,
                    "rectanglelabels": [det.class_name],
                },
            }
        )
    return items, dropped


class Predictor:
    """Runs a detector on image files and shapes its boxes as predictions.

    Args:
        detector: anything with ``predict(list[RGB array]) -> list[Detections]``.
        model_version: the version string shown in Label Studio.
    """

    def __init__(self, detector: Detector, model_version: str, batch: int = 8) -> None:
        self.detector = detector
        self.model_version = model_version
        self.batch = batch
        self.dropped = 0

    @classmethod
    def from_model(
        cls,
        model: Path | str,
        conf: float = 0.25,
        catalog: Catalog | None = None,
        device: str | None = None,
    ) -> Predictor:
        """Load ``model`` with the detect stage (torch backend) and name the version by hash.

        ``model`` is a weights file or a name registered by `vigie train` (in ``catalog``),
        resolved as every stage resolves ``--model`` (:func:`vigie.train.resolve_model`).

        Raises:
            ModelError: no such weights or registered name.
        """
        from vigie.detect import load_detector
        from vigie.train import resolve_model

        resolved = resolve_model(model, catalog)
        if resolved.kind != "weights" or resolved.path is None:
            raise ModelError(
                f"model not found: {model}",
                hint="give a .pt file or a model name registered by `vigie train`",
            )
        detector = load_detector(resolved.path, backend="torch", conf=conf, device=device)
        digest = hashlib.sha256(resolved.path.read_bytes()).hexdigest()[:8]
        name = resolved.registry_name or resolved.path.stem
        return cls(detector, f"{name}-{digest}")

    def predict(self, paths: Sequence[Path], config: LabelConfig) -> list[dict[str, Any] | None]:
        """One prediction dict (model_version, score, result) per path; None when unreadable."""
        import numpy as np
        from PIL import Image

        out: list[dict[str, Any] | None] = []
        for start in range(0, len(paths), self.batch):
            arrays: list[Any] = []
            ok: list[bool] = []
            for p in paths[start : start + self.batch]:
                try:
                    with Image.open(p) as im:
                        arrays.append(np.asarray(im.convert("RGB")))
                    ok.append(True)
                except OSError as exc:
                    log.warning("cannot read %s for predictions: %s", p, exc)
                    ok.append(False)
            dets = iter(self.detector.predict(arrays) if arrays else [])
            for good in ok:
                if not good:
                    out.append(None)
                    continue
                result, dropped = detections_to_result(next(dets), config)
                self.dropped += dropped
                scores = [r["score"] for r in result]
                out.append(
                    {
                        "model_version": self.model_version,
                        "score": round(sum(scores) / len(scores), 4) if scores else 0.0,
                        "result": result,
                    }
                )
        return out
