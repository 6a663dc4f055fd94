"""`vigie detect` sources: videos (frames stage), globs and http(s) URLs, mixed in one call."""

from __future__ import annotations

import importlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from tests.fixtures.common import Workspace
from tests.fixtures.http import FaultServer, Reply
from tests.track.helpers import DEFAULT_MOVERS, ColourDetector, frame_image, render_video
from vigie.catalog.detections import detections
from vigie.catalog.schema import media_items
from vigie.cli import app
from vigie.detect import detect
from vigie.detect.sources import estimate, url_file_name


class Colour(ColourDetector):
    label, backend, classes = "colour", "test", None


@pytest.fixture(autouse=True)
def colour_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        importlib.import_module("vigie.detect.backends"), "load_detector", lambda m, **k: Colour()
    )


def jpeg(i: int = 3) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(frame_image(i, 160, 120, DEFAULT_MOVERS)).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def write_jpeg(path: Path, i: int = 3) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg(i))
    return path


def rows(workspace: Workspace) -> list[Any]:
    with workspace.catalog.engine.connect() as conn:
        return list(conn.execute(select(media_items)))


def test_a_video_is_detected_on_the_frames_the_frames_stage_samples(
    tmp_path: Path, workspace: Workspace
) -> None:
    video = render_video(tmp_path / "in" / "street.mp4", frames=30, fps=10)
    out = tmp_path / "out"
    res = detect(video, model="m", out=out, catalog=workspace.catalog)
    assert (res.images, res.done, res.failed) == (3, 3, 0)  # t = 0, 1, 2 s: one frame a second
    assert res.per_class == {"Car": 3, "Pedestrian": 3}
    jsons = sorted((out / "detection_jsons" / "frames" / "street").glob("*.json"))
    assert len(jsons) == 3 and all(json.loads(p.read_text()) for p in jsons)
    items = rows(workspace)
    (parent,) = [r for r in items if r.kind == "video"]
    frames = [r for r in items if r.kind == "frame"]
    assert len(frames) == 3 and {r.parent_id for r in frames} == {parent.id}
    with workspace.catalog.engine.connect() as conn:
        found = {r.media_item_id for r in conn.execute(select(detections))}
    assert found == {r.id for r in frames}  # each detection traces back to a frame of the video
    again = detect(video, model="m", out=out, catalog=workspace.catalog)  # a rerun: same frames
    assert (again.images, again.done) == (3, 3) and len(rows(workspace)) == len(items)


def test_two_videos_of_the_same_name_keep_their_own_frames(tmp_path: Path) -> None:
    a = render_video(tmp_path / "a" / "clip.mp4", frames=10, fps=10)
    b = render_video(tmp_path / "b" / "clip.mp4", frames=20, fps=10)
    out = tmp_path / "out"
    res = detect([a, b], model="m", out=out)
    assert res.images == 3  # t = 0 of a; t = 0, 1 of b
    assert len(list((out / "frames" / "clip").glob("*.jpg"))) == 1
    assert len(list((out / "frames" / "clip-2").glob("*.jpg"))) == 2


def test_every_frame_when_asked(tmp_path: Path) -> None:
    from vigie.frames import Selection

    video = render_video(tmp_path / "street.mp4", frames=12, fps=10)
    res = detect(video, model="m", out=tmp_path / "o", frames=Selection("all"))
    assert res.images == res.done == 12


def test_a_glob_takes_its_matches_across_folders(tmp_path: Path) -> None:
    write_jpeg(tmp_path / "imgs" / "a" / "x.jpg")
    write_jpeg(tmp_path / "imgs" / "b" / "c" / "y.jpg")
    write_jpeg(tmp_path / "imgs" / "z.png")  # not matched by *.jpg
    out = tmp_path / "out"
    res = detect(str(tmp_path / "imgs" / "**" / "*.jpg"), model="m", out=out)
    assert (res.images, res.done) == (2, 2)
    jsons = sorted(p.relative_to(out / "detection_jsons") for p in out.rglob("*.json"))
    assert jsons == [Path("a/x.json"), Path("b/c/y.json")]  # named under the glob's folder
    assert estimate(str(tmp_path / "imgs" / "*.jpg")) is None


