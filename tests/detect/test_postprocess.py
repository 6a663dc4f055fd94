"""The numpy pre- and post-processing of the ONNX backend: one batch tensor, same as before."""

from __future__ import annotations

import numpy as np
import pytest

from vigie.detect.postprocess import decode_predictions, letterbox, preprocess, to_tensor


def _frames(h: int, w: int, n: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(h * w)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


@pytest.mark.parametrize(
    ("h", "w", "imgsz"), [(360, 640, 640), (360, 640, 320), (120, 160, 160), (97, 203, 128)]
)
def test_the_batch_tensor_is_the_letterboxed_stack_exactly(h: int, w: int, imgsz: int) -> None:
    frames = _frames(h, w)
    expected = to_tensor([letterbox(f, imgsz, 32).array for f in frames])
    got = preprocess(frames, imgsz, 32)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.array_equal(got, expected)


def test_a_spare_tensor_large_enough_is_written_into() -> None:
    spare = preprocess(_frames(360, 640, 4), 640)
    got = preprocess(_frames(360, 640, 2), 640, out=spare)
    assert got.base is spare and got.shape[0] == 2
    assert np.array_equal(got, to_tensor([letterbox(f, 640).array for f in _frames(360, 640, 2)]))
    other = preprocess(_frames(120, 160, 2), 640, out=spare)  # another picture size: a new one
    assert other.base is None and other.shape[2:] == (480, 640)


def _reference_rows(pred: np.ndarray, conf: float) -> np.ndarray:
    x = pred.T
    return x[x[:, 4:].max(1) > conf]


def test_decoding_keeps_the_anchors_above_the_threshold() -> None:
    rng = np.random.default_rng(0)
    pred = rng.random((4 + 3, 50), dtype=np.float32)
    pred[:4] *= 100
    pred[2:4] += 5  # widths and heights
    rows = decode_predictions(pred, conf=0.8, iou=0.99)
    kept = _reference_rows(pred, 0.8)
    assert 0 < len(rows) <= len(kept)
    assert set(rows[:, 4].tolist()) <= set(kept[:, 4:].max(1).tolist())
    assert decode_predictions(pred, conf=1.0, iou=0.5).shape == (0, 6)
