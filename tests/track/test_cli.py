"""Every documented example of `vigie track` and `vigie eval-track`, through CliRunner."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.track.helpers import ColourDetector, render_video
from vigie.cli import app
from vigie.track import simulate

runner = CliRunner()


@pytest.fixture
def colour_model(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`--model` loads the colour detector; the arguments it was loaded with are recorded."""
    seen: dict[str, Any] = {}

    def fake_load(model: str, **kwargs: Any) -> ColourDetector:
        seen.update(model=model, **kwargs)
        return ColourDetector()

    monkeypatch.setattr(importlib.import_module("vigie.detect"), "load_detector", fake_load)
    return seen


def test_track_folder_with_line_prints_a_summary_and_writes_outputs(
    tmp_path: Path, colour_model: dict[str, Any]
) -> None:
    render_video(tmp_path / "videos" / "a.mp4", frames=20)
    render_video(tmp_path / "videos" / "sub" / "b.mkv", frames=20)
    out = tmp_path / "tracks"
    args = ["-w", str(tmp_path), "track", str(tmp_path / "videos"), "--model", "best.pt"]
    args += ["--tracker", "vigie", "--line", "80,0,80,120", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Car=1" in result.output and "done 2" in result.output
    assert {p.name for p in out.iterdir()} >= {
        "a.mp4",
        "a.tracks.json",
        "b.tracks.csv",
        "b.mot.txt",
    }
    assert colour_model["conf"] == 0.35 and colour_model["backend"] == "onnx"
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "skipped 2" in again.output


def test_track_with_sort_stride_range_and_sqlite_db(
    tmp_path: Path, colour_model: dict[str, Any]
) -> None:
    video = render_video(tmp_path / "53_77_3.mp4", frames=40)
    db = f"sqlite:///{tmp_path / 'study.db'}"
    result = runner.invoke(
        app,
        [
            "-w",
            str(tmp_path),
            "track",
            str(video),
            "-m",
            "m.onnx",
            "--tracker",
            "sort",
            "--stride",
            "2",
            "--start",
            "0:00:01",
            "--end",
            "3.5",
            "--min-frames",
            "3",
            "--conf",
            "0.5",
            "--db",
            db,
            "--no-video",
            "--backend",
            "torch",
            "--imgsz",
            "320",
        ],
    )
    assert result.exit_code == 0, result.output
    assert colour_model["backend"] == "torch" and colour_model["imgsz"] == 320
    data = json.loads((tmp_path / "tracks" / "53_77_3.tracks.json").read_text())
    assert data["frames_analysed"] == 13 and data["tracker"] == "sort"
    assert not (tmp_path / "tracks" / "53_77_3.mp4").exists()


@pytest.mark.parametrize(
    ("flags", "code", "message"),
    [
        (["--line", "1,2,3"], 1, "--line"),
        (["--tracker", "kcf"], 2, "is not one of"),  # a choice: a usage error, as everywhere
        (["--start", "soon"], 2, "not a time"),
        (["--backend", "tflite"], 2, "is not one of"),
    ],
)
def test_track_refuses_bad_flags_with_one_line(
    tmp_path: Path, colour_model: dict[str, Any], flags: list[str], code: int, message: str
) -> None:
    video = render_video(tmp_path / "a.mp4", frames=3)
    result = runner.invoke(app, ["-w", str(tmp_path), "track", str(video), "-m", "x.pt", *flags])
    assert result.exit_code == code
    assert ("error:" in result.output or "Error" in result.output) and message in result.output
    assert "Traceback" not in result.output


def test_eval_track_prints_hota_mota_idf1(tmp_path: Path) -> None:
    scene = simulate("traffic", frames=60, seed=1)
    gt = tmp_path / "gt.txt"
    gt.write_text(scene.gt_mot())
    result = runner.invoke(app, ["eval-track", "--gt", str(gt), "--pred", str(gt)])
    assert result.exit_code == 0, result.output
    for name in ("HOTA", "MOTA", "IDF1"):
        assert name in result.output
    as_json = runner.invoke(app, ["eval-track", "--gt", str(gt), "--pred", str(gt), "--json"])
    metrics = json.loads(as_json.output)
    assert metrics["mota"] == pytest.approx(1.0) and metrics["hota"] == pytest.approx(1.0)


def test_eval_track_of_a_tracked_video_against_its_ground_truth(
    tmp_path: Path, colour_model: dict[str, Any]
) -> None:
    video = render_video(tmp_path / "a.mp4", frames=20)
    runner.invoke(app, ["-w", str(tmp_path), "track", str(video), "-m", "x.pt", "--no-video"])
    pred = tmp_path / "tracks" / "a.mot.txt"
    result = runner.invoke(app, ["eval-track", "--gt", str(pred), "--pred", str(pred), "--json"])
    assert json.loads(result.output)["idf1"] == pytest.approx(1.0)
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\n")
    refused = runner.invoke(app, ["eval-track", "--gt", str(bad), "--pred", str(pred)])
    assert refused.exit_code == 1 and "not MOT format" in refused.output
