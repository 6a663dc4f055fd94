"""`vigie dataset export` / `vigie dataset import` as docs/dataset.md shows them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.dataset.conftest import read_labels
from vigie.cli import app

runner = CliRunner()


def test_cli_export_and_import_round_trip_through_coco_and_voc(
    yolo_dataset: Path, tmp_path: Path
) -> None:
    for fmt in ("coco", "voc"):
        out, back = tmp_path / fmt, tmp_path / f"{fmt}-back"
        res = runner.invoke(
            app, ["dataset", "export", str(yolo_dataset), "--format", fmt, "--out", str(out)]
        )
        assert res.exit_code == 0, res.output
        assert f"{fmt}: 6 images (train 4, val 2)" in res.output
        res = runner.invoke(
            app, ["dataset", "import", str(out), "--format", fmt, "--out", str(back), "--copy"]
        )
        assert res.exit_code == 0, res.output
        assert read_labels(back).keys() == read_labels(yolo_dataset).keys()
        assert not (back / "images" / "train" / "cam_001.jpg").samefile(
            yolo_dataset / "images" / "train" / "cam_001.jpg"
        )
        check = runner.invoke(app, ["dataset", "check", str(back), "--warn-only"])
        assert check.exit_code == 0 and "0 errors" in check.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{broken", "is not valid JSON"),
        ('[{"image_id": 1, "category_id": 0, "bbox": [0, 0, 1, 1], "score": 0.9}]', "results"),
        ('{"images": [{"id": 1, "file_name": "gone.jpg", "width": 9, "height": 9}], '
         '"annotations": [], "categories": [{"id": 0, "name": "Car"}]}', "no usable image"),
    ],
)  # fmt: skip
def test_cli_import_of_a_bad_coco_file_is_one_error_line(
    tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    res = runner.invoke(
        app, ["dataset", "import", str(bad), "--format", "coco", "-o", str(tmp_path / "o")]
    )
    assert res.exit_code == 1
    assert message in res.output and "error:" in res.output
    assert "Traceback" not in res.output


def test_cli_import_lists_per_item_warnings(yolo_dataset: Path, tmp_path: Path) -> None:
    runner.invoke(
        app, ["dataset", "export", str(yolo_dataset), "-f", "coco", "-o", str(tmp_path / "c")]
    )
    ann = tmp_path / "c" / "annotations" / "instances_train.json"
    data = json.loads(ann.read_text())
    data["annotations"][0]["category_id"] = 42
    data["annotations"][1]["bbox"] = [150, 100, 40, 40]  # leaves a 160x120 image
    ann.write_text(json.dumps(data))
    (tmp_path / "c" / "images" / "train" / "cam_002.jpg").unlink()
    res = runner.invoke(
        app, ["dataset", "import", str(tmp_path / "c"), "-f", "coco", "-o", str(tmp_path / "y")]
    )
    assert res.exit_code == 0, res.output
    assert "unknown category 42" in res.output
    assert "cam_002.jpg: image file not found" in res.output
    assert "clipped" in res.output or "outside" in res.output
    assert "5 images" in res.output


def test_cli_rejects_an_unknown_format(yolo_dataset: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["dataset", "export", str(yolo_dataset), "-f", "kitti", "-o", str(tmp_path)]
    )
    assert res.exit_code == 2 and "kitti" in res.output
