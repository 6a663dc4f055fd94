"""MJPEG over HTTP (``multipart/x-mixed-replace``): a streamed GET cut into JPEG parts.

Parts are delimited by the boundary of the Content-Type (with or without the leading ``--``
that cameras disagree about) and sized by their ``Content-Length`` when they give one. Without a
boundary, JPEGs are cut at their SOI/EOI markers. At most one part being read and one finished
frame are held, and a part larger than ``max_bytes`` drops the connection.
"""

from __future__ import annotations

import asyncio
import re
from email.message import Message

import httpx

from vigie.capture.live import LiveSource
from vigie.capture.state import CameraStats
from vigie.config import CaptureSettings

SOI, EOI = b"\xff\xd8", b"\xff\xd9"
MAX_HEADERS = 16 * 1024
_LENGTH = re.compile(rb"^content-length\s*:\s*(\d+)\s*$", re.IGNORECASE | re.MULTILINE)


class MjpegError(Exception):
    """The multipart stream cannot be parsed; ``error_class`` is the catalog's reason."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class


def boundary_of(content_type: str | None) -> str | None:
    """The multipart boundary of a Content-Type (quotes removed), or None."""
    if not content_type:
        return None
    msg = Message()
    msg["Content-Type"] = content_type
    value = msg.get_param("boundary")
    return value if isinstance(value, str) and value else None


class MjpegParser:
    """Sans-io parser: :meth:`feed` bytes in, get the newest complete frame out."""

    def __init__(self, boundary: str | None, max_bytes: int) -> None:
        self.delimiter = b"--" + boundary.removeprefix("--").encode() if boundary else None
        self.max_bytes = max_bytes
        self.frames = 0
        self._buf = bytearray()
        self._state = "preamble"  # preamble -> headers -> body -> headers ...
        self._length: int | None = None
        self._scan = 0  # where the next search in _buf starts (no rescanning)

    def feed(self, data: bytes) -> bytes | None:
        """Add ``data``; return the newest frame completed by it, or None.

        Raises:
            MjpegError: ``too_large`` (a part or header block over the limits).
        """
        self._buf += data
        newest = None
        while (frame := self._next()) is not None:
            newest = frame
            self.frames += 1
        if len(self._buf) > self.max_bytes + MAX_HEADERS:
            raise MjpegError("too_large", f"MJPEG part over {self.max_bytes} bytes")
        return newest

    def _next(self) -> bytes | None:
        if self.delimiter is None:
            return self._next_by_markers()
        while True:
            if self._state == "preamble":
                if not self._skip_past(self.delimiter):
                    return None
                self._state = "headers"
            if self._state == "headers":
                end = self._buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buf) > MAX_HEADERS:
                        raise MjpegError("too_large", "MJPEG part headers over 16 KB")
                    return None
                match = _LENGTH.search(bytes(self._buf[:end]))
                self._length = int(match.group(1)) if match else None
                if self._length is not None and self._length > self.max_bytes:
                    raise MjpegError("too_large", f"MJPEG part of {self._length} bytes announced")
                del self._buf[: end + 4]
                self._scan = 0
                self._state = "body"
            if self._length is not None:
                if len(self._buf) < self._length:
                    return None
                frame = bytes(self._buf[: self._length])
                del self._buf[: self._length]
                self._scan = 0
                self._state = "preamble"  # CRLF, then the next delimiter
                if frame:
                    return frame
                continue
            end = self._find(self.delimiter)
            if end < 0:
                return None
            frame = bytes(self._buf[:end]).removesuffix(b"\r\n")
            del self._buf[: end + len(self.delimiter)]
            self._scan = 0
            self._state = "headers"
            if frame:
                return frame

    def _find(self, needle: bytes) -> int:
        at = self._buf.find(needle, self._scan)
        self._scan = at if at >= 0 else max(0, len(self._buf) - len(needle))
        return at

    def _skip_past(self, needle: bytes) -> bool:
        at = self._find(needle)
        if at < 0:
            keep = len(needle)
            del self._buf[: max(0, len(self._buf) - keep)]
            self._scan = 0
            return False
        del self._buf[: at + len(needle)]
        self._scan = 0
        return True

    def _next_by_markers(self) -> bytes | None:
        start = self._buf.find(SOI)
        if start < 0:
            del self._buf[:-1]  # keep a lone 0xFF that may start the next SOI
            return None
        if start:
            del self._buf[:start]
            self._scan = 0
        end = self._buf.find(EOI, max(2, self._scan))
        if end < 0:
            self._scan = max(2, len(self._buf) - 1)
            return None
        frame = bytes(self._buf[: end + 2])
        del self._buf[: end + 2]
        self._scan = 0
        return frame


class MjpegStream(LiveSource):
    """An MJPEG camera read by one asyncio task on the capture's HTTP client."""

    kind = "mjpeg"

    def __init__(
        self, url: str, cap: CaptureSettings, stats: CameraStats, client: httpx.AsyncClient
    ) -> None:
        super().__init__(url, cap, stats)
        self.client = client
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        await super().aclose()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def to_jpeg(self, frame: bytes) -> bytes:
        return frame  # the camera's own JPEG bytes, as a snapshot would be

    async def _run(self) -> None:
        while not self.closing.is_set():
            self.opening()
            try:
                await self._read()
                reason = ("stream_ended", "the server ended the stream")
            except MjpegError as exc:
                reason = (exc.error_class, str(exc))
            except httpx.TimeoutException:
                reason = ("timeout", f"no data within {self.cap.timeout:g} s")
            except httpx.ConnectError as exc:
                reason = ("connection_error", f"cannot connect: {exc}")
            except httpx.HTTPError as exc:
                reason = ("connection_error", f"{exc.__class__.__name__}: {exc}")
            except Exception as exc:  # a stream never stops the run
                reason = ("stream_error", f"{exc.__class__.__name__}: {exc}")
            await asyncio.sleep(self.dropped(*reason))

    async def _read(self) -> None:
        headers = {"Accept": "multipart/x-mixed-replace, image/jpeg;q=0.9"}
        async with self.client.stream("GET", self.url, headers=headers) as resp:
            if resp.status_code != 200:
                raise MjpegError(f"http_{resp.status_code}", f"HTTP {resp.status_code}")
            parser = MjpegParser(boundary_of(resp.headers.get("Content-Type")), self.cap.max_bytes)
            async for chunk in resp.aiter_bytes():
                frame = parser.feed(chunk)
                if frame is not None:
                    self.publish(frame)
