"""The video pipeline: generated videos, a colour 'detector', outputs, catalog, study DB."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from sqlalchemy import create_engine, func, select, text

from tests.fixtures.common import Workspace
from tests.fixtures.studydb import StudyDB
from tests.track.helpers import ColourDetector, Mover, render_video
from vigie.catalog.tracks import tracks, tracks_of
from vigie.errors import ConfigError, SourceError
from vigie.track import track


def read_video(path: Path) -> tuple[str, str, float, int, int, int]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = sum(1 for _ in c.decode(s))
        return (
            s.codec_context.name,
            s.codec_context.pix_fmt,
            float(s.average_rate),
            n,
            s.width,
            s.height,
        )


def test_track_writes_annotated_h264_video_and_per_track_files(tmp_path: Path) -> None:
    video = render_video(tmp_path / "in" / "street.mp4", frames=30, fps=10)
    run = track([video], detector=ColourDetector(), out=tmp_path / "out")
    (res,) = run.results
    assert res.status == "done" and res.frames_analysed == 30
    assert res.counts == {"Car": 1, "Pedestrian": 1}
    assert read_video(res.outputs["video"]) == ("h264", "yuv420p", 10.0, 30, 160, 120)
    with open(res.outputs["video"], "rb") as f:
        head = f.read(64)
    assert head.find(b"moov") != -1 or b"ftyp" in head  # faststart: moov before mdat
    data = json.loads(res.outputs["json"].read_text())
    assert {t["class_name"] for t in data["tracks"]} == {"Car", "Pedestrian"}
    car = next(t for t in data["tracks"] if t["class_name"] == "Car")
    assert (
        car["first_frame"] == 0 and car["frames_seen"] >= 28 and car["size"] in ("small", "medium")
    )
    assert res.outputs["csv"].read_text().startswith("track_id,class_name,")
    mot = res.outputs["mot"].read_text().splitlines()
    assert len(mot) >= 56 and mot[0].startswith("1,") and len(mot[0].split(",")) == 9
    assert not list((tmp_path / "out").glob("*.part"))


def test_moov_atom_comes_first_for_browser_playback(tmp_path: Path) -> None:
    video = render_video(tmp_path / "a.mp4", frames=10)
    (res,) = track(video, detector=ColourDetector(), out=tmp_path / "out").results
    data = res.outputs["video"].read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")


def test_rotated_video_is_analysed_and_written_upright(tmp_path: Path) -> None:
    video = render_video(tmp_path / "phone.mp4", frames=12, width=160, height=96, rotation=90)
    det = ColourDetector()
    (res,) = track(video, detector=det, out=tmp_path / "out").results
    assert read_video(res.outputs["video"])[4:] == (96, 160)
    assert all(r.image_width == 96 and r.image_height == 160 for r in res.tracks)


def test_stride_and_time_range_choose_the_frames_analysed(tmp_path: Path) -> None:
    video = render_video(tmp_path / "a.mp4", frames=40, fps=10)
    det = ColourDetector()
    (res,) = track(video, detector=det, out=tmp_path / "o1", stride=3, video=False).results
    assert res.frames_analysed == 14 and det.images == 14
    assert "video" not in res.outputs
    frames = {int(line.split(",")[0]) for line in res.outputs["mot"].read_text().splitlines()}
    assert frames <= {i * 3 + 1 for i in range(14)}
    det2 = ColourDetector()
    (res2,) = track(video, detector=det2, out=tmp_path / "o2", start=1.0, end=2.0).results
    assert res2.frames_analysed == 11
    assert min(t.first_time for t in res2.tracks) >= 1.0
    assert max(t.last_time for t in res2.tracks) <= 2.0
    assert read_video(res2.outputs["video"])[3] == 11


def test_counting_line_reports_crossings_per_class_and_direction(tmp_path: Path) -> None:
    video = render_video(tmp_path / "a.mp4", frames=30)
    (res,) = track(
        video, detector=ColourDetector(), out=tmp_path / "o", line=(80, 0, 80, 120)
    ).results
    assert res.crossings == {"Car": {"in": 1, "out": 0}, "Pedestrian": {"in": 0, "out": 1}}
    assert json.loads(res.outputs["json"].read_text())["crossings"] == res.crossings


def test_min_frames_drops_briefly_seen_objects(tmp_path: Path) -> None:
    flash = Mover(1, (30, 30, 230), 150, 70, -40, 0)  # crosses the picture in 4 frames
    video = render_video(
        tmp_path / "a.mp4", frames=20, movers=(Mover(0, (230, 30, 30), 4, 30, 4, 0), flash)
    )
    (res,) = track(
        video, detector=ColourDetector(), out=tmp_path / "o", tracker="sort", min_frames=3
    ).results
    assert res.counts == {"Car": 1}


def test_a_low_conf_scales_vigie_thresholds_for_weak_models(tmp_path: Path) -> None:
    video = render_video(tmp_path / "a.mp4", frames=20)
    weak = ColourDetector(confidence=0.1)
    (res,) = track(video, detector=weak, out=tmp_path / "o1", video=False).results
    assert res.tracks == []  # under the default --conf 0.35 nothing is kept
    (res,) = track(video, detector=weak, out=tmp_path / "o2", conf=0.05, video=False).results
    assert res.counts == {"Car": 1, "Pedestrian": 1}


def test_truncated_and_corrupt_videos_give_partial_results_and_failures(tmp_path: Path) -> None:
    src = render_video(tmp_path / "full.mp4", frames=60)
    folder = tmp_path / "in"
    folder.mkdir()
    fast = folder / "cut.mp4"
    with (
        av.open(str(src)) as i,
        av.open(str(tmp_path / "fs.mp4"), "w", options={"movflags": "+faststart"}) as o,
    ):
        s = o.add_stream_from_template(i.streams.video[0])
        for pk in i.demux(i.streams.video[0]):
            if pk.dts is not None:
                pk.stream = s
                o.mux(pk)
    data = (tmp_path / "fs.mp4").read_bytes()
    fast.write_bytes(data[: int(len(data) * 0.6)])
    (folder / "moov_cut.mp4").write_bytes(src.read_bytes()[: len(src.read_bytes()) * 6 // 10])
    (folder / "empty.mov").write_bytes(b"")
    run = track(folder, detector=ColourDetector(), out=tmp_path / "out")
    by_name = {r.video.name: r for r in run.results}
    cut = by_name["cut.mp4"]
    assert cut.status == "partial" and "truncated" in (cut.warning or "")
    assert 0 < cut.frames_decoded < 60 and cut.tracks
    assert by_name["moov_cut.mp4"].status == "failed" and by_name["empty.mov"].status == "failed"
    assert (run.counts.done, run.counts.failed) == (1, 2)


def test_rerun_skips_done_videos_and_keeps_one_row_per_track(
    workspace: Workspace, tmp_path: Path
) -> None:
    video = render_video(tmp_path / "a.mp4", frames=20)
    cat = workspace.catalog
    first = track(video, detector=ColourDetector(), out=tmp_path / "o", catalog=cat)
    det = ColourDetector()
    again = track(video, detector=det, out=tmp_path / "o", catalog=cat)
    assert again.results[0].status == "skipped" and det.images == 0
    assert again.results[0].counts == first.results[0].counts
    track(video, detector=ColourDetector(), out=tmp_path / "o", catalog=cat, force=True)
    item = cat.item_by_path(video)
    assert item is not None and item.kind == "video"
    rows = tracks_of(cat, item.id)
    assert len(rows) == 2 and {r.class_name for r in rows} == {"Car", "Pedestrian"}
    with cat.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tracks)).scalar_one() == 2
    changed = track(video, detector=ColourDetector(), out=tmp_path / "o", catalog=cat, stride=2)
    assert changed.results[0].status == "done"  # other settings: analysed again
    elsewhere = track(video, detector=ColourDetector(), out=tmp_path / "p", catalog=cat, stride=2)
    assert elsewhere.results[0].status == "done"  # another output folder: written there too
    assert (tmp_path / "p" / "a.tracks.json").is_file()
    assert [r.status for r in cat.last_runs("track")] == ["done"] * 5


def test_db_writes_one_row_per_track_with_millisecond_times(tmp_path: Path) -> None:
    video = render_video(tmp_path / "53_1234567_3.mp4", frames=25, fps=10)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    for _ in range(2):  # a rerun replaces the rows
        track(video, detector=ColourDetector(), out=tmp_path / "o", db_url=url)
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = (
            conn.execute(text("SELECT * FROM yolo_video_detection ORDER BY logo")).mappings().all()
        )
    engine.dispose()
    assert len(rows) == 2
    car = rows[0]
    assert (car["study_id"], car["media_id"], car["plateform_id"], car["logo"]) == (
        53,
        "1234567",
        "3",
        "Car",
    )
    assert str(car["timeBegin"]).startswith("00:00:00") and car["size"] in ("small", "meduim")
    assert str(rows[1]["timeEnd"]).startswith("00:00:02.4")


@pytest.mark.mariadb
def test_db_rows_land_in_mariadb_study_schema(tmp_path: Path, study_db: StudyDB) -> None:
    video = render_video(tmp_path / "53_99_3.mp4", frames=25, fps=10)
    track(video, detector=ColourDetector(), out=tmp_path / "o", db_url=study_db.url)
    track(video, detector=ColourDetector(), out=tmp_path / "o", db_url=study_db.url, force=True)
    engine = create_engine(study_db.url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT logo, CAST(timeEnd AS CHAR) AS te FROM yolo_video_detection ORDER BY logo")
        ).all()
    engine.dispose()
    assert [r.logo for r in rows] == ["Car", "Pedestrian"]
    assert rows[1].te == "00:00:02.400"


def test_bad_options_and_missing_sources_are_refused(tmp_path: Path) -> None:
    video = render_video(tmp_path / "a.mp4", frames=5)
    with pytest.raises(ConfigError, match="stride"):
        track(video, detector=ColourDetector(), out=tmp_path / "o", stride=0)
    with pytest.raises(ConfigError, match="unknown tracker"):
        track(video, detector=ColourDetector(), out=tmp_path / "o", tracker="kcf")
    with pytest.raises(SourceError, match="does not exist"):
        track(tmp_path / "nope.mp4", detector=ColourDetector(), out=tmp_path / "o")
    with pytest.raises(ConfigError, match="no model"):
        track(video, out=tmp_path / "o")


@pytest.mark.slow
def test_track_runs_a_real_yolo_model_end_to_end(tiny_model: Path, tmp_path: Path) -> None:
    video = render_video(tmp_path / "a.mp4", frames=12, width=160, height=160)
    run = track(
        video,
        model=tiny_model,
        backend="torch",
        imgsz=160,
        conf=0.001,
        tracker="sort",
        min_frames=1,
        out=tmp_path / "o",
    )
    (res,) = run.results
    assert res.status == "done" and res.frames_analysed == 12
    assert read_video(res.outputs["video"])[3] == 12
    assert all(t.class_name for t in res.tracks)


def test_a_stalled_decoder_is_abandoned_with_an_error(tmp_path: Path) -> None:
    import time

    from vigie.media import FrameReader

    video = render_video(tmp_path / "a.mp4", frames=10)

    def slow(index: int, t: float) -> bool:
        if index == 3:
            time.sleep(1.5)  # stands for FFmpeg stuck on a hostile file
        return True

    reader = FrameReader(video, slow, stall_timeout=0.3)
    frames = [f.index for f in reader]
    assert frames == [0, 1, 2]
    assert reader.error is not None and "stalled" in reader.error


def test_start_seeks_into_a_long_video_and_keeps_frame_numbers(tmp_path: Path) -> None:
    video = render_video(tmp_path / "a.mp4", frames=80, fps=10)
    det = ColourDetector()
    (res,) = track(
        video, detector=det, out=tmp_path / "o", start=4.0, end=5.0, tracker="sort"
    ).results
    assert det.images == 11 and res.frames_analysed == 11
    first = min(int(line.split(",")[0]) for line in res.outputs["mot"].read_text().splitlines())
    assert first == 41  # frame 40 (t = 4.0 s), written from 1
    assert res.warning is None and read_video(res.outputs["video"])[3] == 11


def test_an_encoding_failure_fails_that_video_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigie.errors import MediaError
    from vigie.track.pipeline import render as outputs

    real = outputs.VideoWriter

    class FullDisk(real):  # type: ignore[misc, valid-type]
        def close(self) -> None:
            super().close()
            if self.path.name.startswith("a."):
                raise MediaError("cannot encode a.mp4: No space left on device")

    monkeypatch.setattr(outputs, "VideoWriter", FullDisk)
    videos = [render_video(tmp_path / "in" / f"{n}.mp4", frames=8) for n in ("a", "b", "c")]
    run = track(videos, detector=ColourDetector(), out=tmp_path / "o")
    assert [(r.video.name, r.status) for r in run.results] == [
        ("a.mp4", "failed"),
        ("b.mp4", "done"),
        ("c.mp4", "done"),
    ]
    assert "No space" in (run.results[0].error or "")
    assert not (tmp_path / "o" / "a.mp4").exists() and (tmp_path / "o" / "c.mp4").exists()
    assert not list((tmp_path / "o").glob("*.part"))
