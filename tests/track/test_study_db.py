"""Track rows in the study database: one media identity per video, reruns that lose nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tests.track.helpers import ColourDetector, Mover, render_video
from vigie.catalog import Catalog
from vigie.catalog.models import register_model
from vigie.cli import app
from vigie.studydb import create_schema
from vigie.track import track

runner = CliRunner()


def _rows(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT media_id, COUNT(*) FROM yolo_video_detection GROUP BY media_id")
        ).all()
    engine.dispose()
    return {str(media): int(n) for media, n in found}


def _tracks_in(out: Path, stem: str) -> int:
    return len(json.loads((out / f"{stem}.tracks.json").read_text())["tracks"])


def test_two_videos_of_one_tweet_keep_their_own_rows_through_reruns(tmp_path: Path) -> None:
    one = render_video(tmp_path / "v" / "53_1600_3.mp4", frames=25)
    lone = (Mover(0, (230, 30, 30), 4, 30, 4, 0),)
    render_video(tmp_path / "v" / "53_1600_3_2.mp4", frames=25, movers=lone)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    create_schema(create_engine(url))
    out = tmp_path / "o"
    with Catalog(f"sqlite:///{tmp_path / 'vigie.db'}") as cat:
        first = track(tmp_path / "v", detector=ColourDetector(), out=out, catalog=cat, db_url=url)
        assert [r.status for r in first.results] == ["done", "done"]
        expected = {"1600": _tracks_in(out, "53_1600_3"), "1600_2": _tracks_in(out, "53_1600_3_2")}
        assert _rows(url) == expected == {"1600": 2, "1600_2": 1}
        # the rows are gone (a new study database, a first run without --db...): a rerun that
        # skips the done videos still writes their rows, once
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM yolo_video_detection"))
        engine.dispose()
        again = track(tmp_path / "v", detector=ColourDetector(), out=out, catalog=cat, db_url=url)
        assert [r.status for r in again.results] == ["skipped", "skipped"]
        assert _rows(url) == expected
        # a partial rerun of one video, analysed again: the other video's rows stay
        track(one, detector=ColourDetector(), out=out, catalog=cat, db_url=url, force=True)
        assert _rows(url) == expected


def test_a_video_without_a_media_identity_is_not_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    video = render_video(tmp_path / "street.mp4", frames=15)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    track(video, detector=ColourDetector(), out=tmp_path / "o", db_url=url)
    assert _rows(url) == {}
    assert "no media identity" in caplog.text


@pytest.mark.slow
def test_track_takes_a_registered_model_name_like_detect(tiny_model: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        register_model(cat, "traffic", tiny_model)
    video = render_video(tmp_path / "53_1789_4.mp4", frames=8)
    res = runner.invoke(
        app,
        ["-w", str(ws), "track", str(video), "--model", "traffic", "--no-video", "--imgsz",
         "160", "--conf", "0.05"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (ws / "tracks" / "53_1789_4.tracks.json").is_file()  # the output rule: workspace
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        run = cat.last_runs("track")[0]
    assert run.config["options"]["model"] == "traffic"
