"""The two detector backends: same boxes, classes and confidences on the same model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.models import TRAFFIC_CLASSES, traffic_scene
from vigie.detect import load_detector
from vigie.errors import ConfigError, ModelError
from vigie.types import Detections

pytestmark = pytest.mark.slow


def _images() -> list[np.ndarray]:
    wide = np.ascontiguousarray(
        np.concatenate([traffic_scene(160, seed=5)[0], traffic_scene(160, seed=6)[0]], axis=1)
    )
    return [traffic_scene(160, seed=1)[0], traffic_scene(160, seed=2)[0], wide]


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


def _match(a: Detections, b: Detections) -> None:
    assert (a.confidence >= CONFIDENT).sum() > 0
    for x, y in ((a, b), (b, a)):
        missing = [i for i in _unmatched(x, y) if not _suppressed_rightly(x, i, y)]
        assert missing == [], f"boxes {x.xyxy[missing]} of one backend are absent from the other"
        # most confident boxes are found by both (ties aside, the backends agree box for box)
        assert len(_unmatched(x, y)) <= 0.5 * (x.confidence >= CONFIDENT).sum()


def test_onnx_and_torch_backends_give_the_same_detections(tiny_model: Path) -> None:
    kwargs = {"conf": 0.01, "iou": 0.7, "imgsz": 160}
    torch_det = load_detector(tiny_model, backend="torch", **kwargs)
    onnx_det = load_detector(tiny_model, backend="onnx", **kwargs)
    assert torch_det.names == onnx_det.names == dict(enumerate(TRAFFIC_CLASSES))
    images = _images()
    for a, b, img in zip(torch_det.predict(images), onnx_det.predict(images), images, strict=True):
        assert (a.image_height, a.image_width) == img.shape[:2]
        _match(a, b)


def test_onnx_export_is_cached_next_to_the_weights(tiny_model: Path) -> None:
    load_detector(tiny_model, backend="onnx", imgsz=160)
    cached = sorted(tiny_model.parent.glob(f"{tiny_model.stem}.*.160.onnx"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    load_detector(tiny_model, backend="onnx", imgsz=160)
    assert cached[0].stat().st_mtime_ns == mtime


def test_class_filter_keeps_only_the_requested_classes(tiny_model: Path) -> None:
    det = load_detector(tiny_model, conf=0.01, imgsz=160, classes=[0, 2])
    found = det.predict(_images())
    assert all(set(d.class_id.tolist()) <= {0, 2} for d in found)


def test_missing_weights_offline_is_a_clear_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_OFFLINE", "1")
    with pytest.raises(ModelError, match="model not found"):
        load_detector("yolo11n.pt")


def test_predict_refuses_a_grayscale_array(tiny_model: Path) -> None:
    det = load_detector(tiny_model, imgsz=160)
    with pytest.raises(ConfigError):
        det.predict([np.zeros((10, 10), np.uint8)])
