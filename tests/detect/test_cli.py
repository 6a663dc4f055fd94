"""`vigie detect` as documented in docs/detect.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigie.catalog import Catalog
from vigie.catalog.models import register_model
from vigie.cli import app

runner = CliRunner()
pytestmark = pytest.mark.slow


def test_detect_folder_with_csv_prints_summary(
    tiny_model: Path, image_dir: Path, tmp_path: Path
) -> None:
    ws, out = tmp_path / "ws", tmp_path / "out"
    res = runner.invoke(
        app,
        ["-w", str(ws), "detect", str(image_dir), "--model", str(tiny_model), "--out", str(out),
         "--conf", "0.05", "--imgsz", "160", "--csv", "--save-crops"],
    )  # fmt: skip
    assert res.exit_code == 3, res.output  # broken.jpg failed: finished with failures
    assert "ms/image" in res.output and "failed 1" in res.output
    assert "broken.jpg" in res.output
    assert (out / "detections.csv").is_file()
    assert json.loads((out / "detection_jsons" / "street.json").read_text()) is not None


def test_detect_by_registered_name_with_torch_backend_and_class_names(
    tiny_model: Path, image_dir: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        register_model(cat, "tiny", tiny_model)
    res = runner.invoke(
        app,
        ["-w", str(ws), "detect", str(image_dir), "-m", "tiny", "--backend", "torch",
         "--conf", "0.05", "--imgsz", "160", "--classes", "Truck,Car", "--recursive"],
    )  # fmt: skip
    assert res.exit_code == 3, res.output
    assert "detections by tiny (torch)" in res.output
    assert (ws / "detection_jsons" / "sub" / "deep.json").is_file()


def test_detect_into_study_database(tiny_model: Path, image_dir: Path, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from vigie.studydb import create_schema

    url = f"sqlite:///{tmp_path / 'study.db'}"
    create_schema(create_engine(url))
    res = runner.invoke(
        app,
        ["-w", str(tmp_path / "ws"), "detect", str(image_dir), "-m", str(tiny_model),
         "--conf", "0.05", "--imgsz", "160", "--db", url],
    )  # fmt: skip
    assert res.exit_code == 3, res.output
    assert "study database:" in res.output


def test_detect_errors_are_one_line(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_OFFLINE", "1")
    (tmp_path / "imgs").mkdir()
    res = runner.invoke(app, ["detect", str(tmp_path / "imgs"), "-m", str(tiny_model)])
    assert res.exit_code == 1 and "error:" in res.output and "no image in" in res.output
    res = runner.invoke(app, ["detect", str(tmp_path), "-m", "x", "--backend", "tf"])
    assert res.exit_code == 2 and "is not one of" in res.output  # a choice: a usage error
    from tests.detect.conftest import write_scene

    write_scene(tmp_path / "imgs" / "a.jpg", 1)
    res = runner.invoke(app, ["detect", str(tmp_path / "imgs"), "-m", "yolo11n.pt"])
    assert res.exit_code == 1 and "model not found" in res.output
    assert "Traceback" not in res.output
