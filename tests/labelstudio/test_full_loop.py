"""The whole round trip through the CLI, and model predictions as pre-annotations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.fixtures.labelstudio import LabelStudioServer
from tests.labelstudio.helpers import annotate, make_images, tasks_of
from vigie.cli import app

pytestmark = pytest.mark.labelstudio
runner = CliRunner()
LABELS = "Car,Pedestrian,Truck,Scooter,Motorbike,Bus,Bicycle,Motor Scooter"


def _cli(*args: str) -> Any:
    res = runner.invoke(app, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


def test_push_annotate_pull_build_check(
    ls_env: LabelStudioServer, tmp_path: Path, make_jpeg: Any
) -> None:
    ws = str(tmp_path / "ws")
    out = _cli("-w", ws, "labelstudio", "setup", "--title", "full loop", "--labels", LABELS).output
    pid = int(re.search(r"project (\d+)", out).group(1))  # type: ignore[union-attr]
    make_images(tmp_path / "captures", make_jpeg, 10, start_seed=40)
    _cli("-w", ws, "ls", "push", str(tmp_path / "captures"), "--project", str(pid), "--batch", "4")
    for i, task in enumerate(sorted(tasks_of(ls_env, pid), key=lambda t: t["id"])):
        annotate(
            ls_env, task["id"], [("Motor Scooter", 10 + i, 20, 15, 10), ("Car", 50, 50, 20, 20)]
        )
    _cli("-w", ws, "ls", "pull", "--project", str(pid), "--out", str(tmp_path / "pulled"))
    assert len(list((tmp_path / "pulled" / "images").iterdir())) == 10
    _cli(
        "-w",
        ws,
        "dataset",
        "build",
        str(tmp_path / "pulled"),
        "--out",
        str(tmp_path / "ds"),
        "--val",
        "0.2",
    )
    data = yaml.safe_load((tmp_path / "ds" / "data.yaml").read_text())
    assert list(data["names"].values()) == LABELS.split(",")
    first_label = next((tmp_path / "ds" / "labels" / "train").iterdir()).read_text()
    assert first_label.startswith("7 ")  # "Motor Scooter" is the 8th label
    check = _cli("-w", ws, "dataset", "check", str(tmp_path / "ds"))
    assert "0 errors" in check.output


@pytest.mark.slow
def test_push_with_predictions_attaches_model_boxes(
    ls_env: LabelStudioServer, tmp_path: Path, tiny_model: Path, make_jpeg: Any
) -> None:
    out = _cli("ls", "setup", "--title", "with predictions", "--labels", LABELS).output
    pid = int(re.search(r"project (\d+)", out).group(1))  # type: ignore[union-attr]
    make_images(tmp_path / "imgs", make_jpeg, 3)
    res = _cli(
        "-w",
        str(tmp_path / "ws"),
        "ls",
        "push",
        str(tmp_path / "imgs"),
        "--project",
        str(pid),
        "--predictions",
        str(tiny_model),
        "--conf",
        "0.001",
    )
    assert "predictions" in res.output
    tasks = tasks_of(ls_env, pid)
    assert len(tasks) == 3
    versions = {p["model_version"] for t in tasks for p in t["predictions"]}
    assert len(versions) == 1 and versions.pop().startswith(tiny_model.stem + "-")
    for t in tasks:
        for pred in t["predictions"]:
            for r in pred["result"]:
                assert r["value"]["rectanglelabels"][0] in LABELS.split(",")
                assert 0 <= r["value"]["x"] <= 100


def test_push_reports_unreadable_images_and_sends_only_the_good_ones(
    ls_env: LabelStudioServer, tmp_path: Path, make_jpeg: Any
) -> None:
    ws = str(tmp_path / "ws")
    out = _cli("-w", ws, "ls", "setup", "--title", "bad images", "--labels", "Car").output
    pid = int(re.search(r"project (\d+)", out).group(1))  # type: ignore[union-attr]
    folder = tmp_path / "mixed"
    make_images(folder, make_jpeg, 3, start_seed=60)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "error_page.jpg").write_bytes(b"<!doctype html><title>404</title>")
    (folder / "half.jpg").write_bytes((folder / "img000.jpg").read_bytes()[:600])
    for attempt in range(2):  # a rerun sends nothing twice and reports the same failures
        res = runner.invoke(app, ["-w", ws, "ls", "push", str(folder), "--project", str(pid)])
        assert res.exit_code == 3, res.output  # finished, three images failed
        assert "Traceback" not in res.output
        text = "".join(res.output.split())  # rich may wrap inside a long path
        for name in ("empty.jpg", "error_page.jpg", "half.jpg"):
            assert f"{name}:notareadableimage" in text, (attempt, res.output)
        assert len(tasks_of(ls_env, pid)) == 3
