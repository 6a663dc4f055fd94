"""Every page and JSON endpoint over a filled catalog: the filters return what SQL says, pages
walk the whole match in SQL-side pages, files stream with HTTP Range."""

from __future__ import annotations

import io
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.fixtures.common import Workspace
from vigie.serve import Dashboard

FILTERS: list[dict[str, Any]] = [
    {},
    {"class": "Car"},
    {"class": "Bus", "model": "second-model"},
    {"size": "medium"},
    {"size": "large", "class": "Car"},
    {"min_conf": "0.3", "max_conf": "0.7"},
    {"min_conf": "0.9"},
    {"camera": "CAM1"},
    {"study": "53"},
    {"camera": "CAM1", "class": "Bus", "min_conf": "0.2"},
    {"since": "2026-01-05T08:00:30", "until": "2026-01-05T08:01:10"},
    {"since": "2026-01-05", "until": "2026-01-05", "model": "demo-model"},
    {"camera": "nobody"},
]

# The same filters written by hand in SQL, straight on the catalog file.
SQL = """
SELECT d.id, d.media_item_id FROM detections d
JOIN media_items m ON m.id = d.media_item_id
LEFT JOIN sources s ON s.id = m.source_id
WHERE (:camera IS NULL OR (s.kind = 'camera' AND s.name = :camera))
  AND (:study IS NULL OR m.study_id = :study)
  AND (:model IS NULL OR d.model_name = :model)
  AND (:class IS NULL OR d.class_name = :class)
  AND (:size IS NULL OR d.size = :size)
  AND (:min_conf IS NULL OR d.confidence >= :min_conf)
  AND (:max_conf IS NULL OR d.confidence <= :max_conf)
  AND (:since IS NULL OR coalesce(m.captured_at, m.created_at) >= :since)
  AND (:until IS NULL OR coalesce(m.captured_at, m.created_at) <= :until)
"""


def _stored(text: str) -> str:
    """A time as the catalog's SQLite file holds it (UTC, microseconds)."""
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sql(db: Path, f: dict[str, Any]) -> tuple[set[int], list[int]]:
    since, until = f.get("since"), f.get("until")
    params = {
        "camera": f.get("camera"),
        "study": int(f["study"]) if "study" in f else None,
        "model": f.get("model"),
        "class": f.get("class"),
        "size": f.get("size"),
        "min_conf": float(f["min_conf"]) if "min_conf" in f else None,
        "max_conf": float(f["max_conf"]) if "max_conf" in f else None,
        "since": _stored(since) if since else None,
        "until": _stored(until + "T23:59:59.999999" if len(until) == 10 else until)
        if until
        else None,
    }
    with sqlite3.connect(db) as conn:
        rows = conn.execute(SQL, params).fetchall()
    return {r[0] for r in rows}, sorted({r[1] for r in rows}, reverse=True)


def _walk(base: str, f: dict[str, Any], limit: int = 3) -> tuple[set[int], list[int], int]:
    """Every page of /api/detections, following ``next``; (box ids, image ids, matches)."""
    boxes: set[int] = set()
    images: list[int] = []
    cursor: int | None = None
    matches = -1
    while True:
        params = {**f, "limit": str(limit), **({"before": str(cursor)} if cursor else {})}
        page = httpx.get(base + "api/detections", params=params).json()
        matches = page["matches"]
        assert len(page["images"]) <= limit
        for img in page["images"]:
            images.append(img["id"])
            boxes |= {b["id"] for b in img["boxes"]}
        cursor = page["next"]
        if cursor is None:
            return boxes, images, matches


@pytest.mark.parametrize(
    "f", FILTERS, ids=lambda f: "&".join(f"{k}={v}" for k, v in f.items()) or "all"
)
def test_detection_filters_return_what_sql_says(
    dashboard: Dashboard, shared: Workspace, f: dict[str, Any]
) -> None:
    want_boxes, want_images = _sql(shared.root / "vigie.db", f)
    boxes, images, matches = _walk(dashboard.url, f)
    assert boxes == want_boxes
    assert images == want_images  # newest media item first, each image once, none skipped
    assert matches == len(want_boxes)


def test_detection_pages_go_back_with_prev(dashboard: Dashboard) -> None:
    base = dashboard.url + "api/detections"
    first = httpx.get(base, params={"limit": 4}).json()
    second = httpx.get(base, params={"limit": 4, "before": first["next"]}).json()
    assert first["prev"] is None and second["prev"] == second["images"][0]["id"]
    back = httpx.get(base, params={"limit": 4, "after": second["prev"]}).json()
    assert [i["id"] for i in back["images"]] == [i["id"] for i in first["images"]]
    assert back["prev"] is None and back["next"] == first["next"]


