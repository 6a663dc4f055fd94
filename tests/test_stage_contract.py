"""The stage contract: every stage called through the public Python API (``vigie.<name>``), given a
workspace's settings and no catalog, records its own run in that workspace's catalog, as
``vigie <stage>`` does; and its options left unset come from the settings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import vigie
from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes, write_video
from vigie.catalog import Catalog
from vigie.config import Settings, load_settings


@pytest.fixture
def ws(tmp_path: Path) -> Settings:
    """A workspace's settings; its catalog is created by the first stage that runs."""
    root = tmp_path / "ws"
    root.mkdir()
    return load_settings(workspace=root, allow_private_networks=True)


@pytest.fixture
def runs(ws: Settings) -> Iterator[Any]:
    """``runs(command)``: the run rows of ``command`` in the workspace's catalog, newest first."""
    opened: list[Catalog] = []

    def _runs(command: str) -> list[Any]:
        cat = Catalog(ws.resolved_catalog_url)
        opened.append(cat)
        return cat.last_runs(command)

    yield _runs
    for cat in opened:
        cat.close()


def images(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"img{i}.jpg").write_bytes(jpeg_bytes(seed=i))
    return folder


def test_capture_records_its_run(ws: Settings, runs: Any, fault_server: FaultServer) -> None:
    url = fault_server.route(
        "/cam.jpg", Reply(body=jpeg_bytes(), headers={"Content-Type": "image/jpeg"})
    )
    result = vigie.capture(urls=[url], every=0.01, count=1, settings=ws)
    (run,) = runs("capture")
    assert run.id == result.run_id and run.status == "done" and run.counts["done"] == 1


def test_links_records_its_run(ws: Settings, runs: Any, study_db: Any) -> None:
    ws.links.s3_bucket = "vigie-media"
    vigie.build_links(
        study_db.study, study_db.start, study_db.end, db_url=study_db.url, settings=ws
    )
    (run,) = runs("links")
    assert run.status == "done" and run.counts["done"] > 0


def test_download_records_its_run(ws: Settings, runs: Any, fault_server: FaultServer) -> None:
    url = fault_server.route(
        "/a.jpg", Reply(body=jpeg_bytes(), headers={"Content-Type": "image/jpeg"})
    )
    url_list = ws.workspace / "urls.txt"
    url_list.write_text(url + "\n")
    vigie.download(urls=url_list, out=ws.workspace / "dl", settings=ws)
    (run,) = runs("download")
    assert run.status == "done" and run.counts["done"] == 1


def test_dedup_records_its_run_with_options_from_the_settings(ws: Settings, runs: Any) -> None:
    folder = images(ws.workspace / "imgs", 2)
    (folder / "copy.jpg").write_bytes((folder / "img0.jpg").read_bytes())
    ws.dedup.hash = "dhash"
    report = vigie.find_duplicates(folder, settings=ws)
    assert report.method == "dhash" and report.duplicate_count == 1
    (run,) = runs("dedup")
    assert run.status == "done" and run.counts["duplicates"] == 1
    assert run.config["dedup"]["hash"] == "dhash"


def test_extract_frames_records_its_run_with_options_from_the_settings(
    ws: Settings, runs: Any
) -> None:
    video = write_video(ws.workspace / "clip.mp4", frames=6)
    ws.frames.format = "png"
    result = vigie.extract_frames(video, mode="all", out=ws.workspace / "frames", settings=ws)
    assert result.written == 6 and all(f.path.suffix == ".png" for f in result.frames if f.path)
    (run,) = runs("frames")
    assert run.status == "done" and run.counts["done"] == 6
    assert run.config["options"]["video"] == str(video)


def test_extract_folder_records_one_run(ws: Settings, runs: Any) -> None:
    from vigie.frames import extract_folder

    write_video(ws.workspace / "videos" / "a.mp4", frames=4)
    extract_folder(ws.workspace / "videos", mode="all", out=ws.workspace / "f", settings=ws)
    (run,) = runs("frames")
    assert run.status == "done" and run.counts["done"] == 4


