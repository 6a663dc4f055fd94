"""extract_frames: the right pictures, upright, named, listed, recorded, and resumable."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.fixtures.common import Workspace
from tests.fixtures.media import write_video
from tests.frames.videos import (
    shows_frame,
    write_audio_only,
    write_corrupt_moov,
    write_faststart,
    write_rotated,
    write_truncated,
    write_vfr,
    write_zero_fps,
)
from vigie.errors import ConfigError, MediaError
from vigie.frames import extract_frames
from vigie.media import DecodeStats, iter_target_frames, open_video, scan_container


def test_step_mode_writes_exactly_the_selected_frames(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", frames=60, fps=10, gop=10)
    res = extract_frames(video, mode="step", value=7, out=tmp_path / "out")
    assert [f.frame_index for f in res.frames] == list(range(0, 60, 7))
    assert res.written == res.selected == 9
    assert res.missing == [] and res.warnings == []
    for ref in res.frames:
        assert ref.path is not None and ref.path.exists()
        assert shows_frame(ref.path, ref.frame_index)  # the picture is that frame
        assert ref.timestamp == pytest.approx(ref.frame_index / 10)
    assert not list((tmp_path / "out").glob("*.part"))


def test_sparse_selection_seeks_instead_of_decoding_everything(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", frames=200, fps=10, gop=20)
    res = extract_frames(video, mode="time", value=5, out=tmp_path / "out")
    assert [f.frame_index for f in res.frames] == [0, 50, 100, 150]
    assert res.seeks >= 2
    assert res.decoded < 100  # far fewer than the 200 frames of the video
    assert all(shows_frame(f.path, f.frame_index) for f in res.frames if f.path)


def test_targets_between_keyframes_decode_the_right_pictures(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", frames=120, fps=10, gop=30)
    container = open_video(video)
    try:
        _, index, stream = scan_container(container, video, read_rotation=False)
        assert stream is not None

        stats = DecodeStats()
        targets = [3, 29, 30, 31, 77, 119]
        got = [(i, f.pts) for i, f in iter_target_frames(container, stream, index, targets, stats)]
    finally:
        container.close()
    assert [i for i, _ in got] == targets
    assert [p for _, p in got] == [index.pts[i] for i in targets]


def test_time_mode_on_variable_frame_rate_uses_timestamps(tmp_path: Path) -> None:
    video = write_vfr(tmp_path / "vfr.mp4", [0, 40, 80, 300, 340, 1000, 1033, 1066, 2000])
    res = extract_frames(video, mode="time", value=0.25, out=tmp_path / "out")
    assert [f.frame_index for f in res.frames] == [0, 3, 5, 8]
    assert [f.timestamp for f in res.frames] == pytest.approx([0.0, 0.3, 1.0, 2.0])
    assert all(shows_frame(f.path, f.frame_index) for f in res.frames if f.path)
    assert any("variable frame rate" in w for w in res.warnings)


def test_range_and_percentage_random_are_reproducible(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", frames=100, fps=10)
    kw = {"mode": "percentage", "value": 20, "start": 2.0, "end": 6.0, "strategy": "random"}
    a = extract_frames(video, seed=4, out=tmp_path / "a", **kw)  # type: ignore[arg-type]
    b = extract_frames(video, seed=4, out=tmp_path / "b", **kw)  # type: ignore[arg-type]
    assert [f.frame_index for f in a.frames] == [f.frame_index for f in b.frames]
    assert len(a.frames) == 8  # 20 % of the 41 frames in [2 s, 6 s]
    assert all(20 <= f.frame_index <= 60 for f in a.frames)


def test_names_are_descriptive_and_manifest_lists_every_frame(tmp_path: Path) -> None:
    video = write_video(tmp_path / "my clip.mp4", frames=30, fps=10)
    res = extract_frames(video, mode="step", value=10, start=1.0, out=tmp_path / "out")
    names = [f.path.name for f in res.frames if f.path]
    assert names == [
        "my_clip_step10-from1s_f000010_1.000s.jpg",
        "my_clip_step10-from1s_f000020_2.000s.jpg",
    ]
    assert res.manifest is not None
    with open(res.manifest, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["file"] for r in rows] == names
    assert [int(r["frame_index"]) for r in rows] == [10, 20]
    assert all(r["video"] == str(video) for r in rows)
    doc = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert doc["video"]["frame_count"] == 30
    assert [f["timestamp"] for f in doc["frames"]] == [1.0, 2.0]


def test_rerun_keeps_finished_frames_and_writes_only_new_ones(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", frames=40, fps=10)
    first = extract_frames(video, mode="step", value=10, out=tmp_path / "out")
    stale = tmp_path / "out" / "junk.jpg.part"
    stale.write_bytes(b"half")
    again = extract_frames(video, mode="step", value=10, out=tmp_path / "out")
    assert (first.written, again.written, again.existing) == (4, 0, 4)
    assert [f.path for f in again.frames] == [f.path for f in first.frames]
    assert not stale.exists()


def test_png_output_is_lossless(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", frames=10, fps=10)
    res = extract_frames(video, mode="all", out=tmp_path / "out", fmt="png")
    assert len(res.frames) == 10
    assert all(f.path and f.path.suffix == ".png" for f in res.frames)
    with Image.open(res.frames[0].path) as img:  # type: ignore[arg-type]
        assert img.format == "PNG" and img.size == (160, 120)


@pytest.mark.parametrize(("degrees", "corner"), [(90, "bottom-left"), (-90, "top-right")])
def test_rotated_phone_video_comes_out_upright(tmp_path: Path, degrees: int, corner: str) -> None:
    video = write_rotated(tmp_path / "phone.mp4", degrees)
    res = extract_frames(video, mode="step", value=5, out=tmp_path / "out")
    assert res.info.rotation == degrees % 360
    path = res.frames[0].path
    assert path is not None
    with Image.open(path) as img:
        assert img.size == (96, 160)  # portrait, as the phone showed it
        rgb = img.convert("RGB")
        w, h = rgb.size
        # the red block of the coded picture's top-left corner, after a display rotation:
        # 90 degrees counterclockwise puts it bottom-left, 90 clockwise top-right.
        x, y = (25, h - 5) if corner == "bottom-left" else (w - 25, 5)
        r, g, b = rgb.getpixel((x, y))  # type: ignore[misc]
        assert r > 150 and g < 100, (r, g, b)


def test_truncated_video_yields_what_decodes_with_a_warning(tmp_path: Path) -> None:
    video = write_truncated(tmp_path / "cut.mp4", frames=60)
    res = extract_frames(video, mode="step", value=5, out=tmp_path / "out")
    assert 0 < len(res.frames) < 12
    assert res.warnings  # the header promised more frames than the file holds
    assert all(shows_frame(f.path, f.frame_index) for f in res.frames if f.path)


def test_video_cut_before_its_index_is_refused(tmp_path: Path) -> None:
    from tests.frames.videos import cut

    video = cut(write_video(tmp_path / "cut.mp4", frames=30), 0.6)  # moov is at the end
    with pytest.raises(MediaError):
        extract_frames(video, mode="all", out=tmp_path / "out")
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


@pytest.mark.parametrize("maker", ["corrupt_moov", "empty", "audio"])
def test_unreadable_inputs_raise_media_errors(tmp_path: Path, maker: str) -> None:
    path = tmp_path / "bad.mp4"
    if maker == "corrupt_moov":
        write_corrupt_moov(path)
    elif maker == "empty":
        path.write_bytes(b"")
    else:
        write_audio_only(path)
    with pytest.raises(MediaError):
        extract_frames(path, mode="all", out=tmp_path / "out")


def test_zero_fps_header_still_extracts_by_time(tmp_path: Path) -> None:
    video = write_zero_fps(tmp_path / "zero.mp4", frames=30, fps=10)
    res = extract_frames(video, mode="time", value=1.0, out=tmp_path / "out")
    assert [f.frame_index for f in res.frames] == [0, 10, 20]
    assert any("absurd" in w for w in res.warnings)


def test_faststart_video_extracts_every_frame(tmp_path: Path) -> None:
    video = write_faststart(tmp_path / "fs.mp4", frames=20)
    res = extract_frames(video, mode="all", out=tmp_path / "out")
    assert [f.frame_index for f in res.frames] == list(range(20))
    assert all(shows_frame(f.path, f.frame_index) for f in res.frames if f.path)


def test_empty_range_gives_no_frame_and_a_warning(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", frames=20, fps=10)
    res = extract_frames(video, mode="all", start=50, out=tmp_path / "out")
    assert res.frames == [] and res.manifest is None
    assert any("holds no frame" in w for w in res.warnings)


def test_bad_output_settings_are_config_errors(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", frames=5)
    with pytest.raises(ConfigError):
        extract_frames(video, mode="all", out=tmp_path / "o", fmt="gif")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        extract_frames(video, mode="all", out=tmp_path / "o", quality=0)


def test_frames_are_recorded_under_their_video_in_the_catalog(
    tmp_path: Path, workspace: Workspace
) -> None:
    cat = workspace.catalog
    video = write_video(tmp_path / "clip.mp4", frames=30, fps=10)
    src = cat.source("study", "53")
    video_id = cat.upsert_item(
        key="study:53:video:clip.mp4",
        kind="video",
        source_id=src,
        path=str(video.resolve()),
        sha256="ab" * 32,
        study_id=53,
        publication_id="P7",
        platform_id=2,
        status="done",
    )
    res = extract_frames(video, mode="step", value=10, out=tmp_path / "out", catalog=cat)
    extract_frames(video, mode="step", value=10, out=tmp_path / "out", catalog=cat)  # replay
    rows = cat.items(kind="frame")
    assert len(rows) == len(res.frames) == 3
    for row, ref in zip(rows, res.frames, strict=True):
        assert row.key == f"frame:{'ab' * 32}:{ref.frame_index}"
        assert row.parent_id == video_id and row.source_id == src
        assert row.frame_index == ref.frame_index
        assert row.timestamp == pytest.approx(ref.timestamp)
        assert row.path == str(ref.path.resolve()) if ref.path else False
        assert (row.width, row.height) == (160, 120)
        assert row.sha256 and len(row.sha256) == 64
        assert (row.study_id, row.publication_id, row.platform_id) == (53, "P7", 2)


def test_a_video_unknown_to_the_catalog_is_added_as_the_frames_parent(
    tmp_path: Path, workspace: Workspace
) -> None:
    cat = workspace.catalog
    video = write_video(tmp_path / "local.mp4", frames=10, fps=10)
    extract_frames(video, mode="step", value=5, out=tmp_path / "out", catalog=cat)
    parent = cat.item_by_path(video)
    assert parent is not None and parent.kind == "video" and parent.frame_count == 10
    frames = cat.items(kind="frame")
    assert len(frames) == 2 and {f.parent_id for f in frames} == {parent.id}
    assert frames[0].key == f"frame:{video.resolve()}:0"


@pytest.fixture(scope="module")
def gop_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """90 frames, B-frames, a keyframe every 12 frames: seeks and forward runs both matter."""
    return write_video(tmp_path_factory.mktemp("gop") / "gop.mp4", frames=90, fps=10, gop=12)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    targets=st.lists(st.integers(0, 89), max_size=25, unique=True).map(sorted),
    threshold=st.sampled_from([0, 3, 12, 1000]),
)
def test_decoder_yields_exactly_the_targets_whatever_the_plan(
    gop_video: Path, targets: list[int], threshold: int
) -> None:

    container = open_video(gop_video)
    try:
        _, index, stream = scan_container(container, gop_video, read_rotation=False)
        assert stream is not None
        stats = DecodeStats()
        got = list(iter_target_frames(container, stream, index, targets, stats, threshold))
    finally:
        container.close()
    assert [i for i, _ in got] == targets
    assert [f.pts for _, f in got] == [index.pts[i] for i in targets]
    assert stats.missing == [] and stats.warnings == []
    for i, frame in got:  # the picture is frame i (stripe value 7*i)
        stripe = frame.to_ndarray(format="gray")[1:6, 2:-2].mean()
        assert abs(stripe - (i * 7) % 256) <= 3