def test_detections_page_shows_the_filtered_grid_and_pager(dashboard: Dashboard) -> None:
    html = httpx.get(dashboard.url + "detections", params={"class": "Bus", "limit": 2}).text
    api = httpx.get(dashboard.url + "api/detections", params={"class": "Bus", "limit": 2}).json()
    assert f"{api['matches']} matching detections" in html
    for img in api["images"]:
        assert f'href="/detections/{img["id"]}"' in html
    assert html.count('class="box"') == sum(len(i["boxes"]) for i in api["images"])
    assert 'rel="next"' in html and f"before={api['next']}" in html
    assert "<option selected>Bus</option>" in html


def test_one_image_shows_every_box_and_its_json(dashboard: Dashboard, shared: Workspace) -> None:
    item = shared.catalog.item("camera:CAM1:3")
    assert item is not None
    data = httpx.get(dashboard.url + f"api/detections/{item.id}").json()
    with sqlite3.connect(shared.root / "vigie.db") as conn:
        n = conn.execute("SELECT count(*) FROM detections WHERE media_item_id = ?", (item.id,))
        expected = n.fetchone()[0]
    assert len(data["boxes"]) == expected
    assert {b["model"] for b in data["boxes"]} == {"demo-model", "second-model"}
    html = httpx.get(dashboard.url + f"detections/{item.id}").text
    assert html.count('class="box"') == expected and '<pre id="json">' in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_conf": "high"}, "min_conf must be a number"),
        ({"max_conf": "nan"}, "max_conf must be a number"),
        ({"size": "huge"}, "size must be one of"),
        ({"since": "yesterday"}, "since must be a date"),
        ({"limit": "0"}, "limit must be between"),
        ({"study": "53x"}, "study must be a number"),
    ],
)
def test_bad_filters_are_a_400_that_says_why(
    dashboard: Dashboard, params: dict[str, str], message: str
) -> None:
    res = httpx.get(dashboard.url + "api/detections", params=params)
    assert res.status_code == 400 and message in res.json()["error"]
    page = httpx.get(dashboard.url + "detections", params=params)
    assert page.status_code == 400 and message in page.text and "<html" in page.text


def test_unknown_ids_are_404(dashboard: Dashboard) -> None:
    for path in (
        "api/detections/999999",
        "api/videos/999999",
        "api/cameras/999999",
        "media/999999",
    ):
        res = httpx.get(dashboard.url + path)
        assert res.status_code == 404 and "error" in res.json(), path
    assert httpx.get(dashboard.url + "detections/999999").status_code == 404
    assert httpx.get(dashboard.url + "no/such/page").status_code == 404


def test_cameras_json_and_page_agree(dashboard: Dashboard) -> None:
    data = httpx.get(dashboard.url + "api/cameras").json()
    (cam,) = data["cameras"]
    assert cam["name"] == "CAM1" and cam["polls"] == {"done": 12, "duplicate": 4, "failed": 0}
    assert cam["last_kept"]["media"] == f"/media/{cam['last_kept']['id']}"
    assert cam["health"]["state"] == "stale"  # rows without a capture run: nothing polls it
    assert sum(h["done"] for h in cam["per_hour"]) == 12 and len(cam["per_hour"]) == 24
    html = httpx.get(dashboard.url + "cameras").text
    assert f'data-version="{cam["version"]}"' in html and "polls per hour" in html
    card = httpx.get(dashboard.url + f"cameras/{cam['id']}/card").text
    assert card.startswith('<article class="camera') and cam["name"] in card


def test_counts_zoom_to_a_time_range(dashboard: Dashboard) -> None:
    everything = httpx.get(dashboard.url + "api/counts").json()
    (cam,) = everything["cameras"]
    assert cam["snapshots"] == 12 and cam["model"] == "second-model"  # the newest, as the report
    assert everything["extent"] == {"first": "2026-01-05T08:00:00Z", "last": "2026-01-05T08:01:50Z"}
    window = {"since": "2026-01-05T08:00:00", "until": "2026-01-05T08:00:55"}
    zoomed = httpx.get(dashboard.url + "api/counts", params=window).json()
    assert zoomed["cameras"][0]["snapshots"] == 6
    times = [t for pts in zoomed["cameras"][0]["series"].values() for t, _ in pts]
    assert times and all("2026-01-05T08:00:00Z" <= t <= "2026-01-05T08:00:55Z" for t in times)
    assert {(s["study_id"], s["platform"]) for s in everything["studies"]} == {
        (53, "instagram"),
        (53, "facebook"),
        (53, "platform 3"),
    }
    html = httpx.get(dashboard.url + "counts", params=window).text
    assert "6 kept snapshots in this range" in html and "08:00:" in html


def test_videos_list_and_one_video_with_its_tracks(dashboard: Dashboard, shared: Workspace) -> None:
    (video,) = httpx.get(dashboard.url + "api/videos").json()["videos"]
    assert video["name"] == "53_v1_3.mp4" and video["annotated"] is None  # no video written
    one = httpx.get(dashboard.url + f"api/videos/{video['id']}").json()
    with sqlite3.connect(shared.root / "vigie.db") as conn:
        n = conn.execute("SELECT count(*) FROM tracks WHERE media_item_id = ?", (video["id"],))
        assert len(one["track_rows"]) == n.fetchone()[0] > 0
    html = httpx.get(dashboard.url + f"videos/{video['id']}").text
    assert f'src="/media/{video["id"]}"' in html and html.count('class="track"') == len(
        one["track_rows"]
    )


