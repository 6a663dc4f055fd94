"""Capture from live streams served on 127.0.0.1: HLS, MJPEG and RTSP, drops and dead URLs."""

from __future__ import annotations

import io
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.capture.helpers import cycling, frames, kept_files, statuses
from tests.capture.streams import HlsServer, MjpegServer
from tests.fixtures.common import Workspace
from tests.fixtures.http import FaultServer, wait_until
from vigie.capture import CaptureResult, capture
from vigie.capture.core import FRAME_NAME
from vigie.catalog import Catalog
from vigie.config import load_settings


def run(ws: Workspace, urls: list[str], names: list[str], **kw: Any) -> CaptureResult:
    kw.setdefault("every", 0.2)
    kw.setdefault("timeout", 5.0)
    kw.setdefault("out", ws.root / "caps")
    # reopen fast: the tests drop streams on purpose
    settings = load_settings(workspace=ws.root, capture={"reopen_min": 0.1, "reopen_max": 0.5})
    return capture(urls, names=names, settings=settings, catalog=ws.catalog, **kw)


def assert_rows_match_files(ws: Workspace, camera: str, result: CaptureResult) -> list[Path]:
    """Every poll is one row; the kept rows are exactly the files, named by timestamp."""
    folder = ws.root / "caps" / camera
    files = [folder / f for f in kept_files(folder)]
    assert files and all(FRAME_NAME.match(p.name) for p in files)
    rows = ws.catalog.items(key_prefix=f"camera:{camera}:")
    stats = next(c for c in result.cameras if c.name == camera)
    assert len(rows) == stats.polls
    assert {r.path for r in rows if r.status == "done"} == {str(p.resolve()) for p in files}
    assert all(r.sha256 and r.ahash for r in rows if r.status in ("done", "duplicate"))
    return files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_capture_from_live_hls_keeps_timestamped_jpeg_frames(
    workspace: Workspace, hls_server: HlsServer
) -> None:
    result = run(workspace, [hls_server.url("/live.m3u8")], ["hls"], every=0.3, count=10)

    stats = result.cameras[0]
    assert stats.kind == "hls" and stats.failed == 0
    files = assert_rows_match_files(workspace, "hls", result)
    assert len(files) >= 2  # a new segment (a new scene) every second
    assert stats.duplicates >= 1  # ticks within one segment see the same picture
    with Image.open(files[0]) as im:
        assert (im.format, im.size) == ("JPEG", (160, 120))


def test_capture_from_static_mjpeg_keeps_one_frame_and_marks_the_rest_duplicates(
    workspace: Workspace, mjpeg_server: MjpegServer
) -> None:
    result = run(workspace, [mjpeg_server.url("/static?fps=20")], ["gate"], count=6)

    stats = result.cameras[0]
    assert stats.kind == "mjpeg"  # found from the Content-Type: the URL says nothing
    files = assert_rows_match_files(workspace, "gate", result)
    assert [p.read_bytes() for p in files] == mjpeg_server.frames["static"]  # bytes untouched
    assert statuses(workspace.catalog, "gate") == [("done", None)] + [("duplicate", None)] * 5


def test_mjpeg_parts_without_content_length_are_cut_at_the_boundary(
    workspace: Workspace, mjpeg_server: MjpegServer
) -> None:
    url = mjpeg_server.url("/moving?length=0")
    result = run(workspace, [url], ["cam"], count=6, kind="mjpeg")

    files = assert_rows_match_files(workspace, "cam", result)
    assert {p.read_bytes() for p in files} <= set(mjpeg_server.frames["moving"])
    assert result.cameras[0].failed == 0


