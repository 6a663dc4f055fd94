"""The documented examples of docs/capture.md, run with CliRunner against 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.capture.helpers import cycling, frames, kept_files
from tests.fixtures.http import FaultServer, Reply
from vigie.catalog import Catalog
from vigie.cli import app

runner = CliRunner()


def test_cli_capture_url_camera_every_count_out(fault_server: FaultServer, tmp_path: Path) -> None:
    url = fault_server.route("/snapshot.jpg", cycling(frames(1), frames(1), frames(2)))
    ws = tmp_path / "ws"
    res = runner.invoke(
        app,
        [
            "-w",
            str(ws),
            "capture",
            "--url",
            url,
            "--camera",
            "gate",
            "--every",
            "0.05",
            "--count",
            "3",
            "--out",
            str(tmp_path / "caps"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "gate" in res.output
    assert len(kept_files(tmp_path / "caps" / "gate")) == 2
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        assert len(cat.items(key_prefix="camera:gate:", status="done")) == 2
        assert cat.last_runs("capture")[0].counts["duplicates"] == 1


def test_cli_capture_several_urls_with_hash_threshold_timezone(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    u1 = fault_server.route("/a/north.jpg", cycling(frames(3)))
    u2 = fault_server.route("/b/south.jpg", cycling(frames(4), frames(5)))
    res = runner.invoke(
        app,
        [
            "-w",
            str(tmp_path),
            "capture",
            "--url",
            u1,
            "--url",
            u2,
            "--every",
            "0.05",
            "--count",
            "2",
            "--out",
            str(tmp_path / "caps"),
            "--hash",
            "phash",
            "--threshold",
            "2",
            "--timezone",
            "local",
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(kept_files(tmp_path / "caps" / "north")) == 1
    assert len(kept_files(tmp_path / "caps" / "south")) == 2


def test_cli_capture_picks_camera_from_grandlyon_geojson(
    shared_dir: Path, fault_server: FaultServer, tmp_path: Path
) -> None:
    feed = json.loads((shared_dir / "fixtures" / "grandlyon-criter-cameras.geojson").read_text())
    for f in feed["features"]:  # point every camera at the local fake camera
        name = f["properties"]["numeromaintenance"]
        f["properties"]["url"] = fault_server.route(f"/{name}.JPG", cycling(frames(6)))
    local = tmp_path / "cameras.geojson"
    local.write_text(json.dumps(feed))
    res = runner.invoke(
        app,
        [
            "-w",
            str(tmp_path),
            "capture",
            "--cameras",
            str(local),
            "--camera",
            "CWL9018",
            "--every",
            "0.05",
            "--count",
            "1",
            "--out",
            str(tmp_path / "caps"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert [p.name for p in (tmp_path / "caps").iterdir()] == ["CWL9018"]
    with Catalog(f"sqlite:///{tmp_path / 'vigie.db'}") as cat:
        item = cat.items(status="done")[0]
        assert item.key.startswith("camera:CWL9018:")


def test_cli_capture_text_camera_list(fault_server: FaultServer, tmp_path: Path) -> None:
    u1 = fault_server.route("/x.jpg", cycling(frames(7)))
    u2 = fault_server.route("/y.jpg", cycling(frames(8)))
    lst = tmp_path / "cams.txt"
    lst.write_text(f"left {u1}\nright,{u2}\n")
    res = runner.invoke(
        app,
        [
            "-w",
            str(tmp_path),
            "capture",
            "--cameras",
            str(lst),
            "--every",
            "0.05",
            "--count",
            "1",
            "--out",
            str(tmp_path / "caps"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "caps").iterdir()) == ["left", "right"]


def test_cli_capture_reads_seed_image_url(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGE_URL", fault_server.route("/CWL9018.JPG", Reply(body=frames(9))))
    res = runner.invoke(
        app,
        [
            "-w",
            str(tmp_path),
            "capture",
            "--every",
            "0.05",
            "--count",
            "1",
            "--out",
            str(tmp_path / "caps"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(kept_files(tmp_path / "caps" / "CWL9018")) == 1


def test_cli_capture_kind_flag_reads_an_mjpeg_stream(tmp_path: Path, mjpeg_server: Any) -> None:
    url = mjpeg_server.url("/static")
    args = ["-w", str(tmp_path), "capture", "--url", url, "--camera", "gate", "--kind", "mjpeg"]
    res = runner.invoke(
        app, [*args, "--every", "0.1", "--count", "3", "--out", str(tmp_path / "c")]
    )
    assert res.exit_code == 0, res.output
    assert len(kept_files(tmp_path / "c" / "gate")) == 1
    res = runner.invoke(app, ["-w", str(tmp_path), "capture", "--url", url, "--kind", "rtsp"])
    assert res.exit_code == 1 and "--kind rtsp needs an rtsp:// URL" in res.output


def test_cli_capture_without_camera_is_one_clear_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["-w", str(tmp_path), "capture", "--count", "1"])
    assert res.exit_code == 1
    assert "no camera to capture" in res.output and "hint:" in res.output
    res = runner.invoke(app, ["-w", str(tmp_path), "capture", "--url", "ftp://x/y.jpg"])
    assert res.exit_code == 1 and "not a camera URL" in res.output


@pytest.fixture
def feed_url(shared_dir: Path, fault_server: FaultServer) -> str:
    body = (shared_dir / "fixtures" / "grandlyon-criter-cameras.geojson").read_bytes()
    return fault_server.route("/cameras.geojson", Reply(body=body))


def test_cli_cameras_list_search(feed_url: str, tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        ["-w", str(tmp_path), "cameras", "list", "--source", feed_url, "--search", "Croix Rousse"],
    )
    assert res.exit_code == 0, res.output
    assert "CWL9018" in res.output


def test_cli_cameras_list_json(feed_url: str, tmp_path: Path, shared_dir: Path) -> None:
    res = runner.invoke(
        app, ["-w", str(tmp_path), "cameras", "list", "--source", feed_url, "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert len(data) == 15
    first = next(d for d in data if d["name"] == "CWL9018")
    assert first["lat"] == pytest.approx(45.7748934)
    local = shared_dir / "fixtures" / "grandlyon-criter-cameras.geojson"
    res = runner.invoke(
        app, ["-w", str(tmp_path), "cameras", "list", "--source", str(local), "--json"]
    )
    assert json.loads(res.stdout) == data


def test_cli_cameras_list_unreachable_feed(fault_server: FaultServer, tmp_path: Path) -> None:
    url = fault_server.route("/down", Reply(status=503))
    res = runner.invoke(app, ["-w", str(tmp_path), "cameras", "list", "--source", url])
    assert res.exit_code == 1
    assert "HTTP 503" in res.output and "--source FILE" in res.output
