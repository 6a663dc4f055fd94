"""`vigie.Detections`: indexing and filtering as supervision does, adapters to and from it."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest

from vigie.errors import DependencyError
from vigie.types import Detection, Detections

NAMES = {0: "Car", 1: "Pedestrian", 2: "Bus"}


def _dets() -> Detections:
    return Detections(
        np.array(
            [[10, 10, 50, 50], [60, 10, 180, 50], [10, 60, 50, 180], [0, 0, 5, 5]], np.float32
        ),
        np.array([0.9, 0.4, 0.7, 0.2], np.float32),
        np.array([0, 1, 0, 2], np.int64),
        NAMES,
        200,
        200,
    )


def test_indexing_and_masks_return_new_detections() -> None:
    d = _dets()
    high = d[d.confidence > 0.5]
    assert isinstance(high, Detections) and len(high) == 2
    assert high.xyxy.tolist() == [[10, 10, 50, 50], [10, 60, 50, 180]]
    assert high.names == NAMES and (high.image_width, high.image_height) == (200, 200)
    assert d[d.class_id == 2].confidence.tolist() == pytest.approx([0.2])
    assert len(d[0]) == 1 and d[0].xyxy.shape == (1, 4)  # an int keeps a Detections
    assert d[-1].class_id.tolist() == [2]
    assert d[1:3].class_id.tolist() == [1, 0]
    assert d[[0, 2]].confidence.tolist() == pytest.approx([0.9, 0.7])
    assert d[np.array([3, 0])].class_id.tolist() == [2, 0]
    assert d["class_name"].tolist() == ["Car", "Pedestrian", "Car", "Bus"]
    sub = d[[0]]
    sub.xyxy[0, 0] = -1  # a copy: the original is untouched
    assert d.xyxy[0, 0] == 10


def test_iteration_gives_detection_records() -> None:
    records = list(_dets())
    assert all(isinstance(r, Detection) for r in records) and len(records) == 4
    assert records[2].class_name == "Car" and records[2].area == 40 * 120
    assert _dets().area.tolist() == [1600, 4800, 4800, 25]


def test_empty_detections_index_to_empty_detections() -> None:
    empty = Detections.empty(NAMES, 640, 480)
    assert len(empty) == 0 and empty.is_empty()
    assert len(empty[empty.confidence > 0.5]) == 0 and len(empty[0]) == 0
    assert list(empty) == [] and empty["class_name"].tolist() == []
    with pytest.raises(KeyError, match="class_name"):
        _dets()["tracker_id"]
    with pytest.raises(IndexError):
        _dets()[7]


def test_indexing_matches_supervision() -> None:
    sv = pytest.importorskip("supervision")
    ours = _dets()
    theirs = sv.Detections(xyxy=ours.xyxy, confidence=ours.confidence, class_id=ours.class_id)
    indexes: list[Any] = [0, -1, slice(1, 3), [0, 2], np.array([3, 1]), ours.confidence > 0.5]
    for index in indexes:
        assert ours[index].xyxy.tolist() == theirs[index].xyxy.tolist(), index
        assert ours[index].class_id.tolist() == theirs[index].class_id.tolist(), index
    empty = Detections.empty(NAMES, 10, 10)
    assert len(empty[0]) == len(sv.Detections.empty()[0]) == 0


class _Tensor:
    """What a torch tensor offers to the adapter: .cpu().numpy()."""

    def __init__(self, values: list[Any]) -> None:
        self.values = np.array(values)

    def cpu(self) -> _Tensor:
        return self

    def numpy(self) -> np.ndarray:
        return self.values


class _Boxes:
    def __init__(self) -> None:
        self.xyxy = _Tensor([[1.0, 2.0, 30.0, 40.0], [5.0, 5.0, 9.0, 9.0]])
        self.conf = _Tensor([0.8, 0.3])
        self.cls = _Tensor([2.0, 0.0])


class _Result:
    def __init__(self) -> None:
        self.names = {0: "Car", 1: "Pedestrian", 2: "Bus"}
        self.orig_shape = (480, 640)
        self.boxes = _Boxes()


def test_from_ultralytics_reads_a_result_without_importing_ultralytics() -> None:
    d = Detections.from_ultralytics(_Result())
    assert d.xyxy.dtype == np.float32 and d.class_id.dtype == np.int64
    assert d.class_id.tolist() == [2, 0] and d.confidence.tolist() == pytest.approx([0.8, 0.3])
    assert (d.image_width, d.image_height) == (640, 480)
    assert d["class_name"].tolist() == ["Bus", "Car"]
    none = type("R", (), {"names": ["Car"], "orig_shape": (10, 20), "boxes": None})()
    assert len(Detections.from_ultralytics(none)) == 0


def test_from_ultralytics_matches_supervision_on_a_real_results_object() -> None:
    sv = pytest.importorskip("supervision")
    torch = pytest.importorskip("torch")
    results = pytest.importorskip("ultralytics.engine.results")
    data = torch.tensor([[10.0, 20.0, 50.0, 60.0, 0.9, 1.0], [0.0, 0.0, 8.0, 8.0, 0.4, 2.0]])
    res = results.Results(np.zeros((100, 120, 3), np.uint8), "x.jpg", NAMES, boxes=data)
    ours, theirs = Detections.from_ultralytics(res), sv.Detections.from_ultralytics(res)
    assert ours.xyxy.tolist() == theirs.xyxy.tolist()
    assert ours.class_id.tolist() == theirs.class_id.tolist()
    assert ours["class_name"].tolist() == theirs.data["class_name"].tolist()
    assert (ours.image_width, ours.image_height) == (120, 100)


def test_to_and_from_supervision_round_trip() -> None:
    pytest.importorskip("supervision")
    d = _dets()
    sv_dets = d.to_supervision()
    assert sv_dets.xyxy.tolist() == d.xyxy.tolist()
    assert sv_dets.data["class_name"].tolist() == ["Car", "Pedestrian", "Car", "Bus"]
    back = Detections.from_supervision(sv_dets, image_width=200, image_height=200)
    assert back.names == NAMES and back.class_id.tolist() == d.class_id.tolist()
    assert back.confidence.tolist() == pytest.approx(d.confidence.tolist())


def test_to_supervision_without_supervision_names_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "supervision", None)
    with pytest.raises(DependencyError, match="supervision") as info:
        _dets().to_supervision()
    assert "pip install supervision" in (info.value.hint or "")
