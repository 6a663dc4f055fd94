"""Fetch one item: redirects one hop at a time, streamed body with limits, retries with backoff.

Every exception below is turned into either a retry (transient) or a final failure; nothing
escapes :meth:`Fetcher.fetch`, so every item ends in exactly one state.
"""

from __future__ import annotations

import asyncio
import errno
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import urlsplit

import httpx

from vigie.config import DownloadSettings
from vigie.errors import UnsafeURLError
from vigie.net import (
    BodyError,
    RetryPolicy,
    aiter_capped,
    check_scheme,
    is_transient_status,
    retry_after_of,
)

REDIRECTS = frozenset({301, 302, 303, 307, 308})
SPILL_BYTES = 8 * 1024 * 1024  # bodies above this go to the .part file while streaming
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
T = TypeVar("T")


class FetchError(Exception):
    """A failed attempt: ``error_class`` names the reason; ``transient`` says if a retry may help."""

    def __init__(
        self, error_class: str, message: str, transient: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.transient = transient
        self.retry_after = retry_after
        self.attempts = 0


@dataclass
class Body:
    """A complete body: in memory (``data``), or written to the ``.part`` file when None."""

    data: bytes | None
    size: int
    final_url: str


def write_failure(exc: OSError) -> FetchError:
    """A failed local write: ``disk_full`` (no space or quota left) or ``write_error``; final."""
    if exc.errno in DISK_FULL_ERRNOS:
        where = f" writing {exc.filename}" if exc.filename else ""
        return FetchError("disk_full", f"no space left on the device{where}", transient=False)
    return FetchError("write_error", f"{exc.__class__.__name__}: {exc}", transient=False)


def classify(exc: BaseException) -> FetchError:
    """Map an exception of one attempt to a FetchError (transient or final)."""
    if isinstance(exc, FetchError):
        return exc
    if isinstance(exc, BodyError):
        return FetchError(exc.error_class, str(exc), exc.transient)
    if isinstance(exc, UnsafeURLError):
        return FetchError("unsafe_url", str(exc), transient=False)
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return FetchError("timeout", f"timed out ({exc.__class__.__name__})", transient=True)
    if isinstance(exc, httpx.RemoteProtocolError):
        return FetchError("short_body", f"connection closed early: {exc}", transient=True)
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchError("unsafe_url", str(exc), transient=False)
    if isinstance(exc, httpx.TransportError):
        return FetchError("connection", f"{exc.__class__.__name__}: {exc}", transient=True)
    if isinstance(exc, httpx.InvalidURL | ValueError):
        return FetchError("bad_url", str(exc), transient=False)
    if isinstance(exc, OSError):
        return write_failure(exc)
    return FetchError("error", f"{exc.__class__.__name__}: {exc}", transient=False)


class _Slot:
    """A host slot held by one attempt; a body that goes idle gives it back early."""

    def __init__(self, sem: asyncio.Semaphore) -> None:
        self.sem, self.held = sem, False

    async def __aenter__(self) -> _Slot:
        await self.sem.acquire()
        self.held = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        if self.held:
            self.held = False
            self.sem.release()


def _nothing() -> None:
    pass


def is_object_store(host: str, extra: frozenset[str] = frozenset()) -> bool:
    """Whether ``host`` is an object store: S3 (``*.amazonaws.com`` with ``s3`` in its name) or
    one of ``extra`` (a configured S3-compatible endpoint)."""
    if host in extra:
        return True
    labels = host.split(".")
    return host.endswith(".amazonaws.com") and any(p == "s3" or p.startswith("s3-") for p in labels)


class Fetcher:
    """Fetches bodies with the policies of one download run."""

    def __init__(
        self,
        clients: list[httpx.AsyncClient],
        cfg: DownloadSettings,
        rng: random.Random | None = None,
        object_hosts: frozenset[str] = frozenset(),
    ) -> None:
        """``object_hosts``: hosts of object stores besides S3's own (``links.s3_endpoint_url``),
        which get ``object_store_per_host`` connections instead of ``per_host``."""
        # Several small connection pools rather than one big one: httpcore's pool scans every
        # connection for every request, which costs more than the I/O beyond ~16 connections.
        self.clients = clients
        self.cfg = cfg
        self.rng = rng or random.Random()
        self.retry = RetryPolicy(
            retries=cfg.retries,
            base=cfg.backoff_base,
            cap=cfg.backoff_cap,
            budget=cfg.retry_budget,
            retry_after_max=cfg.retry_after_max,
        )
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self.object_hosts = object_hosts

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        sem = self._hosts.get(host)
        if sem is None:
            limit = self.cfg.per_host
            if is_object_store(host, self.object_hosts):
                limit = max(limit, self.cfg.object_store_per_host)
            sem = self._hosts[host] = asyncio.Semaphore(limit)
        return sem

    async def fetch(
        self, url: str, part: Path, finish: Callable[[Body], Awaitable[T]], slot: int = 0
    ) -> tuple[T, int]:
        """Fetch ``url`` with retries; ``await finish(body)`` (validation, rename) runs once the
        body is complete and its exceptions are classified like the download's.
        Returns ``(finish result, attempts)``. Bodies too big for memory stream into ``part``;
        ``slot`` picks the connection pool (one per group of workers).

        Raises:
            FetchError: the final failure, after retries where the error is transient.
        """
        client = self.clients[slot % len(self.clients)]
        attempts = self.retry.attempts(self.rng)
        while True:
            try:
                async with _Slot(self._host_slot(url)) as held:
                    remaining = attempts.start()
                    async with asyncio.timeout(min(self.cfg.item_deadline, remaining)):
                        body = await self._attempt(client, url, part, held)
                return await finish(body), attempts.count
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                err = classify(exc)
                err.attempts = attempts.count
                if not err.transient:
                    raise err from None
                wait = attempts.wait(err.retry_after)
                if wait is None:
                    if attempts.why_stopped.startswith("retry budget"):
                        err.args = (f"{err} ({attempts.why_stopped})",)
                    raise err from None
                await asyncio.sleep(wait)

    async def _attempt(
        self, client: httpx.AsyncClient, url: str, part: Path, slot: _Slot | None = None
    ) -> Body:
        current = url
        for _ in range(self.cfg.max_redirects + 1):
            check_scheme(current)
            async with client.stream("GET", current) as resp:
                if resp.status_code in REDIRECTS and "location" in resp.headers:
                    current = str(resp.url.join(resp.headers["location"]))
                    continue
                if resp.status_code != 200:
                    code = resp.status_code
                    raise FetchError(
                        f"http_{code}",
                        f"HTTP {code} {resp.reason_phrase}",
                        is_transient_status(code),
                        retry_after_of(resp),
                    )
                return await self._read_body(resp, part, slot)
        raise FetchError(
            "too_many_redirects", f"more than {self.cfg.max_redirects} redirects", False
        )

    async def _read_body(self, resp: httpx.Response, part: Path, slot: _Slot | None) -> Body:
        try:
            async with asyncio.timeout(self.cfg.stall_timeout) as stall:
                return await self._read_chunks(resp, part, stall, slot)
        except TimeoutError:
            if not stall.expired():
                raise
            raise self._stalled() from None

    def _stalled(self) -> FetchError:
        rate, window = self.cfg.min_rate, self.cfg.stall_timeout
        return FetchError(
            "stalled", f"the body stalled: under {rate} bytes/s for {window:g} s", transient=True
        )

    async def _read_chunks(
        self, resp: httpx.Response, part: Path, stall: asyncio.Timeout, slot: _Slot | None
    ) -> Body:
        """The body, while it keeps coming: each ``stall_timeout`` window must bring a chunk
        and at least ``min_rate`` bytes/s on average, else ``stall`` fires and the item is
        retried after its backoff, instead of waiting for the whole read timeout. A body that
        sends nothing for ``idle_release`` seconds gives its host slot back at once, so the
        other URLs of the host go on meanwhile."""
        loop = asyncio.get_running_loop()
        release = slot.release if slot is not None else _nothing
        idle = self.cfg.idle_release
        timer = loop.call_later(idle, release)
        window, need = self.cfg.stall_timeout, self.cfg.min_rate * self.cfg.stall_timeout
        window_end, window_bytes = loop.time() + window, 0
        chunks: list[bytes] = []
        size = 0
        fh: BinaryIO | None = None
        try:
            async for chunk in aiter_capped(resp, self.cfg.max_bytes):
                now = loop.time()
                window_bytes += len(chunk)
                if now >= window_end:
                    if window_bytes < need:  # a trickle: as stalled as silence
                        raise self._stalled()
                    window_end, window_bytes = now + window, 0
                stall.reschedule(now + window)
                timer.cancel()
                timer = loop.call_later(idle, release)
                size += len(chunk)
                if fh is None and size > SPILL_BYTES:
                    fh = open(part, "wb")  # noqa: SIM115  closed in finally
                    for c in chunks:
                        fh.write(c)
                    chunks = []
                if fh is not None:
                    fh.write(chunk)
                else:
                    chunks.append(chunk)
        finally:
            timer.cancel()
            if fh is not None:
                fh.close()
        data = None if fh is not None else b"".join(chunks)
        return Body(data=data, size=size, final_url=str(resp.url))
