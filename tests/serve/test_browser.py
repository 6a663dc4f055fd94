"""Every page of the dashboard in headless Chromium, over a workspace made by the demo.

Each page: every image decoded (naturalWidth > 0), every chart drawn, every video playable, no
console error and no failed request. Screenshots are saved (the folder is printed at the end).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serve.conftest import Page, running

pytestmark = pytest.mark.slow

Shot = Callable[[Page, str], Path]
PAGES = ("cameras", "counts", "detections", "videos", "downloads", "models")


def _clean(check: dict[str, Any]) -> None:
    assert check["badImages"] == [], check
    assert check["badCharts"] == [], check
    assert check["badVideos"] == [], check


def test_every_page_renders_in_chromium(demo_workspace: Path, tab: Page, screenshot: Shot) -> None:
    with running(demo_workspace) as dash:
        checks = {}
        for name in PAGES:
            checks[name] = tab.open(dash.url + name)
            screenshot(tab, name)
    for check in checks.values():
        _clean(check)
    assert checks["cameras"]["images"] >= 1 and checks["cameras"]["charts"] >= 1
    assert checks["counts"]["charts"] >= 2  # a camera over time, the studies by size
    assert checks["detections"]["images"] >= 10
    assert checks["downloads"]["charts"] >= 1
    assert checks["models"]["charts"] >= 2  # losses, validation metrics
    assert tab.problems == []


def test_a_click_on_a_detection_opens_the_full_image_with_every_box_and_its_json(
    demo_workspace: Path, tab: Page, screenshot: Shot
) -> None:
    with running(demo_workspace) as dash:
        _clean(tab.open(dash.url + "detections"))
        tab.page.click(".card >> nth=0")
        tab.page.wait_for_url("**/detections/*")
        check = tab.open(tab.page.url)
        screenshot(tab, "detection")
        shown = json.loads(tab.page.inner_text("#json"))
        api = httpx.get(dash.url + f"api/detections/{shown['id']}").json()
        rects = tab.page.eval_on_selector_all(".full svg.boxes rect.box", "els => els.length")
    _clean(check)
    assert check["images"] == 1
    assert shown == api and rects == len(api["boxes"]) > 0
    assert tab.problems == []


def test_filters_in_the_page_show_only_matching_boxes(demo_workspace: Path, tab: Page) -> None:
    with running(demo_workspace) as dash:
        tab.open(dash.url + "detections")
        tab.page.select_option("select[name=class]", "Car")
        tab.page.fill("input[name=min_conf]", "0.2")
        tab.page.click("form.filters button[type=submit]")
        tab.page.wait_for_url("**class=Car**")
        check = tab.open(tab.page.url)
        titles = tab.page.eval_on_selector_all(
            "#grid rect.box title", "els => els.map(e => e.textContent)"
        )
        summary = tab.page.inner_text("#summary")
        api = httpx.get(dash.url + "api/detections", params={"class": "Car", "min_conf": "0.2"})
    _clean(check)
    assert titles and all(t.startswith("Car ") for t in titles)
    assert all(float(t.split()[1]) >= 0.2 for t in titles)
    assert summary.startswith(f"{api.json()['matches']:,} matching detections")
    assert tab.problems == []


def test_a_click_on_a_track_jumps_to_its_first_frame(
    demo_workspace: Path, tab: Page, screenshot: Shot
) -> None:
    with running(demo_workspace) as dash:
        tab.open(dash.url + "videos")
        tab.page.click("table a >> nth=0")
        tab.page.wait_for_url("**/videos/*")
        check = tab.open(tab.page.url)
        starts = json.loads(tab.page.get_attribute("#timeline", "data-starts") or "[]")
        later = max(range(len(starts)), key=lambda i: starts[i])
        assert starts[later] > 0.3  # a track that does not start at the first frame

        def seek_by(selector: str) -> float:
            tab.page.evaluate("() => { window.__seeked = false; document.getElementById("
                              "'player').addEventListener('seeked', () => { window.__seeked = "
                              "true; }, {once: true}); }")  # fmt: skip
            tab.page.click(selector)
            tab.page.wait_for_function("() => window.__seeked === true", timeout=10_000)
            return float(tab.page.evaluate("() => document.getElementById('player').currentTime"))

        by_bar = seek_by(f"#timeline rect.bar >> nth={later}")
        current = tab.page.get_attribute(f"#tracks tr.track >> nth={later}", "class") or ""
        by_row = seek_by("#tracks tr.track >> nth=0")
        screenshot(tab, "video")
    _clean(check)
    assert check["videos"] == 1
    assert abs(by_bar - starts[later]) < 0.06 and "current" in current
    assert abs(by_row - starts[0]) < 0.06
    assert tab.problems == []


def test_counts_zoom_keeps_a_drawn_chart(demo_workspace: Path, tab: Page) -> None:
    with running(demo_workspace) as dash:
        tab.open(dash.url + "counts")
        tab.page.click("button[data-zoom='0.5']")
        tab.page.wait_for_url("**since=**")
        check = tab.open(tab.page.url)
        axis = tab.page.eval_on_selector_all("svg.chart text", "els => els.map(e => e.textContent)")
    _clean(check)
    assert check["charts"] >= 1
    assert any(":" in t for t in axis)  # real times of day on the x axis
    assert tab.problems == []