def test_dropped_mjpeg_stream_is_reopened_and_capture_keeps_going(
    workspace: Workspace, mjpeg_server: MjpegServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = mjpeg_server.url("/moving?fps=10&drop_after=4")  # every connection dies after 4 parts
    result = run(workspace, [url], ["cam"], count=12)

    stats = result.cameras[0]
    assert stats.polls == 12 and stats.reopens >= 2
    reopening = [r for r in caplog.records if "reopening in" in r.getMessage()]
    assert len(reopening) >= stats.reopens
    files = assert_rows_match_files(workspace, "cam", result)
    assert len(files) >= 3
    rows = sorted(workspace.catalog.items(key_prefix="camera:cam:"), key=lambda r: r.captured_at)
    assert rows[-1].status in ("done", "duplicate")  # still capturing after the drops


def test_hls_server_going_down_is_a_few_failed_polls_then_frames_again(
    workspace: Workspace, hls_server: HlsServer
) -> None:
    def on_poll(stats: Any, outcome: str) -> None:
        if stats.polls == 3:
            hls_server.down.set()  # the stream and every new connection drop
        elif stats.polls == 8:
            hls_server.down.clear()

    url = hls_server.url("/live.m3u8")
    result = run(workspace, [url], ["hls"], every=0.3, count=15, timeout=1.0, on_poll=on_poll)

    stats = result.cameras[0]
    assert stats.reopens >= 1 and stats.failed >= 1
    assert set(stats.failures) <= {"connection_error", "timeout", "stream_ended", "stream_error"}
    rows = sorted(workspace.catalog.items(key_prefix="camera:hls:"), key=lambda r: r.captured_at)
    assert len(rows) == 15
    assert any(r.status == "done" for r in rows[8:])  # frames again once the server is back


@pytest.mark.parametrize(
    ("path", "kind", "reason"),
    [
        ("/gone.m3u8", "auto", "connection_error"),
        ("/video.mjpg", "mjpeg", "connection_error"),
        ("/live", "rtsp", "connection_error"),
    ],
)
def test_dead_stream_url_is_a_failed_poll_each_tick_not_a_crash(
    workspace: Workspace, path: str, kind: str, reason: str
) -> None:
    scheme = "rtsp" if kind == "rtsp" else "http"
    url = f"{scheme}://127.0.0.1:{free_port()}{path}"  # nothing listens there
    result = run(workspace, [url], ["dead"], count=3, timeout=1.0, kind=kind)

    stats = result.cameras[0]
    assert (stats.polls, stats.failed, stats.kept) == (3, 3, 0)
    rows = statuses(workspace.catalog, "dead")
    assert {status for status, _ in rows} == {"failed"}
    # the first tick may end before the first open does (a slow machine): then a timeout
    assert reason in stats.failures and set(stats.failures) <= {reason, "timeout"}
    assert workspace.catalog.last_runs("capture")[0].status == "done"


def test_missing_hls_playlist_is_recorded_as_http_404(
    workspace: Workspace, hls_server: HlsServer
) -> None:
    result = run(workspace, [hls_server.url("/nope.m3u8")], ["cam"], count=2, timeout=1.0)
    assert result.cameras[0].failures == {"http_404": 2}


def test_hls_playlist_cannot_make_ffmpeg_read_a_local_file(
    workspace: Workspace, hls_server: HlsServer, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.ts"
    secret.write_bytes((hls_server.folder / "seg000.ts").read_bytes())  # a valid segment
    (hls_server.folder / "evil.m3u8").write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nfile://{secret}\n#EXT-X-ENDLIST\n"
    )
    result = run(workspace, [hls_server.url("/evil.m3u8")], ["evil"], count=2, timeout=1.0)

    assert result.cameras[0].kept == 0 and result.cameras[0].failed == 2
    assert not kept_files(workspace.root / "caps" / "evil")


def test_hls_stream_over_the_pixel_limit_is_refused_not_decoded(
    workspace: Workspace, hls_server: HlsServer
) -> None:
    settings = load_settings(workspace=workspace.root, capture={"max_pixels": 160 * 120 - 1})
    url = hls_server.url("/live.m3u8")
    result = capture([url], names=["big"], settings=settings, catalog=workspace.catalog,
                     every=0.3, count=3, timeout=5.0, out=workspace.root / "caps")  # fmt: skip
    stats = result.cameras[0]
    assert stats.kept == 0 and stats.failed == 3 and "decompression_bomb" in stats.failures
    assert set(stats.failures) <= {"decompression_bomb", "timeout"}  # timeout: a slow first open


def test_snapshot_kind_refuses_a_stream_instead_of_reading_it_whole(
    workspace: Workspace, mjpeg_server: MjpegServer
) -> None:
    run(workspace, [mjpeg_server.url("/moving")], ["cam"], count=2, kind="snapshot")
    assert statuses(workspace.catalog, "cam") == [("failed", "is_stream")] * 2


def test_capture_mixes_snapshot_and_stream_cameras_in_one_run(
    workspace: Workspace,
    fault_server: FaultServer,
    mjpeg_server: MjpegServer,
    hls_server: HlsServer,
) -> None:
    snap = fault_server.route("/snap.jpg", cycling(frames(1), frames(2)))
    urls = [snap, mjpeg_server.url("/moving"), hls_server.url("/live.m3u8")]
    result = run(workspace, urls, ["snap", "mjpeg", "hls"], every=0.3, count=6)

    assert {c.name: c.kind for c in result.cameras} == {
        "snap": "snapshot",
        "mjpeg": "mjpeg",
        "hls": "hls",
    }
    for cam in ("snap", "mjpeg", "hls"):
        assert_rows_match_files(workspace, cam, result)
    assert fault_server.hits("/snap.jpg") == 6


@pytest.fixture
def rtsp_server() -> Iterator[Callable[[int], Any]]:
    """Start H.264 RTSP streams (the pure-Python server of the ``rtsp`` package) on a port."""
    rtsp = pytest.importorskip("rtsp")
    from rtsp import source as rtsp_source_module

    class LoopbackServer(rtsp_source_module._RTSPServer):  # type: ignore[name-defined,misc]
        def __init__(self, host: str, port: int, sdp: Any) -> None:
            super().__init__("127.0.0.1", port, sdp)  # it binds 0.0.0.0 otherwise

    pictures = [Image.open(io.BytesIO(frames(s, (160, 120)))).convert("RGB") for s in (3, 4)]
    mp = pytest.MonkeyPatch()
    mp.setattr(rtsp_source_module, "_RTSPServer", LoopbackServer)
    started: list[Any] = []

    def start(port: int) -> Any:
        server = rtsp.Source(f"rtsp://127.0.0.1:{port}/live", fps=2, frame_buffer=pictures)
        started.append(server)
        assert server.wait_ready(10) and server.wait_encoding_started(10)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.close()
        mp.undo()


def test_capture_from_rtsp_stream_over_tcp(
    workspace: Workspace, rtsp_server: Callable[[int], Any]
) -> None:
    server = rtsp_server(free_port())
    # every 0.35 s, not 0.5: the pictures alternate every 0.5 s, and a period that divides it
    # could sample the same phase (the same picture) each time on a loaded machine
    result = run(workspace, [server.client_uri], ["yard"], every=0.35, count=8, timeout=8)

    stats = result.cameras[0]
    assert stats.kind == "rtsp"
    files = assert_rows_match_files(workspace, "yard", result)
    assert len(files) >= 2  # the server alternates two pictures every half second
    with Image.open(files[0]) as im:
        assert (im.format, im.size) == ("JPEG", (160, 120))


def test_rtsp_server_restart_is_a_reopen_and_capture_keeps_going(
    workspace: Workspace, rtsp_server: Callable[[int], Any]
) -> None:
    port = free_port()
    first = rtsp_server(port)
    workers: list[threading.Thread] = []

    def on_poll(stats: Any, outcome: str) -> None:
        if stats.polls in (3, 6):  # stop the server, then start a new one on the same port
            action = first.close if stats.polls == 3 else (lambda: rtsp_server(port))
            workers.append(threading.Thread(target=action, daemon=True))
            workers[-1].start()

    url = first.client_uri
    result = run(workspace, [url], ["yard"], every=0.5, count=16, timeout=3, on_poll=on_poll)
    for worker in workers:
        worker.join(10)

    stats = result.cameras[0]
    assert stats.reopens >= 1 and stats.polls == 16
    rows = sorted(workspace.catalog.items(key_prefix="camera:yard:"), key=lambda r: r.captured_at)
    assert any(r.status == "done" for r in rows[7:])  # frames from the restarted server
    assert_rows_match_files(workspace, "yard", result)


def test_sigint_stops_a_stream_capture_within_seconds(
    tmp_path: Path, mjpeg_server: MjpegServer, hls_server: HlsServer
) -> None:
    ws, caps = tmp_path / "ws", tmp_path / "caps"
    cmd = [sys.executable, "-m", "vigie", "--workspace", str(ws), "capture"]
    cmd += ["--url", mjpeg_server.url("/moving"), "--camera", "mjpeg"]
    cmd += ["--url", hls_server.url("/live.m3u8"), "--camera", "hls"]
    cmd += ["--every", "0.1", "--count", "0", "--out", str(caps)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_until(
            lambda: all(list((caps / cam).glob("*.jpg")) for cam in ("mjpeg", "hls")), 60
        )
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)  # stop_grace is 3 s
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    assert b"stopped" in out
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        assert cat.last_runs("capture")[0].status == "interrupted"
        done = {r.path for r in cat.items(status="done")}
    files = sorted(caps.glob("*/*.jpg"))
    assert done == {str(p.resolve()) for p in files}
    assert not list(caps.glob("*/*.part"))
