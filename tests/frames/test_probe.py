"""Probing: what the video really holds, and what its header got wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.media import write_video
from tests.frames.videos import (
    write_audio_only,
    write_corrupt_moov,
    write_rotated,
    write_vfr,
    write_zero_fps,
)
from vigie.errors import MediaError
from vigie.frames import probe


def test_probe_reads_a_clean_video(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "v.mp4", frames=30, fps=10))
    assert (info.fps, info.frame_count, info.width, info.height) == (10.0, 30, 160, 120)
    assert info.duration == pytest.approx(3.0)
    assert info.codec == "h264"
    assert info.rotation == 0
    assert info.problems == []


def test_probe_reports_variable_frame_rate_and_uses_timestamps(tmp_path: Path) -> None:
    info = probe(write_vfr(tmp_path / "vfr.mp4", [0, 40, 80, 300, 340, 1000, 1033, 1066, 2000]))
    assert info.frame_count == 9
    assert info.variable_frame_rate
    assert any("variable frame rate" in p for p in info.problems)
    assert info.fps == pytest.approx(4.0)  # 8 gaps over 2 s


def test_probe_of_zero_fps_header_reports_it_instead_of_dividing_by_zero(tmp_path: Path) -> None:
    info = probe(write_zero_fps(tmp_path / "zero.mp4", frames=30, fps=10))
    assert any("absurd" in p for p in info.problems)
    assert info.frame_count == 30
    assert info.fps == pytest.approx(10.0)  # from the H.264 timing, not the header
    assert info.duration == pytest.approx(3.0)


def test_probe_counts_frames_by_demuxing_when_header_has_no_count(tmp_path: Path) -> None:
    import av

    src = write_video(tmp_path / "v.mp4", frames=25, fps=10)
    mkv = tmp_path / "v.mkv"
    with av.open(str(src)) as inp, av.open(str(mkv), "w") as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            out.mux(packet)
    info = probe(mkv)
    assert info.header_frame_count is None
    assert info.frame_count == 25
    assert any("no frame count" in p for p in info.problems)


@pytest.mark.parametrize("degrees", [90, -90, 180])
def test_probe_reads_rotation_from_the_display_matrix(tmp_path: Path, degrees: int) -> None:
    info = probe(write_rotated(tmp_path / "r.mp4", degrees))
    assert info.rotation == degrees % 360
    expected = (96, 160) if degrees % 180 else (160, 96)
    assert info.display_size == expected


def test_probe_refuses_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        probe(empty)


def test_probe_refuses_a_corrupt_index(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="cannot"):
        probe(write_corrupt_moov(tmp_path / "bad.mp4"))


def test_probe_refuses_audio_only_unless_asked(tmp_path: Path) -> None:
    audio = write_audio_only(tmp_path / "a.m4a")
    with pytest.raises(MediaError, match="no video stream"):
        probe(audio)
    info = probe(audio, require_video=False)
    assert not info.has_video
    assert info.frame_count == 0


def test_probe_refuses_a_non_video(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("<html>not found</html>")
    with pytest.raises(MediaError):
        probe(text)


def test_a_file_named_like_a_url_is_read_as_a_local_file(tmp_path: Path) -> None:
    video = write_video(tmp_path / "http:clip.mp4", frames=10)
    assert probe(video).frame_count == 10


def test_probe_refuses_a_playlist_pointing_at_a_url(tmp_path: Path) -> None:
    # FFmpeg may open local files only (protocol whitelist "file"): no network fetch.
    playlist = tmp_path / "list.m3u8"
    playlist.write_text("#EXTM3U\n#EXTINF:1.0,\nhttp://127.0.0.1:9/seg.ts\n#EXT-X-ENDLIST\n")
    with pytest.raises(MediaError):
        probe(playlist)
