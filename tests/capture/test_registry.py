from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.http import FaultServer, Reply
from vigie.capture import list_cameras, load_cameras, select_cameras
from vigie.capture.registry import name_from_url, parse_camera_list, safe_name
from vigie.errors import ConfigError, NetworkError, SourceError


@pytest.fixture
def feed(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "grandlyon-criter-cameras.geojson"


def test_list_cameras_reads_grandlyon_feed_served_on_loopback(
    feed: Path, fault_server: FaultServer
) -> None:
    url = fault_server.route(
        "/wfs/cameras.json",
        Reply(body=feed.read_bytes(), headers={"Content-Type": "application/json"}),
    )
    cams = list_cameras(url)
    assert len(cams) == 15
    seed = next(c for c in cams if c.name == "CWL9018")
    assert seed.label == "Tunnel Croix Rousse"
    assert seed.description == "Pont Clemenceau"
    assert seed.identifier == "218"
    assert seed.observation == "Direction : Tunnel de la Croix Rousse"
    assert seed.url.endswith("/CWL9018.JPG")
    assert seed.lon == pytest.approx(4.80811826) and seed.lat == pytest.approx(45.7748934)
    assert len({c.name for c in cams}) == 15


def test_list_cameras_search_filters_by_name_or_place(feed: Path) -> None:
    found = list_cameras(feed, search="croix rousse")
    assert "CWL9018" in {c.name for c in found}
    assert all(c.matches("croix rousse") for c in found)
    assert list_cameras(feed, search="no such camera anywhere") == []


def test_list_cameras_reports_unreachable_or_bad_feeds(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    with pytest.raises(NetworkError):
        list_cameras(fault_server.route("/gone", Reply(status=404)))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SourceError):
        list_cameras(bad)
    with pytest.raises(ConfigError):
        list_cameras(tmp_path / "missing.geojson")


def test_json_list_and_values_shapes_are_accepted(tmp_path: Path) -> None:
    rec = {"nom": "A", "numeromaintenance": "X1", "url": "http://10.0.0.2/x1.jpg"}
    for data in ([rec], {"values": [rec]}):
        path = tmp_path / "c.json"
        path.write_text(json.dumps(data))
        (cam,) = load_cameras(path)
        assert (cam.name, cam.label, cam.lon) == ("X1", "A", None)


def test_text_and_csv_camera_lists(tmp_path: Path) -> None:
    text = """# my cameras
http://192.168.1.20/snapshot.jpg
gate http://127.0.0.1:8000/gate.jpg
name,url
yard,http://cam.local/yard.jpg
"""
    cams = parse_camera_list(text)
    assert [(c.name, c.url) for c in cams] == [
        ("snapshot", "http://192.168.1.20/snapshot.jpg"),
        ("gate", "http://127.0.0.1:8000/gate.jpg"),
        ("yard", "http://cam.local/yard.jpg"),
    ]
    with pytest.raises(SourceError):
        parse_camera_list("just-a-name\n")


def test_select_cameras_by_name_identifier_or_label(feed: Path) -> None:
    cams = load_cameras(feed)
    assert [c.name for c in select_cameras(cams, ["cwl9018"])] == ["CWL9018"]
    assert [c.name for c in select_cameras(cams, ["218"])] == ["CWL9018"]
    with pytest.raises(ConfigError):
        select_cameras(cams, ["nope"])


def test_names_are_safe_for_folders() -> None:
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("") == "camera"
    assert name_from_url("http://127.0.0.1:8000/") == "127.0.0.1"
    assert name_from_url("https://x/files/CWL9018.JPG?t=1") == "CWL9018"
