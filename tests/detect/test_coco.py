"""`vigie detect --coco`: a COCO results file that pycocotools loads and COCOeval scores."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.dataset.conftest import NAMES, make_yolo_dataset
from vigie.cli import app
from vigie.dataset import export_dataset
from vigie.detect import decode_image
from vigie.detect.coco import CocoResults
from vigie.errors import ConfigError
from vigie.types import Detections

runner = CliRunner()


def _digest(image: np.ndarray) -> str:
    return hashlib.sha256(image.tobytes()).hexdigest()


class OracleDetector:
    """Answers the ground truth of a COCO split (found by pixel digest), plus one wrong box."""

    backend = "oracle"
    label = "oracle"

    def __init__(self, instances: Path, images: Path) -> None:
        data = json.loads(instances.read_text())
        self.names = {c["id"]: c["name"] for c in data["categories"]}
        self.classes: list[int] | None = None
        by_id = {im["id"]: im["file_name"] for im in data["images"]}
        self.truth: dict[str, list[tuple[int, list[float]]]] = {}
        for file in by_id.values():
            self.truth[_digest(decode_image(images / file))] = []
        for ann in data["annotations"]:
            digest = _digest(decode_image(images / by_id[ann["image_id"]]))
            self.truth[digest].append((ann["category_id"], ann["bbox"]))

    def predict(self, images: list[Any]) -> list[Detections]:
        out = []
        for img in images:
            boxes = self.truth.get(_digest(img), [])
            xyxy = [[x, y, x + w, y + h] for _, (x, y, w, h) in boxes]
            out.append(
                Detections(
                    np.array([*xyxy, [0, 0, 3, 3]], np.float32).reshape(-1, 4),
                    np.array([0.9] * len(boxes) + [0.1], np.float32),
                    np.array([c for c, _ in boxes] + [0], np.int64),
                    self.names,
                    img.shape[1],
                    img.shape[0],
                )
            )
        return out


def _coco_eval(gt_file: Path, results: Path) -> list[float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        gt = COCO(str(gt_file))
        evaluation = COCOeval(gt, gt.loadRes(str(results)), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return [float(v) for v in evaluation.stats]


@pytest.fixture
def coco_split(tmp_path: Path) -> tuple[Path, Path]:
    """(instances_val.json, images/val) of a small dataset exported by `vigie dataset export`."""
    export_dataset(make_yolo_dataset(tmp_path / "yolo"), tmp_path / "coco", format="coco")
    return (
        tmp_path / "coco" / "annotations" / "instances_val.json",
        tmp_path / "coco" / "images" / "val",
    )


def test_detect_coco_results_score_ap_1_against_the_exported_dataset(
    coco_split: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instances, images = coco_split
    oracle = OracleDetector(instances, images)
    monkeypatch.setattr("vigie.detect.backends.load_detector", lambda *a, **k: oracle)
    results = tmp_path / "out" / "detections.coco.json"
    res = runner.invoke(
        app,
        ["-w", str(tmp_path / "ws"), "detect", str(images), "-m", "oracle.pt",
         "--out", str(tmp_path / "out"), "--coco", str(results), "--coco-gt", str(instances)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert f"coco results: {results}" in res.output
    rows = json.loads(results.read_text())
    assert {"image_id", "category_id", "bbox", "score"} == set(rows[0])
    gt_ids = {im["id"] for im in json.loads(instances.read_text())["images"]}
    assert {r["image_id"] for r in rows} == gt_ids
    stats = _coco_eval(instances, results)
    assert stats[0] == pytest.approx(1.0)  # mAP@[.5:.95]: every true box found, wrong one lower
    assert not (tmp_path / "out" / "detections.coco.images.json").exists()
    assert (tmp_path / "out" / "detection_jsons" / "cam_101.json").is_file()  # the usual outputs


def test_detect_coco_without_a_dataset_writes_its_own_images_file(
    coco_split: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigie.detect import detect

    instances, images = coco_split
    oracle = OracleDetector(instances, images)
    monkeypatch.setattr("vigie.detect.backends.load_detector", lambda *a, **k: oracle)
    result = detect(images, model="oracle.pt", out=tmp_path / "out", coco=tmp_path / "det.json")
    assert result.coco == tmp_path / "det.json"
    own = tmp_path / "det.images.json"
    data = json.loads(own.read_text())
    assert [im["file_name"] for im in data["images"]] == ["cam_101.jpg", "shot_102.png"]
    assert [c["name"] for c in data["categories"]] == NAMES
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        loaded = COCO(str(own)).loadRes(str(tmp_path / "det.json"))
    assert len(loaded.getAnnIds()) == len(json.loads((tmp_path / "det.json").read_text()))
    # the exported dataset numbers the same sorted files the same way: ids line up
    assert _coco_eval(instances, tmp_path / "det.json")[0] == pytest.approx(1.0)


def _dets(names: dict[int, str], classes: list[int]) -> Detections:
    n = len(classes)
    return Detections(
        np.tile(np.array([[1, 2, 11, 22]], np.float32), (n, 1)),
        np.full(n, 0.5, np.float32),
        np.array(classes, np.int64),
        names,
        100,
        80,
    )


def test_coco_results_map_by_file_and_class_name_and_report_the_rest(tmp_path: Path) -> None:
    gt = tmp_path / "gt.json"
    gt.write_text(
        json.dumps(
            {
                "images": [
                    {"id": 40, "file_name": "sub/a.jpg", "width": 100, "height": 80},
                    {"id": 41, "file_name": "b.jpg", "width": 100, "height": 80},
                ],
                "annotations": [],
                "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "bus"}],
            }
        )
    )
    sink = CocoResults(tmp_path / "r.json", gt)
    model_names = {0: "Car", 1: "Bus", 2: "Tram"}
    sink.add(Path("sub/a.jpg"), _dets(model_names, [0, 1, 2]))
    sink.add(Path("other/b.jpg"), _dets(model_names, [1]))  # matched by its bare name
    sink.add(Path("c.jpg"), _dets(model_names, [0]))  # not in the dataset
    rows = json.loads(sink.write().read_text())
    assert [(r["image_id"], r["category_id"]) for r in rows] == [(40, 1), (40, 2), (41, 2)]
    assert rows[0]["bbox"] == [1.0, 2.0, 10.0, 20.0]
    assert sink.unmatched_images == ["c.jpg"] and sink.unmatched_classes == {"Tram": 1}


@pytest.mark.parametrize(
    ("content", "message"),
    [("{oops", "not valid JSON"), ("[]", "results file"), ('{"images": []}', "categories")],
)
def test_a_bad_coco_gt_is_a_config_error(tmp_path: Path, content: str, message: str) -> None:
    gt = tmp_path / "gt.json"
    gt.write_text(content)
    with pytest.raises(ConfigError, match=message):
        CocoResults.open(tmp_path / "r.json", gt)
    with pytest.raises(ConfigError, match="needs --coco"):
        CocoResults.open(None, gt)
    assert CocoResults.open(None, None) is None
