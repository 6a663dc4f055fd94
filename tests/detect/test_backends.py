"""The two detector backends: same boxes, classes and confidences on the same model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.detect.matching import match_detections as _match
from tests.fixtures.models import TRAFFIC_CLASSES, traffic_scene
from vigie.detect import load_detector
from vigie.errors import ConfigError, ModelError

pytestmark = pytest.mark.slow


def _images() -> list[np.ndarray]:
    wide = np.ascontiguousarray(
        np.concatenate([traffic_scene(160, seed=5)[0], traffic_scene(160, seed=6)[0]], axis=1)
    )
    return [traffic_scene(160, seed=1)[0], traffic_scene(160, seed=2)[0], wide]


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
