"""The demo's optional Label Studio round trip, against a real Label Studio server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.common import Workspace
from tests.fixtures.labelstudio import LabelStudioServer
from vigie.demo import Scene, write_snapshots
from vigie.demo.context import Ctx, DemoPlan
from vigie.demo.steps import labelstudio


@pytest.mark.labelstudio
def test_demo_round_trip_pushes_labelled_frames_to_label_studio_and_pulls_back(
    workspace: Workspace, labelstudio_server: LabelStudioServer
) -> None:
    scene = Scene(seed=0)
    labelled = workspace.root / "labelled"
    write_snapshots(scene, labelled / "images", [0, 40, 80], labels=False)
    ctx = Ctx(
        out=workspace.root,
        plan=DemoPlan.quick(),
        settings=workspace.settings,
        catalog=workspace.catalog,
        scene=scene,
        labelstudio_url=labelstudio_server.url,
        labelstudio_token=labelstudio_server.token,
        labelled=labelled,
    )
    summary = labelstudio(ctx)
    assert "3 images imported" in summary
    assert (workspace.root / "labelstudio").is_dir()
    again = labelstudio(ctx)  # idempotent: the catalog knows what was pushed
    assert "0 images imported (3 already there)" in again


def test_demo_skips_label_studio_without_a_token(workspace: Workspace, tmp_path: Path) -> None:
    from vigie.demo.pipeline import StepSkipped

    ctx = Ctx(
        out=tmp_path,
        plan=DemoPlan.quick(),
        settings=workspace.settings,
        catalog=workspace.catalog,
        scene=Scene(seed=0),
        labelstudio_url="http://127.0.0.1:8080",
        labelstudio_token=None,
    )
    with pytest.raises(StepSkipped, match="no Label Studio URL and token"):
        labelstudio(ctx)
