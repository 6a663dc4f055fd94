"""HLS and RTSP streams decoded with PyAV in one background thread per stream.

The thread decodes continuously, so the frame a tick takes is the newest one, and keeps only
that frame. FFmpeg is opened with timeouts (PyAV's open/read deadline, and the protocols' own
socket timeouts) and with a protocol whitelist limited to what the stream needs: an HLS playlist
cannot make FFmpeg read a local file, an RTSP URL opens TCP (and TLS for ``rtsps``) only.
"""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

from vigie.capture.live import LiveSource, encode_jpeg
from vigie.capture.state import CameraStats
from vigie.config import CaptureSettings

# what each kind may open; ``file`` is never among them (reliability promise 10)
PROTOCOLS = {
    "hls": "http,https,tcp,tls,crypto",  # crypto: AES-128 encrypted segments
    "rtsp": "rtsp,rtsps,tcp,tls",  # interleaved over the RTSP connection: no UDP/RTP sockets
}
JOIN_TIMEOUT = 1.0
ANALYZE_MICROS = "1000000"
_HTTP_CODE = re.compile(r"\b([45]\d\d)\b")


def av_options(kind: str, timeout: float) -> dict[str, str]:
    """The FFmpeg options to open a ``kind`` stream with ``timeout`` seconds per socket operation.

    RTSP is read over TCP (``rtsp_transport``): UDP is lost through NAT and firewalls and reorders
    on busy links. FFmpeg 5 renamed RTSP's socket timeout ``stimeout`` to ``timeout`` (PyAV 18
    ships FFmpeg 8, where ``stimeout`` no longer exists); ``rw_timeout`` bounds every read and
    write of the HTTP requests behind HLS. Live HLS starts at its newest segment. Probing stops
    after one second of stream (FFmpeg's default of five makes an RTSP open wait five seconds of
    live video; a still needs no precise stream statistics).
    """
    micros = str(int(timeout * 1_000_000))
    options = {
        "protocol_whitelist": PROTOCOLS[kind],
        "rw_timeout": micros,
        "analyzeduration": ANALYZE_MICROS,
    }
    if kind == "rtsp":
        options |= {"rtsp_transport": "tcp", "timeout": micros}
    else:
        options |= {"timeout": micros, "live_start_index": "-1"}
    return options


class StreamRefused(Exception):
    """A stream that opened but that Vigie will not decode (no video, too many pixels)."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class


def classify_av_error(exc: BaseException) -> tuple[str, str]:
    """The catalog's ``error_class`` and message of a failed FFmpeg open or read."""
    import av

    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, StreamRefused):
        return exc.error_class, text
    if isinstance(exc, av.error.HTTPError | av.error.HTTPClientError | av.error.HTTPServerError):
        code = _HTTP_CODE.search(text)
        return (f"http_{code.group(1)}" if code else "http_error"), text
    if isinstance(exc, ConnectionError):
        return "connection_error", text
    if isinstance(exc, TimeoutError | av.error.ExitError):  # ExitError: PyAV's deadline hit
        return "timeout", text
    if isinstance(exc, av.error.InvalidDataError):
        return "corrupt", text
    return "stream_error", f"{exc.__class__.__name__}: {text}"


class AVStream(LiveSource):
    """An HLS or RTSP stream: ``kind`` is ``"hls"`` or ``"rtsp"``."""

    def __init__(self, kind: str, url: str, cap: CaptureSettings, stats: CameraStats) -> None:
        super().__init__(url, cap, stats)
        self.kind = kind
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"vigie-{self.kind}-{self.stats.name}", daemon=True
        )
        self._thread.start()

    async def aclose(self) -> None:
        await super().aclose()
        if self._thread is not None:
            # a read blocked in FFmpeg ends at its timeout; the thread is a daemon meanwhile
            await asyncio.to_thread(self._thread.join, JOIN_TIMEOUT)

    def to_jpeg(self, frame: Any) -> bytes:
        return encode_jpeg(frame.to_image())

    def _run(self) -> None:
        while not self.closing.is_set():
            self.opening()
            try:
                self._read()
                reason = ("stream_ended", "the stream ended")
            except Exception as exc:  # FFmpeg raises many kinds; a stream never stops the run
                reason = classify_av_error(exc)
            if self.closing.is_set():
                return
            if self.closing.wait(self.dropped(*reason)):
                return

    def _read(self) -> None:
        import av

        timeout = self.cap.timeout
        with av.open(
            self.url,
            options=av_options(self.kind, timeout),
            timeout=(timeout, timeout),
            format="hls" if self.kind == "hls" else None,
        ) as container:
            if not container.streams.video:
                raise StreamRefused("no_video", "the stream has no video track")
            video = container.streams.video[0]
            self._check_size(video.codec_context.width, video.codec_context.height)
            for frame in container.decode(video):
                if self.closing.is_set():
                    return
                self._check_size(frame.width, frame.height)  # a stream may change its size
                self.publish(frame)

    def _check_size(self, width: int, height: int) -> None:
        if width * height > self.cap.max_pixels:
            raise StreamRefused(
                "decompression_bomb",
                f"{width}x{height} exceeds the limit of {self.cap.max_pixels} pixels",
            )
