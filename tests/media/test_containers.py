"""One folder holding the same clip in every container gives the same videos to every stage."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.media.clips import CONTAINERS, write_clip
from tests.track.helpers import ColourDetector
from vigie.cli import app
from vigie.frames import extract_folder
from vigie.frames import find_videos as frames_videos
from vigie.media import VIDEO_SUFFIXES, list_media, probe
from vigie.track import find_videos as track_videos
from vigie.track import track

FRAMES = 20


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """clip.mp4, clip.m4v, clip.mov, clip.mkv, clip.webm, clip.avi, clip.ts, and what else a
    camera card holds: a text file and a macOS resource fork (``._clip.mp4``)."""
    folder = tmp_path_factory.mktemp("card")
    for ext in CONTAINERS:
        write_clip(folder / f"clip{ext}", frames=FRAMES)
    (folder / "readme.txt").write_text("not a video")
    (folder / "._clip.mp4").write_bytes(b"\x00\x05\x16\x07")
    return folder


def expected(folder: Path) -> list[Path]:
    return sorted(folder / f"clip{ext}" for ext in CONTAINERS)


def test_every_container_is_in_the_video_registry() -> None:
    for ext in (*CONTAINERS, ".mpg", ".mpeg", ".mts", ".m2ts", ".3gp"):
        assert ext in VIDEO_SUFFIXES


def test_frames_track_and_the_listing_rule_find_the_same_videos(clips: Path) -> None:
    videos = expected(clips)
    assert list_media(clips, "video") == videos
    assert frames_videos(clips) == videos
    assert track_videos([clips]) == videos


def test_every_container_probes_to_the_same_clip(clips: Path) -> None:
    for video in expected(clips):
        info = probe(video)
        assert (info.frame_count, info.display_size) == (FRAMES, (160, 120)), video.name
        assert info.fps == pytest.approx(10.0), video.name
        assert info.duration == pytest.approx(FRAMES / 10), video.name


def test_frames_extracts_every_frame_of_every_container(clips: Path, tmp_path: Path) -> None:
    res = extract_folder(clips, mode="all", out=tmp_path / "frames", workers=2)
    assert res.failed == []
    assert sorted(r.video for r in res.results) == expected(clips)
    for r in res.results:
        assert (r.written, r.missing) == (FRAMES, []), r.video.name
        assert [f.frame_index for f in r.frames] == list(range(FRAMES))
    # clip.mp4 and clip.ts differ only by container: each keeps its own folder of frames
    assert len({r.manifest.parent for r in res.results if r.manifest}) == len(CONTAINERS)


def test_track_analyses_every_frame_of_every_container(clips: Path, tmp_path: Path) -> None:
    run = track(clips, detector=ColourDetector(), out=tmp_path / "tracks", video=False)
    assert sorted(r.video for r in run.results) == expected(clips)
    for r in run.results:
        assert (r.status, r.frames_analysed) == ("done", FRAMES), (r.video.name, r.warning)
        assert r.counts == {"Car": 1, "Pedestrian": 1}, r.video.name


def test_the_probe_command_reads_every_container(clips: Path, tmp_path: Path) -> None:
    videos = [str(v) for v in expected(clips)]
    runner = CliRunner(env={"COLUMNS": "240"})  # room for every name in rich's table
    result = runner.invoke(app, ["-w", str(tmp_path / "ws"), "probe", *videos])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    for ext in CONTAINERS:
        assert f"clip{ext}" in out
    assert out.count(" 20 ") >= len(CONTAINERS)  # every one holds the clip's 20 frames
