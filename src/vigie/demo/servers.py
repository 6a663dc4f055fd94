"""Demo servers on 127.0.0.1: a traffic camera and a media host for study links.

Both are threaded ``http.server`` instances on a free port, started and stopped by the demo (or a
``with`` block)::

    with CameraServer(Scene(seed=0), refresh=2.0) as cam:
        url = cam.url("/camera.jpg")

The camera shows the scene "live" (the scene clock follows the wall clock) but, like the real
CRITER cameras, refreshes its picture only every ``refresh`` seconds, so a capture polling faster
gets identical pictures in a row: what capture's duplicate check is for.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from vigie.demo.scene import Scene, jpeg_bytes

log = logging.getLogger(__name__)

Reply = tuple[int, bytes, str]  # status, body, content type


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up mid-request is logged at debug level, not printed to stderr."""

    def handle_error(self, request: object, client_address: object) -> None:
        log.debug("demo server: request from %s failed", client_address, exc_info=True)


class _Server:
    """A threaded HTTP server on 127.0.0.1 answering GET/HEAD with :meth:`reply`."""

    def __init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass  # the demo prints its own summary

            def do_HEAD(self) -> None:
                self._answer(head=True)

            def do_GET(self) -> None:
                self._answer(head=False)

            def _answer(self, head: bool) -> None:
                path = unquote(urlsplit(self.path).path)
                server.requests += 1
                status, body, ctype = server.reply(path)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Cache-Control", "no-store")
                    self.end_headers()
                    if not head:
                        self.wfile.write(body)
                except OSError:  # the client went away
                    pass

        self.requests = 0
        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread: threading.Thread | None = None

    def reply(self, path: str) -> Reply:
        raise NotImplementedError

    def url(self, path: str = "/") -> str:
        """The full URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> _Server:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> _Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class CameraServer(_Server):
    """A camera serving the scene's current picture at ``/camera.jpg``.

    Args:
        scene: the street to show.
        refresh: seconds between two new pictures (the camera's own cadence).
        speedup: scene seconds per wall-clock second (1.0 = real time).
    """

    path = "/camera.jpg"

    def __init__(self, scene: Scene, refresh: float = 2.0, speedup: float = 1.0) -> None:
        super().__init__()
        self.scene, self.refresh, self.speedup = scene, refresh, speedup
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._cached: tuple[int, bytes] | None = None
        self.pictures = 0  # distinct pictures served

    def current_frame(self) -> int:
        """The scene frame on show now (changes every ``refresh`` seconds)."""
        elapsed = time.monotonic() - self._t0
        shown_at = int(elapsed / self.refresh) * self.refresh
        return self.scene.frame_at(shown_at * self.speedup)

    def reply(self, path: str) -> Reply:
        if path != self.path:
            return 404, b"no such camera", "text/plain"
        frame = self.current_frame()
        with self._lock:
            if self._cached is None or self._cached[0] != frame:
                self._cached = (frame, jpeg_bytes(self.scene.render(frame)))
                self.pictures += 1
            return 200, self._cached[1], "image/jpeg"


class MediaServer(_Server):
    """Serves the files under ``root`` by relative path, plus scripted failures.

    ``add_failure(path, status, body)`` makes ``path`` answer with that status and body (a 404, or
    a 200 whose body is an HTML error page, to show the downloader refusing it).
    """

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = Path(root).resolve()
        self._failures: dict[str, Reply] = {}

    def add_failure(
        self, path: str, status: int, body: bytes = b"", content_type: str = "text/html"
    ) -> str:
        """Script ``path`` to fail; return its URL."""
        self._failures[path] = (status, body, content_type)
        return self.url(path)

    def reply(self, path: str) -> Reply:
        if path in self._failures:
            return self._failures[path]
        target = (self.root / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            return 404, b"<html><body>not found</body></html>", "text/html"
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return 200, target.read_bytes(), ctype
