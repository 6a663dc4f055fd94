"""Headless Chromium for the report tests, and a catalog filled with fixture rows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.common import Workspace, in_ci
from vigie.catalog import Catalog
from vigie.catalog.detections import replace_detections
from vigie.catalog.models import register_model
from vigie.catalog.tracks import replace_tracks
from vigie.demo.scene import Scene, render_video, write_snapshots
from vigie.types import size_category

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")

# Run after load: every <img> decoded, every chart SVG laid out; the result goes in the title.
CHECK_SCRIPT = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var badImgs = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
    .map(function (i) { return i.getAttribute('src'); });
  var svgs = Array.prototype.slice.call(document.querySelectorAll('svg.chart'));
  var badSvgs = svgs.filter(function (s) {
    var r = s.getBoundingClientRect(), b = s.getBBox();
    return !(r.width > 0 && r.height > 0 && b.width > 0 && b.height > 0 &&
             s.querySelectorAll('rect.bar, polyline.series').length > 0);
  }).map(function (s) { return s.querySelector('title').textContent; });
  document.title = 'CHECK' + JSON.stringify(
    {images: imgs.length, badImages: badImgs, charts: svgs.length, badCharts: badSvgs});
});
</script>"""


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium binary; missing fails under CI (scripts/install-chromium.sh installs it)."""
    found = find_chromium()
    if found is None:
        message = "chromium is missing: run scripts/install-chromium.sh (make test does)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return found


def _chromium_args(binary: str, profile: Path) -> list[str]:
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ]


def check_in_chromium(binary: str, index: Path, tmp: Path) -> dict[str, object]:
    """Open a copy of ``index`` with CHECK_SCRIPT in headless Chromium; return the check."""
    page = index.with_name("check.html")
    page.write_text(
        index.read_text(encoding="utf-8").replace("</body>", CHECK_SCRIPT + "</body>"),
        encoding="utf-8",
    )
    args = _chromium_args(binary, tmp / "profile-dom")
    args += ["--virtual-time-budget=10000", "--dump-dom", page.as_uri()]
    res = subprocess.run(args, capture_output=True, text=True, timeout=120, env=_env())
    page.unlink()
    dom = res.stdout
    start = dom.find("<title>CHECK")
    assert start >= 0, f"the check did not run (rc={res.returncode}): {res.stderr[-2000:]}"
    end = dom.find("</title>", start)
    import html

    return json.loads(html.unescape(dom[start + len("<title>CHECK") : end]))


def screenshot(binary: str, index: Path, dest: Path, tmp: Path) -> Path:
    """A full-page PNG of the report as Chromium renders it."""
    args = _chromium_args(binary, tmp / "profile-shot")
    args += [f"--screenshot={dest}", "--window-size=1280,3200", "--hide-scrollbars"]
    args += ["--virtual-time-budget=5000", index.as_uri()]
    subprocess.run(args, capture_output=True, text=True, timeout=120, env=_env(), check=False)
    return dest


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("HOME", "/tmp")
    return env


def fill_catalog(ws: Workspace) -> dict[str, int]:
    """Rows of every stage: camera snapshots with detections, study media (some failed),
    a video, a registered model with a results.csv. Returns a few ids."""
    cat: Catalog = ws.catalog
    scene = Scene(seed=1)
    shots = write_snapshots(scene, ws.root / "captures" / "CAM1", range(0, 120, 10))
    cam = cat.source("camera", "CAM1", url="http://127.0.0.1:1/camera.jpg")
    t0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    rows = []
    for i, p in enumerate(shots):
        rows.append(
            {
                "key": f"camera:CAM1:{i}",
                "source_id": cam,
                "kind": "image",
                "path": str(p.resolve()),
                "filename": p.name,
                "captured_at": t0 + timedelta(seconds=10 * i),
                "status": "done",
                "width": scene.width,
                "height": scene.height,
            }
        )
    for i in range(4):
        rows.append(
            {
                "key": f"camera:CAM1:dup{i}",
                "source_id": cam,
                "kind": "image",
                "path": None,
                "filename": None,
                "captured_at": t0 + timedelta(seconds=5 + 20 * i),
                "status": "duplicate",
                "width": None,
                "height": None,
            }
        )
    cat.upsert_items(rows)
    by_item = {}
    for i, p in enumerate(shots):
        item = cat.item(f"camera:CAM1:{i}")
        assert item is not None
        frame = int(p.stem.split("_")[1])
        by_item[item.id] = [_det_row(b, scene) for b in scene.boxes(frame)]
    replace_detections(cat, by_item, model_name="demo-model")

    study = cat.source("study", "53")
    study_rows = []
    study_shots = write_snapshots(scene, ws.root / "study", range(300, 340, 10), prefix="53")
    for i, p in enumerate(study_shots):
        study_rows.append(
            {
                "key": f"study:53:image:{p.name}",
                "source_id": study,
                "kind": "image",
                "path": str(p.resolve()),
                "study_id": 53,
                "platform_id": 1 + i % 2,
                "status": "done",
                "error_class": None,
                "meta": {"platform_name": "instagram" if i % 2 == 0 else "facebook"},
            }
        )
    for i, reason in enumerate(["http_404", "http_404", "not_media", "truncated"]):
        study_rows.append(
            {
                "key": f"study:53:image:bad{i}.jpg",
                "source_id": study,
                "kind": "image",
                "path": None,
                "study_id": 53,
                "platform_id": 1,
                "status": "failed",
                "error_class": reason,
                "meta": None,
            }
        )
    cat.upsert_items(study_rows)
    by_item = {}
    for i, p in enumerate(study_shots):
        item = cat.item(f"study:53:image:{p.name}")
        assert item is not None
        by_item[item.id] = [_det_row(b, scene) for b in scene.boxes(300 + 10 * i)]
    replace_detections(cat, by_item, model_name="demo-model")

    video = render_video(scene, ws.root / "study" / "53_v1_3.mp4", frames=40)
    vid = cat.upsert_item(
        key="study:53:video:53_v1_3.mp4",
        source_id=study,
        kind="video",
        path=str(video.resolve()),
        filename=video.name,
        study_id=53,
        platform_id=3,
        status="done",
        duration=4.0,
        fps=10.0,
    )

    _add_tracks(cat, vid, scene, start=0, frames=40)

    run_dir = ws.root / "runs" / "train" / "demo-model"
    (run_dir / "weights").mkdir(parents=True)
    (run_dir / "weights" / "best.pt").write_bytes(b"not really weights")
    lines = [
        "                  epoch,         train/box_loss,         train/cls_loss,"
        "         train/dfl_loss,   metrics/precision(B),      metrics/recall(B),"
        "       metrics/mAP50(B),    metrics/mAP50-95(B),           val/box_loss"
    ]
    for e in range(1, 6):
        lines.append(
            f"{e},{3.0 - 0.4 * e},{4.0 - 0.6 * e},{1.8 - 0.1 * e},{0.1 * e},{0.08 * e},"
            f"{0.09 * e},{0.05 * e},{2.9 - 0.3 * e}"
        )
    (run_dir / "results.csv").write_text("\n".join(lines) + "\n")
    register_model(
        cat,
        "demo-model",
        run_dir / "weights" / "best.pt",
        classes={0: "Car", 1: "Bus"},
        metrics={"all": {"precision": 0.5, "recall": 0.4, "mAP50": 0.45, "mAP50-95": 0.25}},
        params={"epochs": 5, "imgsz": 320},
    )
    return {"camera": cam, "study": study, "video": vid}


def _add_tracks(cat: Catalog, video_id: int, scene: Scene, start: int, frames: int) -> None:
    """One track row per scene object seen in the video (its ground truth, summarised)."""
    seen: dict[int, list[tuple[int, object]]] = {}
    for f in range(start, start + frames):
        for b in scene.boxes(f):
            seen.setdefault(b.object_id, []).append((f - start, b))
    rows = []
    for obj_id, obs in seen.items():
        first, last = obs[0][0], obs[-1][0]
        det = _det_row(obs[len(obs) // 2][1], scene)
        rows.append(
            {
                "track_id": obj_id,
                "class_id": det["class_id"],
                "class_name": det["class_name"],
                "max_confidence": 0.9,
                "mean_confidence": 0.8,
                "first_frame": first,
                "last_frame": last,
                "first_time": first / scene.fps,
                "last_time": last / scene.fps,
                "frames_seen": len(obs),
                **{k: det[k] for k in ("x1", "y1", "x2", "y2", "area", "area_percentage", "size")},
            }
        )
    replace_tracks(
        cat, video_id, rows, model_name="demo-model", tracker="vigie", run_id=None,
        video={"signature": "x", "status": "done", "frames_decoded": frames},
    )  # fmt: skip


def _det_row(b: object, scene: Scene) -> dict[str, object]:
    x1, y1, x2, y2 = b.x1, b.y1, b.x2, b.y2  # type: ignore[attr-defined]
    area = (x2 - x1) * (y2 - y1)
    pct = 100.0 * area / (scene.width * scene.height)
    return {
        "class_id": b.class_id,  # type: ignore[attr-defined]
        "class_name": b.class_name,  # type: ignore[attr-defined]
        "confidence": 0.9,
        "x1": x1,
        "y1": y1,
        "x2": x2,
        "y2": y2,
        "area": area,
        "area_percentage": pct,
        "size": size_category(pct),
    }
