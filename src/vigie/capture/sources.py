"""Where a camera's frames come from: one snapshot request per tick, or the latest stream frame.

Every source answers :meth:`FrameSource.grab` with a :class:`~vigie.capture.fetch.Fetched` body
or raises :class:`~vigie.capture.fetch.FetchFailed`; the capture loop, its schedule, dedup, file
names and catalog rows are the same for all of them.
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from vigie.capture.fetch import Fetched, FetchFailed, fetch_snapshot
from vigie.capture.kinds import Kind, StreamFound
from vigie.capture.live import LiveSource
from vigie.capture.state import CameraState
from vigie.config import CaptureSettings

log = logging.getLogger(__name__)


class FrameSource(Protocol):
    async def grab(self) -> Fetched: ...

    async def aclose(self) -> None: ...


class Snapshot:
    """One GET per tick, conditional on the last kept frame's ETag / Last-Modified."""

    def __init__(
        self, client: httpx.AsyncClient, st: CameraState, cap: CaptureSettings, forced: bool
    ) -> None:
        self.client = client
        self.st = st
        self.cap = cap
        self.forced = forced  # --kind snapshot: a stream answer is a failure, not a switch

    async def grab(self) -> Fetched:
        st, cap = self.st, self.cap
        try:
            return await fetch_snapshot(
                self.client,
                st.camera.url,
                etag=st.etag if st.last_hashes else None,
                last_modified=st.last_modified if st.last_hashes else None,
                timeout=cap.timeout,
                max_bytes=cap.max_bytes,
                max_retry_after=cap.max_retry_after,
            )
        except StreamFound as exc:
            if not self.forced:
                raise
            raise FetchFailed("is_stream", f"{exc} (use --kind {exc.kind} or auto)") from None

    async def aclose(self) -> None:
        pass


class Auto:
    """A snapshot URL until an answer announces a stream; that stream from then on."""

    def __init__(self, client: httpx.AsyncClient, st: CameraState, cap: CaptureSettings) -> None:
        self.client = client
        self.st = st
        self.cap = cap
        self.snapshot = Snapshot(client, st, cap, forced=False)
        self.stream: LiveSource | None = None

    async def grab(self) -> Fetched:
        if self.stream is None:
            try:
                return await self.snapshot.grab()
            except StreamFound as exc:
                log.info("camera %s: %s", self.st.camera.name, exc)
                self.stream = open_stream(exc.kind, self.client, self.st, self.cap)
        return await self.stream.grab()

    async def aclose(self) -> None:
        if self.stream is not None:
            await self.stream.aclose()


def open_stream(
    kind: Kind, client: httpx.AsyncClient, st: CameraState, cap: CaptureSettings
) -> LiveSource:
    """Start reading the ``kind`` stream of ``st``'s camera in the background."""
    stream: LiveSource
    if kind == "mjpeg":
        from vigie.capture.mjpeg import MjpegStream

        stream = MjpegStream(st.camera.url, cap, st.stats, client)
    else:
        from vigie.capture.stream import AVStream

        stream = AVStream(kind, st.camera.url, cap, st.stats)
    st.stats.kind = kind
    stream.start()
    return stream


def open_source(
    kind: Kind, client: httpx.AsyncClient, st: CameraState, cap: CaptureSettings
) -> FrameSource:
    """The frame source of a camera whose URL is of ``kind`` (see :func:`~.kinds.url_kind`)."""
    if kind == "auto":
        return Auto(client, st, cap)
    if kind == "snapshot":
        return Snapshot(client, st, cap, forced=True)
    return open_stream(kind, client, st, cap)
