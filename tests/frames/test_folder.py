"""extract_folder: every video ends in one state; bad files are reported, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.common import Workspace
from tests.fixtures.media import write_video
from tests.frames.videos import write_audio_only, write_corrupt_moov, write_truncated
from vigie.errors import ConfigError
from vigie.frames import extract_folder, find_videos
from vigie.frames.folder import output_folder


def make_mixed_folder(root: Path) -> Path:
    videos = root / "videos"
    write_video(videos / "a.mp4", frames=30, fps=10)
    write_video(videos / "sub" / "a.mp4", frames=20, fps=10)
    write_truncated(videos / "cut.mp4", frames=60)
    write_corrupt_moov(videos / "broken.mp4")
    write_audio_only(videos / "sound.mp4")
    (videos / "empty.mov").write_bytes(b"")
    (videos / "notes.txt").write_text("not a video")
    return videos


@pytest.mark.parametrize("workers", [1, 2])
def test_folder_extracts_good_videos_and_reports_bad_ones(
    tmp_path: Path, workspace: Workspace, workers: int
) -> None:
    videos = make_mixed_folder(tmp_path)
    seen: list[Path] = []
    res = extract_folder(
        videos,
        mode="step",
        value=10,
        out=tmp_path / "frames",
        catalog=workspace.catalog,
        workers=workers,
        on_video=lambda v, r, e: seen.append(v),
    )
    inputs = find_videos(videos)
    assert len(inputs) == 6
    assert len(res.results) + len(res.failed) == len(inputs) == len(seen)
    ok = {r.video.name for r in res.results}
    assert ok == {"a.mp4", "cut.mp4"}
    failed = {v.name: msg for v, msg in res.failed}
    assert set(failed) == {"broken.mp4", "sound.mp4", "empty.mov"}
    assert "no video stream" in failed["sound.mp4"]
    assert "empty" in failed["empty.mov"]
    # two videos named a.mp4 go to two folders
    assert (tmp_path / "frames" / "a" / "manifest.csv").exists()
    assert (tmp_path / "frames" / "sub__a" / "manifest.csv").exists()
    # catalog rows == files on disk, and no partial file anywhere
    files = sorted(p for p in (tmp_path / "frames").rglob("*.jpg"))
    rows = workspace.catalog.items(kind="frame")
    assert len(rows) == len(files) == res.written
    assert not list((tmp_path / "frames").rglob("*.part"))
    statuses = {Path(r.path).name: r.status for r in workspace.catalog.items(kind="video")}
    assert statuses["broken.mp4"] == "failed" and statuses["a.mp4"] == "done"


def test_output_folders_are_unique_and_stable(tmp_path: Path) -> None:
    root = tmp_path / "in"
    assert output_folder(tmp_path, root, root / "x" / "clip.mp4") == tmp_path / "x__clip"
    assert output_folder(tmp_path, root, root / "clip.mp4") == tmp_path / "clip"
    # names that differ only by container (clip.mp4, clip.ts) keep apart
    assert output_folder(tmp_path, root, root / "clip.TS", keep_suffix=True) == tmp_path / "clip_ts"


def test_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        extract_folder(tmp_path / "nope", mode="all", out=tmp_path / "o")


def crash_on_poison(video: Path, *args: object) -> tuple[object, object]:
    """A worker that dies like a segfaulting decoder on files named poison*."""
    import os

    from vigie.frames.folder import _work

    if video.name.startswith("poison"):
        os._exit(139)
    return _work(video, *args)  # type: ignore[arg-type]


def test_a_crashing_decoder_fails_only_its_own_video(tmp_path: Path) -> None:
    from vigie.frames.core import Selection
    from vigie.frames.folder import run_in_processes

    videos = [
        write_video(tmp_path / "in" / name, frames=10, fps=10)
        for name in ("a.mp4", "poison.mp4", "b.mp4")
    ]
    sel = Selection("step", 5)
    jobs = {v: (v, sel, tmp_path / "out" / v.stem, "jpg", 90, 1, 1) for v in videos}
    outcomes: dict[str, tuple[object, object]] = {}
    run_in_processes(
        videos, jobs, 2, lambda v, o: outcomes.__setitem__(v.name, o), work=crash_on_poison
    )
    assert set(outcomes) == {"a.mp4", "poison.mp4", "b.mp4"}
    assert outcomes["poison.mp4"] == (None, "the decoder crashed on this file")
    assert outcomes["a.mp4"][0] is not None and outcomes["b.mp4"][0] is not None


def hang_on_poison(video: Path, *args: object) -> tuple[object, object]:
    """A worker that hangs like a stuck decoder on files named poison*."""
    import time

    from vigie.frames.folder import _work

    if video.name.startswith("poison"):
        time.sleep(3600)
    return _work(video, *args)  # type: ignore[arg-type]


def test_a_hanging_decoder_is_stopped_and_fails_only_its_own_video(tmp_path: Path) -> None:
    from vigie.frames.core import Selection
    from vigie.frames.folder import run_in_processes

    videos = [
        write_video(tmp_path / "in" / name, frames=10, fps=10) for name in ("a.mp4", "poison.mp4")
    ]
    sel = Selection("step", 5)
    jobs = {v: (v, sel, tmp_path / "out" / v.stem, "jpg", 90, 1, 1) for v in videos}
    outcomes: dict[str, tuple[object, object]] = {}
    run_in_processes(
        videos,
        jobs,
        2,
        lambda v, o: outcomes.__setitem__(v.name, o),
        work=hang_on_poison,
        timeout=4,
    )
    assert outcomes["a.mp4"][0] is not None
    assert outcomes["poison.mp4"][0] is None
    assert "hung" in str(outcomes["poison.mp4"][1])
