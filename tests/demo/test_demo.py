"""`vigie demo --quick`: every stage for real on generated data, end to end."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from vigie.catalog import Catalog, media_items, sources
from vigie.cli import app
from vigie.demo.pipeline import DemoResult, StepResult, StepSkipped, _run_step, stage_api


def _available(stage: str, name: str) -> bool:
    try:
        return hasattr(importlib.import_module(f"vigie.{stage}"), name)
    except ImportError:
        return False


def test_a_missing_stage_is_reported_as_skipped_not_a_crash() -> None:
    def step(_ctx: object) -> str:
        stage_api("nosuchstage", "run")
        return "unreachable"

    result = _run_step("nosuchstage", step, None)  # type: ignore[arg-type]
    assert result.status == "skipped"
    assert result.summary == "skipped: nosuchstage not available"


def test_a_failing_step_is_reported_and_the_demo_goes_on() -> None:
    def step(_ctx: object) -> str:
        raise RuntimeError("boom")

    def skip(_ctx: object) -> str:
        raise StepSkipped("no dataset")

    assert _run_step("x", step, None).summary == "failed: RuntimeError: boom"  # type: ignore[arg-type]
    assert _run_step("y", skip, None).status == "skipped"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "quick", "seed", "device"),
    [
        ([], False, 0, "cpu"),
        (["--quick"], True, 0, "cpu"),
        (["--seed", "7"], False, 7, "cpu"),
        (["--device", "CUDA:1"], False, 0, "cuda:1"),
    ],
)
def test_cli_demo_passes_its_options_to_run_demo(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: list[str],
    quick: bool,
    seed: int,
    device: str,
) -> None:
    import vigie.demo

    seen: dict[str, object] = {}

    def fake_run_demo(out: Path, **kwargs: object) -> DemoResult:
        seen.update(kwargs, out=out)
        step = StepResult("scene", "done", "rendered", 0.1)
        kwargs["on_step"](step)  # type: ignore[operator]
        return DemoResult(Path(out), [step])

    monkeypatch.setattr(vigie.demo, "run_demo", fake_run_demo)
    out = tmp_path / "ws"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    assert seen["out"] == out and seen["quick"] is quick and seen["seed"] == seed
    assert seen["device"] == device
    assert seen["labelstudio_token"] is None  # no token configured: no round trip
    assert "✓ scene" in result.output


def test_cli_demo_refuses_a_device_that_is_not_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "ws"), "--device", "gpu2"])
    assert result.exit_code == 2
    assert "not a device" in result.output


def test_cli_demo_exits_1_when_a_step_failed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import vigie.demo

    def fake_run_demo(out: Path, **kwargs: object) -> DemoResult:
        on_step = kwargs["on_step"]
        step = StepResult("train", "failed", "failed: ModelError: boom", 1.0)
        on_step(step)  # type: ignore[operator]
        return DemoResult(Path(out), [step])

    monkeypatch.setattr(vigie.demo, "run_demo", fake_run_demo)
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "ws")])
    assert result.exit_code == 1
    assert "✗ train" in result.output and "some steps failed" in result.output


@pytest.mark.slow
def test_quick_demo_runs_every_stage_and_leaves_a_workspace(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--quick"])
    assert result.exit_code == 0, result.output
    for step in ("scene", "capture", "study-db", "links", "download", "frames", "report"):
        assert f"✓ {step} " in result.output, result.output
    assert "- labelstudio" in result.output  # no Label Studio token in the test environment
    # a stage runs when it and the stages it needs are there (while they land, in parallel)
    has_dataset = _available("dataset", "build_dataset")
    has_train = has_dataset and _available("train", "train")
    expected = {
        "dataset": has_dataset,
        "train": has_train,
        "detect": has_train and _available("detect", "detect"),
        "track": has_train and _available("track", "track"),
    }
    for step, runs in expected.items():
        assert f"{'✓' if runs else '-'} {step} " in result.output, result.output

    clips = sorted((out / "scene").glob("clip*.mp4"))
    assert len(clips) == 3 and all(c.with_name(f"{c.stem}.gt.txt").is_file() for c in clips)
    snapshots = list((out / "captures" / "demo-street").glob("*.jpg"))
    assert len(snapshots) >= 2
    assert list((out / "study").rglob("*.mp4")) and list((out / "study").rglob("*.jpg"))
    assert list((out / "frames").rglob("*.jpg"))
    assert len(list((out / "labelled" / "labels").glob("*.txt"))) >= 20
    index = out / "report" / "index.html"
    assert index.is_file()
    html = index.read_text()
    assert "demo-street" in html and "http_404" in html and "not_media" in html

    cat = Catalog(f"sqlite:///{out / 'vigie.db'}")
    with cat.engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(media_items.c.status, func.count())
                .select_from(media_items.join(sources))
                .where(sources.c.kind == "camera")
                .group_by(media_items.c.status)
            ).all()
        )
        failed = conn.execute(
            select(func.count()).where(
                media_items.c.study_id == 53, media_items.c.status == "failed"
            )
        ).scalar()
    cat.close()
    assert rows.get("done") == len(snapshots) and rows.get("duplicate", 0) >= 1
    assert failed == 3
    if expected["dataset"]:
        assert (out / "dataset" / "data.yaml").is_file()
    if expected["train"]:
        assert list((out / "runs").rglob("results.csv"))
        assert "losses of demo" in html
        commands = {r.command for r in Catalog(f"sqlite:///{out / 'vigie.db'}").last_runs()}
        assert {"capture", "links", "download", "train"} <= commands
    if expected["detect"]:
        assert 'class="empty"' not in html.split('id="cameras"')[1].split("</section>")[0]
