from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.capture.helpers import (
    HTML_ERROR,
    cycling,
    frames,
    kept_files,
    png_bomb,
    reencoded,
    statuses,
    truncated,
)
from tests.fixtures.common import Workspace
from tests.fixtures.http import FaultServer, Reply, RequestInfo
from vigie.capture import capture, last_kept_frame
from vigie.capture.core import FRAME_NAME
from vigie.dedup import hamming, image_hash

JPEG = {"Content-Type": "image/jpeg"}


def run(ws: Workspace, urls: list[str], **kw: object) -> object:
    kw.setdefault("every", 0.05)
    kw.setdefault("out", ws.root / "caps")
    return capture(urls, settings=ws.settings, catalog=ws.catalog, **kw)  # type: ignore[arg-type]


def test_capture_keeps_exactly_the_new_frames_of_a_scripted_camera(
    workspace: Workspace, fault_server: FaultServer
) -> None:
    a, b = frames(2), frames(1)
    a_again = reencoded(a)
    assert a_again != a and hamming(image_hash(a_again, fast=False), image_hash(a, fast=False)) == 0
    times: list[float] = []
    script = [
        Reply(body=a, headers=JPEG),  # 1 new frame -> kept
        Reply(body=a, headers=JPEG),  # 2 same bytes -> duplicate
        Reply(body=a_again, headers=JPEG),  # 3 same picture re-encoded -> duplicate
        Reply(body=HTML_ERROR, headers={"Content-Type": "image/jpeg"}),  # 4 error page
        Reply(status=503, body=b"busy"),  # 5
        Reply(status=429, body=b"slow down", headers={"Retry-After": "1"}),  # 6
        Reply(body=b, headers=JPEG, delay=1.5),  # 7 slow: over the 0.5 s timeout
        Reply(body=truncated(b), headers=JPEG),  # 8 half a JPEG
        Reply(body=png_bomb(), headers={"Content-Type": "image/png"}),  # 9 decompression bomb
        Reply(body=b"", headers=JPEG),  # 10 empty body
        Reply(body=b, headers=JPEG),  # 11 new frame -> kept
        Reply(body=b, headers=JPEG),  # 12 same -> duplicate
    ]

    def route(info: RequestInfo) -> Reply:
        times.append(time.monotonic())
        return script.pop(0) if len(script) > 1 else script[0]

    url = fault_server.route("/cam.jpg", route)
    result = run(workspace, [url], names=["cam"], count=12, timeout=0.5)

    folder = workspace.root / "caps" / "cam"
    files = kept_files(folder)
    assert len(files) == 2 and all(FRAME_NAME.match(f) for f in files)
    assert [(folder / f).read_bytes() for f in files] == [a, b]
    assert statuses(workspace.catalog, "cam") == [
        ("done", None),
        ("duplicate", None),
        ("duplicate", None),
        ("failed", "not_an_image"),
        ("failed", "http_503"),
        ("failed", "http_429"),
        ("failed", "timeout"),
        ("failed", "truncated"),
        ("failed", "decompression_bomb"),
        ("failed", "empty"),
        ("done", None),
        ("duplicate", None),
    ]
    assert times[6] - times[5] >= 0.9  # Retry-After: 1 honoured
    stats = result.cameras[0]  # type: ignore[attr-defined]
    assert (stats.polls, stats.kept, stats.duplicates, stats.failed) == (12, 2, 3, 7)
    assert stats.kept + stats.duplicates + stats.failed == stats.polls
    done = workspace.catalog.items(status="done")
    assert {r.path for r in done} == {str((folder / f).resolve()) for f in files}
    assert all(r.ahash and r.phash and r.dhash and r.sha256 and r.width == 320 for r in done)
    run_row = workspace.catalog.last_runs("capture")[0]
    assert run_row.status == "done"
    assert run_row.counts == {"done": 2, "skipped": 0, "failed": 7, "duplicates": 3, "polls": 12}


