"""The dashboard while a capture writes the catalog: the cameras page follows it by itself."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.capture.helpers import frames
from tests.fixtures.common import Workspace
from tests.fixtures.http import FaultServer, Reply, RequestInfo, wait_until
from tests.serve.conftest import Page, running
from vigie.capture import capture
from vigie.cli import app


def _new_picture_every_poll() -> Callable[[RequestInfo], Reply]:
    state = {"n": 0}

    def reply(_info: RequestInfo) -> Reply:
        state["n"] += 1
        return Reply(body=frames(state["n"]), headers={"Content-Type": "image/jpeg"})

    return reply


@pytest.fixture
def live_capture(workspace: Workspace, fault_server: FaultServer) -> Iterator[threading.Event]:
    """A capture of the fake camera ``live`` every 0.5 s, in a thread, until the event is set."""
    url = fault_server.route("/live.jpg", _new_picture_every_poll())
    stop = threading.Event()
    thread = threading.Thread(
        target=capture,
        args=([url],),
        kwargs={
            "names": ["live"],
            "every": 0.5,
            "count": 0,
            "out": workspace.root / "captures",
            "settings": workspace.settings,
            "catalog": workspace.catalog,
            "stop_event": stop,
        },
    )
    thread.start()
    try:
        assert wait_until(lambda: bool(workspace.catalog.items(status="done")), timeout=20)
        yield stop
    finally:
        stop.set()
        thread.join(timeout=30)


def _kept(page: Any) -> int:
    return int(page.inner_text("#cameras [data-field=done]").replace(",", ""))


def test_cameras_page_shows_a_new_frame_within_seconds(
    workspace: Workspace, live_capture: threading.Event, tab: Page, screenshot: Callable[..., Path]
) -> None:
    with running(workspace.root, refresh=1.0) as dash:
        check = tab.open(dash.url + "cameras")
        page = tab.page
        first = _kept(page)
        first_src = page.get_attribute("#cameras img", "src")
        assert page.inner_text("#cameras .health") == "ok"
        # no reload: the page asks /api/cameras every second and re-renders the card
        page.wait_for_function(
            f"() => Number(document.querySelector('#cameras [data-field=done]')"
            f".textContent.replace(/,/g, '')) > {first}",
            timeout=10_000,
        )
        page.wait_for_function(
            "() => { const i = document.querySelector('#cameras img');"
            " return i.complete && i.naturalWidth > 0; }",
            timeout=10_000,
        )
        assert page.get_attribute("#cameras img", "src") != first_src
        assert _kept(page) > first
        screenshot(tab, "cameras-live")
        live_capture.set()  # the capture stops: the page says so by itself
        page.wait_for_function(
            "() => document.querySelector('#cameras .health').textContent === 'stale'",
            timeout=15_000,
        )
        reason = page.inner_text("#cameras .reason")
    assert check["badImages"] == [] and check["badCharts"] == [] and check["charts"] == 1
    assert "capture not running" in reason
    assert tab.problems == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_capture_with_serve_runs_the_dashboard_until_the_capture_stops(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    url = fault_server.route("/gate.jpg", _new_picture_every_poll())
    port = _free_port()
    ws = tmp_path / "ws"
    args = ["-w", str(ws), "capture", "--url", url, "--camera", "gate", "--every", "0.3",
            "--count", "15", "--out", str(ws / "captures"), "--serve", str(port)]  # fmt: skip
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.update(res=CliRunner().invoke(app, args)))
    thread.start()
    api = f"http://127.0.0.1:{port}/api/cameras"
    seen: list[int] = []

    def kept() -> bool:
        try:
            cams = httpx.get(api, timeout=2).json()["cameras"]
        except (httpx.HTTPError, ValueError):
            return False
        if cams:
            seen.append(cams[0]["polls"]["done"])
        return len(set(seen)) >= 2  # it answered twice with a different count

    try:
        assert wait_until(kept, timeout=30, step=0.2), seen
    finally:
        thread.join(timeout=60)
    res = result["res"]
    assert res.exit_code == 0, res.output
    assert f"dashboard on http://127.0.0.1:{port}/" in res.output
    assert seen == sorted(seen)
    with pytest.raises(httpx.ConnectError):  # stopped with the capture
        httpx.get(api, timeout=2)