def test_pull_from_an_export_records_its_run(ws: Settings, runs: Any) -> None:
    export = ws.workspace / "export.json"
    export.write_text(json.dumps([{"id": 1, "data": {"image": "x.jpg"}, "annotations": []}]))
    vigie.pull_from_labelstudio(
        ws.workspace / "ls", export_file=export, labels=["Car"], download=False, settings=ws
    )
    (run,) = runs("labelstudio pull")
    assert run.status == "done"


def test_push_records_its_run(
    ws: Settings, runs: Any, labelstudio_server: Any, ls_project: Any
) -> None:
    from vigie.labelstudio import LabelStudioClient

    pid = ls_project()
    folder = images(ws.workspace / "to-label", 2)
    with LabelStudioClient(labelstudio_server.url, labelstudio_server.token) as client:
        result = vigie.push_to_labelstudio(client, None, folder, pid, settings=ws)
    assert result.imported == 2
    (run,) = runs("labelstudio push")
    assert run.status == "done" and run.counts["done"] == 2


def test_build_dataset_records_its_run(ws: Settings, runs: Any) -> None:
    source = ws.workspace / "labelled"
    images(source / "images", 4)
    (source / "labels").mkdir()
    for i in range(4):
        (source / "labels" / f"img{i}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    result = vigie.build_dataset(source, ws.workspace / "dataset", names=["Car"], settings=ws)
    assert result.train + result.val == 4
    (run,) = runs("dataset build")
    assert run.status == "done" and run.counts["done"] == 4


def test_a_failed_run_is_recorded_as_failed(ws: Settings, runs: Any) -> None:
    from vigie.errors import DatasetError

    (ws.workspace / "empty" / "labels").mkdir(parents=True)
    with pytest.raises(DatasetError):
        vigie.build_dataset(ws.workspace / "empty", ws.workspace / "d", names=["Car"], settings=ws)
    (run,) = runs("dataset build")
    assert run.status == "failed" and "no labelled image" in run.error


@pytest.mark.slow
def test_train_records_its_run(ws: Settings, runs: Any, traffic_dataset: Path) -> None:
    fast = {"imgsz": 64, "batch": 8, "workers": 0, "device": "cpu"}
    vigie.train(traffic_dataset, model="yolo11n.yaml", name="c", epochs=1, settings=ws, **fast)
    (run,) = runs("train")
    assert run.status == "done" and run.config["train"]["model"] == "yolo11n.pt"  # the setting
    assert run.config["options"]["model"] == "yolo11n.yaml"  # what this call asked for


@pytest.mark.slow
def test_detect_records_its_run(ws: Settings, runs: Any, tiny_model: Path) -> None:
    folder = images(ws.workspace / "imgs", 2)
    ws.detect.backend = "torch"
    result = vigie.detect(folder, model=tiny_model, imgsz=160, settings=ws)
    assert result.backend == "torch" and result.out == ws.workspace.absolute()
    (run,) = runs("detect")
    assert run.id == result.run_id and run.status == "done" and run.counts["done"] == 2


def test_track_records_its_run(ws: Settings, runs: Any) -> None:
    from tests.track.helpers import ColourDetector, render_video

    video = render_video(ws.workspace / "street.mp4", frames=8, fps=10)
    ws.track.stride = 2
    result = vigie.track(video, detector=ColourDetector(), settings=ws)
    (run,) = runs("track")
    assert run.id == result.run_id and run.status == "done" and run.counts["done"] == 1
    assert result.results[0].frames_analysed == 4 and run.config["options"]["stride"] == 2
    assert (ws.workspace / "tracks" / "street.tracks.json").is_file()  # settings.track.out


def test_build_report_records_its_run(ws: Settings, runs: Any) -> None:
    index = vigie.build_report(None, ws.workspace / "report", settings=ws)
    assert index.is_file()
    (run,) = runs("report")
    assert run.status == "done"