def test_downloads_show_progress_and_failures_by_reason(dashboard: Dashboard) -> None:
    data = httpx.get(dashboard.url + "api/downloads").json()
    study = data["study"]
    assert study["study_id"] == 53
    assert study["failures"] == {"http_404": 2, "not_media": 1, "truncated": 1}
    assert study["by_kind"]["image"] == {"done": 4, "failed": 4}
    assert len(study["recent_failures"]) == 4
    html = httpx.get(dashboard.url + "downloads", params={"study": 53}).text
    assert "http_404" in html and "Study 53: 5 of 9 items downloaded" in html


def test_models_show_metrics_and_training_curves(dashboard: Dashboard) -> None:
    (model,) = httpx.get(dashboard.url + "api/models").json()["models"]
    assert model["name"] == "demo-model" and model["metrics"]["all"]["mAP50"] == 0.45
    assert len(model["curves"]["train/box_loss"]) == 5
    html = httpx.get(dashboard.url + "models").text
    assert "losses of demo-model" in html and "validation metrics of demo-model" in html


def test_api_index_lists_every_endpoint(dashboard: Dashboard) -> None:
    endpoints = httpx.get(dashboard.url + "api").json()["endpoints"]
    for path in list(endpoints):
        plain = path.split("?")[0].replace("{id}", "1")
        if plain.endswith("/1") and "cameras" not in plain:
            continue  # ids of this catalog differ
        assert httpx.get(dashboard.url + plain.lstrip("/")).status_code == 200, path


def test_media_stream_with_range_and_thumbnails(dashboard: Dashboard, shared: Workspace) -> None:
    video = shared.catalog.item("study:53:video:53_v1_3.mp4")
    assert video is not None and video.path
    data = Path(video.path).read_bytes()
    part = httpx.get(dashboard.url + f"media/{video.id}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert part.headers["accept-ranges"] == "bytes"
    whole = httpx.get(dashboard.url + f"media/{video.id}")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "video/mp4"
    snap = shared.catalog.item("camera:CAM1:0")
    assert snap is not None
    thumb = httpx.get(dashboard.url + f"media/{snap.id}", params={"w": "160"})
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumb.content)) as img:
        assert max(img.size) == 160
    assert httpx.get(dashboard.url + f"media/{snap.id}", params={"w": "5000"}).status_code == 400


def test_pages_carry_headers_that_keep_them_to_this_server(dashboard: Dashboard) -> None:
    res = httpx.get(dashboard.url + "cameras")
    assert "script-src 'self'" in res.headers["content-security-policy"]
    assert res.headers["x-content-type-options"] == "nosniff"
    assert "http://" not in res.text.replace("http://www.w3.org/2000/svg", "").replace(
        "http://127.0.0.1:1/camera.jpg", ""
    )  # nothing loads from elsewhere: no CDN


@pytest.mark.mariadb
def test_the_dashboard_reads_a_mariadb_catalog(mysql_db: str, tmp_path: Path) -> None:
    from sqlalchemy.exc import OperationalError

    from tests.report.conftest import fill_catalog
    from tests.serve.conftest import running_url
    from vigie.catalog import Catalog
    from vigie.config import load_settings

    root = tmp_path / "ws"
    root.mkdir()
    writer = Catalog(mysql_db)
    fill_catalog(Workspace(root, load_settings(workspace=root, catalog_url=mysql_db), writer))
    writer.close()
    with running_url(mysql_db, root) as dash:
        cams = httpx.get(dash.url + "api/cameras").json()["cameras"]
        window = {"since": "2026-01-05T08:00:00", "until": "2026-01-05T08:00:55"}
        counts = httpx.get(dash.url + "api/counts", params=window).json()
        dets = httpx.get(dash.url + "api/detections", params={"camera": "CAM1", **window}).json()
        study = httpx.get(dash.url + "api/downloads").json()["study"]
        pages = [httpx.get(dash.url + p).status_code for p in ("cameras", "detections", "videos")]
        refused = pytest.raises(OperationalError, match=r"READ ONLY|read only|read-only")
        with refused, dash.app.state.catalog.engine.begin() as conn:  # the session refuses writes
            conn.exec_driver_sql("UPDATE sources SET name = 'x'")
    assert cams[0]["polls"]["done"] == 12 and sum(h["done"] for h in cams[0]["per_hour"]) == 12
    assert counts["cameras"][0]["snapshots"] == 6
    assert len(dets["images"]) == 6 and dets["matches"] > 0
    assert study["failures"]["http_404"] == 2
    assert pages == [200, 200, 200]