def test_an_http_url_is_fetched_saved_and_recorded_with_its_url(
    tmp_path: Path, fault_server: FaultServer, workspace: Workspace
) -> None:
    url = fault_server.route("/cam/shot.jpg", Reply(body=jpeg()))
    out = tmp_path / "out"
    res = detect(url, model="m", out=out, catalog=workspace.catalog, allow_private=True)
    assert (res.images, res.done, res.detections) == (1, 1, 2)
    saved = out / "downloads" / url_file_name(url, "jpg")
    assert saved.read_bytes() == jpeg() and not list(out.rglob("*.part"))
    assert saved.name == "shot.jpg"  # the URL's own name, in a folder of its own
    rel = saved.relative_to(out).with_suffix(".json")
    assert (out / "detection_jsons" / rel).is_file()
    (item,) = [r for r in rows(workspace) if r.url == url]
    assert item.status == "done" and item.path == str(saved.resolve())
    with workspace.catalog.engine.connect() as conn:
        found = {r.media_item_id for r in conn.execute(select(detections))}
    assert found == {item.id}
    again = detect(url, model="m", out=out, catalog=workspace.catalog, allow_private=True)
    assert again.done == 1 and len([r for r in rows(workspace) if r.url == url]) == 1


def test_a_dead_url_is_a_failed_item_beside_the_others(
    tmp_path: Path, fault_server: FaultServer, workspace: Workspace
) -> None:
    dead = fault_server.route("/gone.jpg", Reply(status=404))
    html = fault_server.route("/page.jpg", Reply(body=b"<html>login</html>"))
    local = write_jpeg(tmp_path / "in" / "a.jpg")
    res = detect(
        [local, dead, html], model="m", out=tmp_path / "o", catalog=workspace.catalog,
        allow_private=True,
    )  # fmt: skip
    assert (res.images, res.done, res.failed) == (3, 1, 2)
    errors = dict((str(p), e) for p, e in res.failures)
    assert "404" in errors[dead] and "HTML" in errors[html]
    failed = {r.url: r for r in rows(workspace) if r.status == "failed"}
    assert set(failed) == {dead, html} and "404" in (failed[dead].error or "")


def test_a_url_to_a_private_address_is_refused_by_default(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    url = fault_server.route("/a.jpg", Reply(body=jpeg()))
    res = detect(url, model="m", out=tmp_path / "o")
    assert (res.done, res.failed) == (0, 1) and fault_server.hits("/a.jpg") == 0
    assert "refused" in res.failures[0][1]


def test_mixed_sources_in_one_cli_call_and_exit_code_3_on_a_dead_url(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    video = render_video(tmp_path / "v" / "clip.mp4", frames=20, fps=10)
    write_jpeg(tmp_path / "imgs" / "p.jpg")
    good = fault_server.route("/ok.jpg", Reply(body=jpeg()))
    dead = fault_server.route("/dead.jpg", Reply(status=500))
    out = tmp_path / "out"
    args = ["-w", str(tmp_path), "detect", str(video), str(tmp_path / "imgs" / "*.jpg"), good]
    args += [dead, "--model", "m", "--out", str(out), "--every", "0.5"]
    result = CliRunner().invoke(
        app, args, env={"VIGIE_ALLOW_PRIVATE_NETWORKS": "1", "COLUMNS": "200"}
    )
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    jsons = (out / "detection_jsons").rglob("*.json")
    names = sorted(p.relative_to(out / "detection_jsons").as_posix() for p in jsons)
    assert len([n for n in names if n.startswith("frames/clip/")]) == 4  # 0, 0.5, 1, 1.5 s
    assert "p.json" in names and f"downloads/{url_file_name(good, 'json').as_posix()}" in names
