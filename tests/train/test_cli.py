"""`vigie train` and `vigie models` as documented in docs/train.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigie.cli import app

runner = CliRunner()


@pytest.mark.slow
def test_train_from_yaml_prints_metrics_and_registers(
    traffic_dataset: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    res = runner.invoke(
        app,
        ["-w", str(ws), "train", "--data", str(traffic_dataset), "--model", "yolo11n.yaml",
         "--epochs", "1", "--imgsz", "160", "--batch", "8", "--name", "cli-model",
         "--device", "cpu", "--workers", "0", "--arg", "warmup_epochs=0"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    for word in ("mAP50", "mAP50-95", "precision", "recall", "duration", "registered 'cli-model'"):
        assert word in res.output
    assert (ws / "runs" / "train" / "cli-model" / "weights" / "best.pt").is_file()
    listed = runner.invoke(app, ["-w", str(ws), "models"])
    assert listed.exit_code == 0 and "cli-model" in listed.output


def test_train_with_missing_weights_offline_fails_with_one_line(
    traffic_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_OFFLINE", "1")
    res = runner.invoke(
        app,
        ["-w", str(tmp_path), "train", "--data", str(traffic_dataset), "--model", "yolo11n.pt",
         "--name", "x"],
    )  # fmt: skip
    assert res.exit_code == 1
    assert "error: model not found: yolo11n.pt" in res.output and "Traceback" not in res.output


def test_train_rejects_a_bad_arg(traffic_dataset: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        ["-w", str(tmp_path), "train", "--data", str(traffic_dataset), "--name", "x",
         "--model", "yolo11n.yaml", "--arg", "nonsense"],
    )  # fmt: skip
    assert res.exit_code == 1 and "bad --arg" in res.output


@pytest.mark.slow
def test_train_from_a_registered_model_name(
    tiny_model: Path, traffic_dataset: Path, tmp_path: Path
) -> None:
    from vigie.catalog import Catalog
    from vigie.catalog.models import register_model

    ws = tmp_path / "ws"
    ws.mkdir()
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        register_model(cat, "traffic-v1", tiny_model)
    res = runner.invoke(
        app,
        ["-w", str(ws), "train", "--data", str(traffic_dataset), "--model", "traffic-v1",
         "--epochs", "1", "--imgsz", "160", "--name", "traffic-v2", "--device", "cpu",
         "--workers", "0"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "registered 'traffic-v2'" in res.output


def test_resume_of_an_unknown_run_fails_with_one_line(
    traffic_dataset: Path, tmp_path: Path
) -> None:
    res = runner.invoke(
        app,
        ["-w", str(tmp_path), "train", "--data", str(traffic_dataset), "--name", "traffic-v1",
         "--resume"],
    )  # fmt: skip
    assert res.exit_code == 1 and "nothing to resume" in res.output
