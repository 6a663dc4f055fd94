"""`ls push --predictions` resolves --model as every stage does: a file or a registered name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.common import Workspace
from vigie.catalog.models import register_model
from vigie.errors import ModelError
from vigie.labelstudio import Predictor

pytestmark = pytest.mark.slow


def test_predictions_take_a_registered_model_name_or_a_weights_file(
    tiny_model: Path, workspace: Workspace
) -> None:
    register_model(workspace.catalog, "traffic", tiny_model)
    by_name = Predictor.from_model("traffic", catalog=workspace.catalog)
    by_file = Predictor.from_model(tiny_model)
    assert by_name.model_version.startswith("traffic-")
    assert by_file.model_version.startswith(tiny_model.stem + "-")
    assert by_name.model_version.split("-")[-1] == by_file.model_version.split("-")[-1]
    assert by_name.detector.names == by_file.detector.names
    with pytest.raises(ModelError, match="not a registered model name"):
        Predictor.from_model("unknown-model", catalog=workspace.catalog)
