"""`vigie train --plots`: ultralytics' plots kept, registered with the model, shown by the report."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.fixtures.common import Workspace
from vigie.catalog import Catalog
from vigie.catalog.models import get_model, model_plots, register_model
from vigie.cli import app
from vigie.errors import ConfigError
from vigie.report import build_report
from vigie.train import train

runner = CliRunner()


def models_section(index: Path) -> str:
    return index.read_text().split('id="models"')[1].split("</section>")[0]


@pytest.mark.slow
def test_train_plots_are_kept_registered_and_embedded_in_the_report(
    traffic_dataset: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    res = runner.invoke(
        app,
        ["-w", str(ws), "train", "--data", str(traffic_dataset), "--model", "yolo11n.yaml",
         "--epochs", "1", "--imgsz", "160", "--batch", "8", "--name", "plotted",
         "--device", "cpu", "--workers", "0", "--plots",
         "--arg", "plots=True"],  # the same argument through --arg: no duplicate keyword
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    run_dir = ws / "runs" / "train" / "plotted"
    for name in ("results.png", "confusion_matrix.png", "BoxPR_curve.png"):
        assert (run_dir / name).is_file(), name
    assert "plots: " in res.output
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        row = get_model(cat, "plotted")
        assert row is not None
        plots = model_plots(row.metrics)
        assert {"results", "confusion_matrix", "BoxPR_curve"} <= set(plots)
        assert all(p.is_file() and p.parent == run_dir.resolve() for p in plots.values())
        assert row.metrics["all"]["mAP50-95"] >= 0.0  # the metrics are still there
        index = build_report(cat, tmp_path / "report")
    section = models_section(index)
    for name in plots:
        copy = tmp_path / "report" / "img" / f"model_plotted_{name}.png"
        assert f'src="img/{copy.name}"' in section
        assert copy.read_bytes() == plots[name].read_bytes()


def test_report_embeds_recorded_plots_and_skips_vanished_ones(
    workspace: Workspace, tmp_path: Path
) -> None:
    run_dir = tmp_path / "runs" / "v1"
    run_dir.mkdir(parents=True)
    buf = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 30, 30)).save(buf, "PNG")
    (run_dir / "results.png").write_bytes(buf.getvalue())
    register_model(
        workspace.catalog,
        "traffic v1",  # a name that is not a file name as it is
        run_dir / "weights" / "best.pt",
        metrics={"all": {"mAP50": 0.5}},
        plots={"results": run_dir / "results.png", "confusion_matrix": run_dir / "gone.png"},
    )
    section = models_section(build_report(workspace.catalog, tmp_path / "r"))
    assert 'src="img/model_traffic_v1_results.png"' in section
    assert "results of traffic v1" in section and "confusion_matrix" not in section
    assert (tmp_path / "r" / "img" / "model_traffic_v1_results.png").is_file()
    assert "0.5" in section  # the metrics table is unchanged


def test_report_of_a_model_trained_without_plots_shows_no_plot(
    workspace: Workspace, tmp_path: Path
) -> None:
    register_model(workspace.catalog, "plain", tmp_path / "best.pt", metrics={"all": {}})
    assert model_plots(get_model(workspace.catalog, "plain").metrics) == {}  # type: ignore[union-attr]
    section = models_section(build_report(workspace.catalog, tmp_path / "r"))
    assert "plain" in section and "<img" not in section


@pytest.mark.parametrize("key", ["data", "name", "project", "model", "resume"])
def test_an_arg_for_what_vigie_sets_itself_is_a_config_error(
    traffic_dataset: Path, tmp_path: Path, key: str
) -> None:
    with pytest.raises(ConfigError, match=f"--arg {key}=") as err:
        train(traffic_dataset, model="yolo11n.yaml", name="x", project=tmp_path,
              overrides={key: "x"})  # fmt: skip
    assert err.value.hint and err.value.hint.startswith("use --")
