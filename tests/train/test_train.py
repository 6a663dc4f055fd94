"""train(): fine-tune, validate, register; offline-safe model resolution; resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.common import Workspace
from tests.fixtures.models import TRAFFIC_CLASSES
from vigie.catalog.models import get_model, register_model
from vigie.detect import load_detector
from vigie.errors import DatasetError, ModelError
from vigie.train import resolve_model, train

FAST = {"imgsz": 160, "batch": 8, "workers": 0, "device": "cpu"}


def test_resolve_model_accepts_file_registry_name_and_builtin_yaml(
    tiny_model: Path, workspace: Workspace
) -> None:
    assert resolve_model(tiny_model).kind == "weights"
    assert resolve_model("yolo11n.yaml").kind == "yaml"
    register_model(workspace.catalog, "tiny", tiny_model)
    named = resolve_model("tiny", workspace.catalog)
    assert (named.kind, named.path, named.label) == ("weights", tiny_model.resolve(), "tiny")


def test_missing_weights_offline_is_a_model_error_not_a_download(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIGIE_OFFLINE", "1")
    with pytest.raises(ModelError, match=r"model not found: yolo11n\.pt") as err:
        resolve_model("yolo11n.pt")
    assert err.value.hint and "yolo11n.yaml" in err.value.hint
    assert not Path("yolo11n.pt").exists()


def test_unknown_yaml_and_vanished_registered_weights_are_model_errors(
    tmp_path: Path, workspace: Workspace
) -> None:
    with pytest.raises(ModelError, match="YAML not found"):
        resolve_model("nosuchnet.yaml")
    register_model(workspace.catalog, "gone", tmp_path / "gone.pt")
    with pytest.raises(ModelError, match="weights are missing"):
        resolve_model("gone", workspace.catalog)


def test_missing_data_yaml_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError):
        train(tmp_path / "nope.yaml", model="yolo11n.yaml", name="x", project=tmp_path)


@pytest.mark.slow
def test_train_validates_registers_and_detect_names_the_model(
    traffic_dataset: Path, tmp_path: Path, workspace: Workspace
) -> None:
    result = train(
        traffic_dataset, model="yolo11n.yaml", name="scratch", epochs=1, project=tmp_path,
        catalog=workspace.catalog, **FAST,
    )  # fmt: skip
    assert result.weights.is_file() and result.weights.parent == tmp_path / "scratch" / "weights"
    assert result.classes == dict(enumerate(TRAFFIC_CLASSES))
    assert 0.0 <= result.overall.map50_95 <= 1.0
    assert {m.name for m in result.per_class} <= set(TRAFFIC_CLASSES)
    assert result.ended_at >= result.started_at and result.duration >= 0
    assert result.plots == {} and not (tmp_path / "scratch" / "results.png").exists()  # no --plots
    row = get_model(workspace.catalog, "scratch")
    assert row is not None and Path(row.weights) == result.weights
    assert row.metrics["all"]["mAP50-95"] == pytest.approx(result.overall.map50_95)
    assert row.params["epochs"] == 1 and row.dataset == str(traffic_dataset.resolve())
    assert [r.status for r in workspace.catalog.last_runs("train")] == ["done"]
    detector = load_detector("scratch", backend="torch", imgsz=160, catalog=workspace.catalog)
    assert detector.names == result.classes


@pytest.mark.slow
def test_resume_continues_an_interrupted_training(
    traffic_dataset: Path, tmp_path: Path, workspace: Workspace
) -> None:
    def stop_after_first_epoch(trainer: Any) -> None:
        if trainer.epoch == 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(
            traffic_dataset, model="yolo11n.yaml", name="cut", epochs=2, project=tmp_path,
            catalog=workspace.catalog, callbacks={"on_fit_epoch_end": stop_after_first_epoch},
            **FAST,
        )  # fmt: skip
    assert [r.status for r in workspace.catalog.last_runs("train")] == ["interrupted"]
    resumed = train(
        traffic_dataset, name="cut", epochs=2, project=tmp_path, resume=True,
        catalog=workspace.catalog, **FAST,
    )  # fmt: skip
    assert resumed.weights.is_file()
    with pytest.raises(ModelError, match="already finished"):
        train(traffic_dataset, name="cut", project=tmp_path, resume=True, **FAST)


def test_resume_without_a_previous_run_is_a_model_error(
    traffic_dataset: Path, tmp_path: Path
) -> None:
    with pytest.raises(ModelError, match="nothing to resume"):
        train(traffic_dataset, name="never", project=tmp_path, resume=True)