def test_capture_uses_conditional_requests_and_counts_304_as_duplicate(
    workspace: Workspace, fault_server: FaultServer
) -> None:
    a = frames(3)

    def route(info: RequestInfo) -> Reply:
        if info.headers.get("If-None-Match") == '"v1"':
            return Reply(status=304)
        return Reply(
            body=a,
            headers={**JPEG, "ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"},
        )

    url = fault_server.route("/snap", route)
    run(workspace, [url], names=["etag"], count=3)
    assert (
        kept_files(workspace.root / "caps" / "etag")
        and len(kept_files(workspace.root / "caps" / "etag")) == 1
    )
    assert [r.headers.get("If-None-Match") for r in fault_server.requests] == [None, '"v1"', '"v1"']
    assert (
        fault_server.requests[1].headers.get("If-Modified-Since") == "Mon, 01 Jan 2024 00:00:00 GMT"
    )
    dups = workspace.catalog.items(status="duplicate")
    assert [r.meta["reason"] for r in dups] == ["not_modified", "not_modified"]


def test_capture_skips_frame_identical_to_previous_with_threshold(
    workspace: Workspace, fault_server: FaultServer
) -> None:
    a, b = frames(4), frames(5)
    url = fault_server.route("/c.jpg", cycling(a, a, b, b, a))
    run(workspace, [url], names=["t"], count=5, method="dhash")
    folder = workspace.root / "caps" / "t"
    assert [(folder / f).read_bytes() for f in kept_files(folder)] == [a, b, a]


def test_capture_never_overwrites_frames_taken_in_the_same_second(
    workspace: Workspace, fault_server: FaultServer
) -> None:
    bodies = [frames(s) for s in range(10, 16)]
    url = fault_server.route("/same.jpg", cycling(*bodies))
    run(workspace, [url], names=["fast"], count=6, every=0.02)
    folder = workspace.root / "caps" / "fast"
    files = kept_files(folder)
    assert len(files) == 6
    assert sorted((folder / f).read_bytes() for f in files) == sorted(bodies)
    assert last_kept_frame(folder) is not None
    assert last_kept_frame(folder).read_bytes() == bodies[-1]  # type: ignore[union-attr]


def test_capture_restart_continues_against_last_kept_frame(
    workspace: Workspace, fault_server: FaultServer
) -> None:
    a, b = frames(6), frames(7)
    url = fault_server.route("/r.jpg", Reply(body=a, headers=JPEG))
    run(workspace, [url], names=["r"], count=2)
    folder = workspace.root / "caps" / "r"
    assert len(kept_files(folder)) == 1
    (folder / "20990101000000.jpg.part").write_bytes(b"stale")  # left by a killed run
    second = run(workspace, [url], names=["r"], count=2)
    assert second.kept == 0 and second.duplicates == 2  # type: ignore[attr-defined]
    assert not list(folder.glob("*.part"))
    fault_server.route("/r.jpg", Reply(body=b, headers=JPEG))
    third = run(workspace, [url], names=["r"], count=1)
    assert third.kept == 1  # type: ignore[attr-defined]
    assert len(kept_files(folder)) == 2


def test_capture_several_cameras_each_in_its_own_folder(
    workspace: Workspace, fault_server: FaultServer
) -> None:
    u1 = fault_server.route("/one/CAM1.jpg", cycling(frames(8), frames(9)))
    u2 = fault_server.route("/two/CAM2.JPG", Reply(status=500, body=b"down"))
    u3 = fault_server.route("/three/CAM3.jpg", cycling(frames(20)))
    result = run(workspace, [u1, u2, u3], count=3)
    caps = workspace.root / "caps"
    assert sorted(p.name for p in caps.iterdir()) == ["CAM1", "CAM2", "CAM3"]
    assert len(kept_files(caps / "CAM1")) == 3
    assert kept_files(caps / "CAM2") == []
    assert len(kept_files(caps / "CAM3")) == 1
    by_name = {c.name: c for c in result.cameras}  # type: ignore[attr-defined]
    assert by_name["CAM2"].failures == {"http_500": 3}
    assert by_name["CAM3"].duplicates == 2
    sources = {r.source_id for r in workspace.catalog.items()}
    assert len(sources) == 3


