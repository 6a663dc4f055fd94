"""Fixtures of the dashboard tests: a demo-made workspace, a running dashboard, headless Chromium.

``demo_workspace`` is built once per session by the demo itself (``run_demo``: capture from its
camera server, links, download, frames, dataset, train, detect, track, report, all for real),
with a plan a little longer than ``--quick`` so that the model finds objects (20 short epochs at
160 px: ~2-3 min on a CPU); ``--quick``'s 2 epochs find none, which would leave the detections
and tracks pages empty.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.common import Workspace, in_ci
from tests.report.conftest import chromium, fill_catalog  # noqa: F401  (the chromium fixture)
from vigie.catalog import Catalog
from vigie.catalog.detections import replace_detections
from vigie.config import load_settings
from vigie.serve import Dashboard, ServeOptions

SERVE_PLAN = {
    "capture_seconds": 6,
    "study_images": 6,
    "study_videos": 2,
    "video_frames": 40,
    "train_clips": 3,
    "clip_frames": 48,
    "train_step": 2,
    "epochs": 20,
    "batch": 8,
    "imgsz": 160,
    "detect_conf": 0.05,
    "train_overrides": {
        "optimizer": "SGD",
        "lr0": 0.04,
        "warmup_epochs": 0,
        "mosaic": 0.0,
        "nbs": 8,  # one optimizer step per batch
        "val": False,
    },
}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
_SAVED: list[Path] = []

# Every <img> decoded, every chart laid out with at least one bar or line, every <video> with
# a decoded frame: evaluated in the page once it settled.
PAGE_CHECK = """() => {
  const imgs = Array.from(document.images);
  const svgs = Array.from(document.querySelectorAll('svg.chart'));
  const videos = Array.from(document.querySelectorAll('video'));
  return {
    images: imgs.length,
    badImages: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    charts: svgs.length,
    badCharts: svgs.filter(s => {
      const r = s.getBoundingClientRect(), b = s.getBBox();
      return !(r.width > 0 && r.height > 0 && b.width > 0 && b.height > 0 &&
               s.querySelectorAll('rect.bar, polyline.series').length > 0);
    }).map(s => s.querySelector('title').textContent),
    videos: videos.length,
    badVideos: videos.filter(v => !(v.readyState >= 2 && v.videoWidth > 0)).map(v => v.src),
  };
}"""


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace made by the demo, with detections and tracks (see the module docstring)."""
    from vigie.demo.pipeline import DemoPlan, run_demo

    out = tmp_path_factory.mktemp("serve-demo") / "ws"
    result = run_demo(out, plan=DemoPlan(**SERVE_PLAN))  # type: ignore[arg-type]
    steps = {s.name: s for s in result.steps}
    missing = [n for n in ("capture", "download", "detect", "track") if steps[n].status != "done"]
    if missing:
        message = f"the demo did not run {missing}: " + "; ".join(steps[n].summary for n in missing)
        if in_ci() or any(steps[n].status == "failed" for n in missing):
            pytest.fail(message)
        pytest.skip(message)
    return out


@contextmanager
def running_url(catalog_url: str, root: Path, **options: Any) -> Iterator[Dashboard]:
    """A dashboard over ``catalog_url`` (files from ``root``) on 127.0.0.1 and a free port,
    stopped after."""
    options.setdefault("port", 0)
    options.setdefault("refresh", 1.0)
    with Dashboard(ServeOptions(catalog_url, root, **options)) as dashboard:
        yield dashboard


def running(root: Path, **options: Any) -> AbstractContextManager[Dashboard]:
    """A dashboard over the SQLite catalog of the workspace ``root`` (see ``running_url``)."""
    return running_url(f"sqlite:///{root / 'vigie.db'}", root, **options)


@pytest.fixture
def filled(workspace: Workspace) -> Workspace:
    """A workspace whose catalog has rows of every stage (the report tests' fixture rows)."""
    fill_catalog(workspace)
    return workspace


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One filled workspace for the tests that only read it (the dashboard never writes)."""
    root = tmp_path_factory.mktemp("serve-shared") / "ws"
    root.mkdir()
    settings = load_settings(workspace=root)
    catalog = Catalog.from_settings(settings)
    ws = Workspace(root, settings, catalog)
    fill_catalog(ws)
    add_second_model(ws)
    yield ws
    catalog.close()


def _box(i: int, k: int) -> dict[str, Any]:
    return {
        "class_id": k % 2,
        "class_name": ("Car", "Bus")[k % 2],
        "confidence": round(0.05 + 0.1 * ((i + k) % 10), 2),
        "x1": 10.0 * k,
        "y1": 5.0,
        "x2": 10.0 * k + 30,
        "y2": 40.0,
        "area": 1050.0,
        "area_percentage": (12.0, 2.0, 0.5, 0.05)[k % 4],
        "size": ("large", "medium", "small", "negligible")[k % 4],
    }


def add_second_model(ws: Workspace) -> None:
    """Boxes of a second model on the camera snapshots, with confidences from 0.05 to 0.95."""
    rows = {}
    for i, item in enumerate(ws.catalog.items(key_prefix="camera:CAM1:", status="done")):
        rows[item.id] = [_box(i, k) for k in range(i % 4 + 1)]
    replace_detections(ws.catalog, rows, model_name="second-model")


@pytest.fixture(scope="session")
def dashboard(shared: Workspace) -> Iterator[Dashboard]:
    """A dashboard over ``shared``, for the whole session."""
    with running(shared.root) as dash:
        yield dash


@pytest.fixture(scope="package")
def browser(chromium: str) -> Iterator[Any]:  # noqa: F811
    """Headless Debian Chromium driven by Playwright (its own browsers are never installed).

    Package-scoped: Playwright's sync API keeps an event loop running in the main thread while
    it is open, so every later ``asyncio.run()`` (download, capture) would fail."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if in_ci():
            pytest.fail("playwright is missing: pip install 'vigie-cv[test]'")
        pytest.skip("playwright is missing")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Page:
    """A browser tab that records console errors, page errors and failed responses."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1300, "height": 900})
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console error: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status} for {response.url}")

    def open(self, url: str) -> dict[str, Any]:
        """Load ``url``, wait until it settles, and run PAGE_CHECK."""
        self.page.goto(url, wait_until="networkidle")
        for selector in ("video",):
            if self.page.query_selector(selector):
                self.page.wait_for_function(
                    "() => Array.from(document.querySelectorAll('video'))"
                    ".every(v => v.readyState >= 2)",
                    timeout=15_000,
                )
        result: dict[str, Any] = self.page.evaluate(PAGE_CHECK)
        return result

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Page]:
    page = Page(browser)
    yield page
    page.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $VIGIE_TEST_ARTIFACTS/serve, else a session temp folder."""
    base = os.environ.get("VIGIE_TEST_ARTIFACTS")
    folder = Path(base) / "serve" if base else tmp_path_factory.mktemp("serve-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def screenshot(artifacts: Path) -> Callable[[Page, str], Path]:
    def take(page: Page, name: str) -> Path:
        dest = artifacts / f"{name}.png"
        page.page.screenshot(path=str(dest), full_page=True)
        _SAVED.append(dest)
        return dest

    return take


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SAVED:
        folder = _SAVED[0].parent
        terminalreporter.write_line(f"serve: {len(_SAVED)} screenshots in {folder}")


__all__ = ["Page", "running", "running_url"]
