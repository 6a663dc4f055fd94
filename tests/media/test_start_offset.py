"""A transport stream whose timestamps start at 1.4 s (camera recorders) yields every frame."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests.media.clips import shows, write_clip
from vigie.frames import extract_frames
from vigie.media import (
    DecodeStats,
    FrameReader,
    iter_target_frames,
    open_video,
    probe,
    scan_container,
)

FRAMES = 60


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 frames at 25 fps, a keyframe every 12, every timestamp shifted by 1.4 s."""
    path = tmp_path_factory.mktemp("rec") / "cam01.ts"
    return write_clip(path, frames=FRAMES, fps=25, gop=12, ts_offset=1.4)


def test_the_generated_recording_really_starts_at_1_4_s(recording: Path) -> None:
    with av.open(str(recording)) as container:  # what ffprobe reports as start_time
        stream = container.streams.video[0]
        assert container.format.name == "mpegts"
        assert container.start_time is not None and stream.start_time is not None
        assert container.start_time / 1_000_000 == pytest.approx(1.4, abs=0.05)
        assert float(stream.start_time * stream.time_base) == pytest.approx(1.4, abs=0.05)
        assert sum(1 for _ in container.decode(stream)) == FRAMES  # PyAV decodes every one


def test_probe_counts_from_the_start_time(recording: Path) -> None:
    info = probe(recording)
    assert info.frame_count == FRAMES and info.fps == pytest.approx(25.0)
    assert info.start_time == pytest.approx(1.4, abs=0.05)
    assert info.duration == pytest.approx(FRAMES / 25)


def test_frames_extracts_every_frame_of_the_recording(recording: Path, tmp_path: Path) -> None:
    res = extract_frames(recording, mode="all", out=tmp_path / "all")
    assert res.missing == [] and not any("did not decode" in w for w in res.warnings)
    assert res.written == FRAMES
    assert [f.frame_index for f in res.frames] == list(range(FRAMES))
    assert res.frames[0].timestamp == 0.0 and res.frames[1].timestamp == pytest.approx(0.04)
    for ref in res.frames:
        assert ref.path is not None
        assert shows(np.asarray(Image.open(ref.path).convert("RGB")), ref.frame_index)


def test_sparse_selection_seeks_to_the_right_keyframes(recording: Path, tmp_path: Path) -> None:
    res = extract_frames(recording, mode="step", value=13, out=tmp_path / "step")
    assert [f.frame_index for f in res.frames] == list(range(0, FRAMES, 13))
    assert res.missing == []
    for ref in res.frames:
        assert ref.path is not None
        assert shows(np.asarray(Image.open(ref.path).convert("RGB")), ref.frame_index)


def test_every_target_decodes_whatever_the_plan(recording: Path) -> None:
    targets = [0, 1, 11, 12, 13, 30, 47, 48, 59]
    for threshold in (0, 12, 1000):
        container = open_video(recording)
        try:
            _, index, stream = scan_container(container, recording, read_rotation=False)
            assert stream is not None
            stats = DecodeStats()
            got = list(iter_target_frames(container, stream, index, targets, stats, threshold))
        finally:
            container.close()
        assert [i for i, _ in got] == targets and stats.missing == []
        assert all(shows(f.to_ndarray(format="rgb24"), i) for i, f in got)


def test_the_reader_numbers_and_times_frames_from_the_start(recording: Path) -> None:
    frames = list(FrameReader(recording))
    assert [f.index for f in frames] == list(range(FRAMES))
    assert frames[0].time == 0.0 and frames[-1].time == pytest.approx((FRAMES - 1) / 25)
    assert all(shows(f.image, f.index) for f in frames)
    later = FrameReader(recording, seek=1.0)
    assert [f.index for f in later] == list(range(25, FRAMES)) and later.error is None