def test_capture_local_timezone_names_files_with_local_clock(
    workspace: Workspace, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        url = fault_server.route("/tz.jpg", Reply(body=frames(30), headers=JPEG))
        run(workspace, [url], names=["tz"], count=1, timezone="local")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    row = workspace.catalog.items(status="done")[0]
    captured = row.captured_at
    assert row.filename[:10] != captured.strftime("%Y%m%d%H")  # UTC and Tokyo differ by 9 h
    from datetime import UTC, datetime, timedelta

    local = datetime.strptime(row.filename[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    utc = captured.replace(tzinfo=UTC) if captured.tzinfo is None else captured
    assert abs((local - utc) - timedelta(hours=9)) < timedelta(seconds=2)


def test_capture_stops_when_stop_event_is_set(
    workspace: Workspace, fault_server: FaultServer
) -> None:
    import threading

    stop = threading.Event()
    url = fault_server.route("/s.jpg", cycling(frames(40), frames(41)))
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    result = run(workspace, [url], names=["s"], count=0, stop_event=stop)
    assert result.interrupted  # type: ignore[attr-defined]
    assert result.kept >= 1  # type: ignore[attr-defined]
    assert workspace.catalog.last_runs("capture")[0].status == "interrupted"


def test_capture_uses_image_url_setting_when_no_url(
    workspace: Workspace, fault_server: FaultServer, tmp_path: Path
) -> None:
    from vigie.config import load_settings

    url = fault_server.route("/CWL9018.JPG", Reply(body=frames(50), headers=JPEG))
    cfg = load_settings(workspace=workspace.root, image_url=url)
    capture(settings=cfg, catalog=workspace.catalog, count=1, every=0.05, out=tmp_path / "o")
    assert len(kept_files(tmp_path / "o" / "CWL9018")) == 1


def test_capture_survives_resets_short_bodies_and_refused_connections(
    workspace: Workspace, fault_server: FaultServer
) -> None:
    a = frames(80)
    url = fault_server.route(
        "/f.jpg",
        Reply(body=a, headers=JPEG, fault="reset"),
        Reply(body=a, headers=JPEG, fault="short"),
        Reply(fault="close"),
        Reply(body=a, headers=JPEG, delay=0.3),  # slow but within the timeout: kept
    )
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{s.getsockname()[1]}/cam.jpg"
    result = run(workspace, [url, refused], names=["f", "refused"], count=4, timeout=2)
    by_name = {c.name: c for c in result.cameras}  # type: ignore[attr-defined]
    assert by_name["refused"].failures == {"connection_error": 4}
    f = by_name["f"]
    assert (f.kept, f.failed) == (1, 3)
    # the reset may surface as a timeout: the fixture keeps the socket open until the handler ends
    assert f.failures["truncated"] == 1 and f.failures["connection_error"] == 1
    assert set(f.failures) <= {"truncated", "connection_error", "timeout"}
    assert kept_files(workspace.root / "caps" / "f") and not list(
        (workspace.root / "caps" / "f").glob("*.part")
    )


def test_capture_until_stopped_returns_only_the_latest_frames(
    workspace: Workspace, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # count=0 runs for days: the result's frame list must not grow with the run (the soak's
    # "memory flat"); every kept frame is still on disk and in the catalog
    import threading

    from vigie.capture import runner

    monkeypatch.setattr(runner, "FRAMES_IN_RESULT", 3)
    stop = threading.Event()
    url = fault_server.route("/f.jpg", cycling(*(frames(90 + i) for i in range(8))))

    def on_poll(stats: object, outcome: str) -> None:
        if stats.kept >= 6:  # type: ignore[attr-defined]
            stop.set()

    result = run(workspace, [url], names=["f"], count=0, stop_event=stop, on_poll=on_poll)
    assert result.kept >= 6  # type: ignore[attr-defined]
    kept = [r.filename for r in workspace.catalog.items(key_prefix="camera:f:", status="done")]
    assert len(kept) == len(kept_files(workspace.root / "caps" / "f")) == result.kept  # type: ignore[attr-defined]
    assert [f.path.name for f in result.frames] == kept[-3:]  # type: ignore[attr-defined]


def test_capture_with_a_count_returns_every_kept_frame(
    workspace: Workspace, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigie.capture import runner

    monkeypatch.setattr(runner, "FRAMES_IN_RESULT", 3)
    url = fault_server.route("/c.jpg", cycling(*(frames(100 + i) for i in range(5))))
    result = run(workspace, [url], names=["c"], count=5)
    assert len(result.frames) == result.kept == 5  # type: ignore[attr-defined]
