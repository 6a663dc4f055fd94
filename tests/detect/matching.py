"""Comparing the detections of two backends of one model, box for box, ties aside."""

from __future__ import annotations

import numpy as np

from vigie.types import Detections

NMS_IOU = 0.7
CONFIDENT = 0.1  # far above the 0.01 threshold: a box this sure is never a rounding artefact


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return np.asarray(inter / np.maximum(area + areas - inter, 1e-9))


def _suppressed_rightly(x: Detections, i: int, y: Detections) -> bool:
    """True when ``y``'s NMS had a reason to drop box ``i`` of ``x``: ``y`` kept a box of its
    class, at least as confident (within 0.01), overlapping it beyond about the NMS IoU.

    A weak model scores whole grids of near-identical boxes alike; which of two tied boxes
    survives, and so which boxes that survivor suppresses in turn, depends on the last bits of
    each backend's arithmetic. Any other missing box is a real disagreement."""
    rivals = (y.class_id == x.class_id[i]) & (y.confidence >= x.confidence[i] - 0.01)
    return bool(rivals.any() and (_iou(x.xyxy[i], y.xyxy[rivals]) >= NMS_IOU - 0.05).any())


def _unmatched(a: Detections, b: Detections) -> list[int]:
    """Confident boxes of ``a`` with no box of ``b`` within 1 px, same class, same score."""
    missing = []
    for i in np.flatnonzero(a.confidence >= CONFIDENT):
        dist = np.abs(b.xyxy - a.xyxy[i]).max(axis=1) if len(b) else np.array([np.inf])
        near = (dist <= 1.0) & (b.class_id == a.class_id[i]) if len(b) else dist < 0
        if not (near & (np.abs(b.confidence - a.confidence[i]) <= 0.01)).any():
            missing.append(int(i))
    return missing


def match_detections(a: Detections, b: Detections, *, require_boxes: bool = True) -> int:
    """Assert that ``a`` and ``b`` hold the same confident boxes (see _suppressed_rightly);
    return how many confident boxes ``a`` has."""
    confident = int((a.confidence >= CONFIDENT).sum())
    assert confident > 0 or not require_boxes
    for x, y in ((a, b), (b, a)):
        missing = [i for i in _unmatched(x, y) if not _suppressed_rightly(x, i, y)]
        assert missing == [], f"boxes {x.xyxy[missing]} of one backend are absent from the other"
        # most confident boxes are found by both (ties aside, the backends agree box for box)
        assert len(_unmatched(x, y)) <= 0.5 * (x.confidence >= CONFIDENT).sum()
    return confident
