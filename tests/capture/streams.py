"""Live streams served on 127.0.0.1 for capture tests: HLS (a growing live playlist) and MJPEG.

``HlsServer`` encodes a few seconds of H.264 into 1-second MPEG-TS segments with PyAV, then
serves ``/live.m3u8`` as a live camera would: a sliding window of the segments "recorded" so far,
no ``#EXT-X-ENDLIST``, new segments appearing once per second. ``MjpegServer`` writes
``multipart/x-mixed-replace`` JPEG parts at a few frames per second. Both can drop their
connections (``down``) to test reopening, and count the connections they accepted.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np

from tests.fixtures.media import jpeg_bytes

SEGMENT_SECONDS = 1.0
HLS_FPS = 10
WINDOW = 3  # segments listed in the live playlist


def write_hls_segments(folder: Path, segments: int, width: int = 160, height: int = 120) -> int:
    """``seg000.ts``... of one continuous H.264 stream, each second a different scene."""
    import av

    folder.mkdir(parents=True, exist_ok=True)
    options = {
        "hls_time": str(SEGMENT_SECONDS),
        "hls_list_size": "0",
        "hls_segment_filename": str(folder / "seg%03d.ts"),
    }
    with av.open(str(folder / "vod.m3u8"), "w", format="hls", options=options) as out:
        stream = out.add_stream("libx264", rate=HLS_FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = HLS_FPS  # a keyframe per segment
        stream.codec_context.options = {"preset": "ultrafast"}
        rng = np.random.default_rng(7)
        for _ in range(segments):
            scene = rng.integers(0, 255, size=(4, 4, 3), dtype=np.uint8)
            img = np.kron(scene, np.ones((height // 4, width // 4, 1), dtype=np.uint8))
            for i in range(HLS_FPS):
                img[:10, : (i + 1) * 10] = 255  # a progress bar inside the second
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return len(list(folder.glob("seg*.ts")))


class _Server:
    def __init__(self) -> None:
        self.down = threading.Event()  # while set: every connection is closed unanswered
        self.stopping = threading.Event()
        self.connections = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                owner.connections += 1
                if owner.down.is_set():
                    self.close_connection = True
                    return
                owner.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    @staticmethod
    def send(h: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class HlsServer(_Server):
    """``/live.m3u8`` (live, growing), ``/vod.m3u8`` (the whole recording) and the segments."""

    def __init__(self, folder: Path, segments: int = 12) -> None:
        self.folder = folder
        self.segments = write_hls_segments(folder, segments)
        self.started = time.monotonic()
        super().__init__()

    def live_playlist(self) -> bytes:
        recorded = min(self.segments, 1 + int((time.monotonic() - self.started) / SEGMENT_SECONDS))
        first = max(0, recorded - WINDOW)
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{int(SEGMENT_SECONDS)}",
            f"#EXT-X-MEDIA-SEQUENCE:{first}",
        ]
        for i in range(first, recorded):
            lines += [f"#EXTINF:{SEGMENT_SECONDS:.3f},", f"seg{i:03d}.ts"]
        return ("\n".join(lines) + "\n").encode()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        name = urlsplit(h.path).path.lstrip("/")
        if name == "live.m3u8":
            self.send(h, 200, self.live_playlist(), "application/vnd.apple.mpegurl")
        elif name in ("vod.m3u8", "evil.m3u8") or (name.startswith("seg") and "/" not in name):
            path = self.folder / name
            if not path.is_file():
                self.send(h, 404, b"not found", "text/plain")
                return
            kind = "application/vnd.apple.mpegurl" if name.endswith(".m3u8") else "video/mp2t"
            self.send(h, 200, path.read_bytes(), kind)
        else:
            self.send(h, 404, b"not found", "text/plain")


class MjpegServer(_Server):
    """``/<name>?fps=F&drop_after=N&length=0``: an MJPEG stream of ``frames[name]``.

    Each part shows the next picture of its list (a single picture: a static camera);
    ``drop_after`` closes the connection after that many parts (a camera dropping its stream);
    ``length=0`` leaves out the parts' Content-Length (boundary-only cameras).
    """

    BOUNDARY = "vigieframe"

    def __init__(self) -> None:
        self.frames: dict[str, list[bytes]] = {
            "moving": [jpeg_bytes(160, 120, seed=s) for s in range(40, 46)],
            "static": [jpeg_bytes(160, 120, seed=99)],
        }
        self.started = time.monotonic()
        super().__init__()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        frames = self.frames.get(parts.path.lstrip("/"))
        if frames is None:
            self.send(h, 404, b"not found", "text/plain")
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        fps = float(query.get("fps", "10"))
        drop_after = int(query.get("drop_after", "0"))
        with_length = query.get("length", "1") != "0"
        h.close_connection = True
        h.send_response(200)
        h.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={self.BOUNDARY}")
        h.send_header("Cache-Control", "no-cache")
        h.end_headers()
        sent = 0
        try:
            while not self.stopping.is_set() and not self.down.is_set():
                if drop_after and sent >= drop_after:
                    return  # the connection closes mid-stream, no closing delimiter
                # the picture changes twice a second, whatever the connection
                body = frames[int((time.monotonic() - self.started) * 2) % len(frames)]
                head = f"--{self.BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                if with_length:
                    head += f"Content-Length: {len(body)}\r\n"
                h.wfile.write(head.encode() + b"\r\n" + body + b"\r\n")
                h.wfile.flush()
                sent += 1
                self.stopping.wait(1 / fps)
        except OSError:
            pass
