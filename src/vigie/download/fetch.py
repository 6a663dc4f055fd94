"""Fetch one item: redirects one hop at a time, streamed body with limits, retries with backoff.

Every exception below is turned into either a retry (transient) or a final failure; nothing
escapes :meth:`Fetcher.fetch`, so every item ends in exactly one state.
"""

from __future__ import annotations

import asyncio
import email.utils
import errno
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import urlsplit

import httpx

from vigie.config import DownloadSettings
from vigie.download.safety import check_scheme
from vigie.download.transport import BlockedAddressError
from vigie.errors import UnsafeURLError

TRANSIENT_STATUS = frozenset({408, 425, 429})
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


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date); None if garbage."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(attempt-1)))."""
    return rng.uniform(0.0, min(cap, base * (2 ** max(0, attempt - 1))))


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
    if isinstance(exc, BlockedAddressError | UnsafeURLError):
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


class Fetcher:
    """Fetches bodies with the policies of one download run."""

    def __init__(
        self,
        clients: list[httpx.AsyncClient],
        cfg: DownloadSettings,
        rng: random.Random | None = None,
    ) -> None:
        # Several small connection pools rather than one big one: httpcore's pool scans every
        # connection for every request, which costs more than the I/O beyond ~16 connections.
        self.clients = clients
        self.cfg = cfg
        self.rng = rng or random.Random()
        self._hosts: dict[str, asyncio.Semaphore] = {}

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        sem = self._hosts.get(host)
        if sem is None:
            sem = self._hosts[host] = asyncio.Semaphore(self.cfg.per_host)
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
        cfg = self.cfg
        client = self.clients[slot % len(self.clients)]
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            try:
                async with self._host_slot(url):
                    remaining = cfg.retry_budget - (time.monotonic() - started)
                    async with asyncio.timeout(max(0.001, min(cfg.item_deadline, remaining))):
                        body = await self._attempt(client, url, part)
                return await finish(body), attempts
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                err = classify(exc)
                err.attempts = attempts
                if not err.transient or attempts > cfg.retries:
                    raise err from None
                wait = backoff(attempts, cfg.backoff_base, cfg.backoff_cap, self.rng)
                if err.retry_after is not None:
                    wait = min(max(err.retry_after, 0.0), cfg.retry_after_max)
                if time.monotonic() - started + wait > cfg.retry_budget:
                    err.args = (f"{err} (retry budget of {cfg.retry_budget:g}s spent)",)
                    raise err from None
                await asyncio.sleep(wait)

    async def _attempt(self, client: httpx.AsyncClient, url: str, part: Path) -> Body:
        current = url
        for _ in range(self.cfg.max_redirects + 1):
            check_scheme(current)
            async with client.stream("GET", current) as resp:
                if resp.status_code in REDIRECTS and "location" in resp.headers:
                    current = str(resp.url.join(resp.headers["location"]))
                    continue
                if resp.status_code != 200:
                    code = resp.status_code
                    transient = code in TRANSIENT_STATUS or 500 <= code <= 599
                    retry_after = parse_retry_after(resp.headers.get("retry-after"))
                    raise FetchError(
                        f"http_{code}",
                        f"HTTP {code} {resp.reason_phrase}",
                        transient,
                        retry_after if code in (429, 503) else None,
                    )
                return await self._read_body(resp, part)
        raise FetchError(
            "too_many_redirects", f"more than {self.cfg.max_redirects} redirects", False
        )

    async def _read_body(self, resp: httpx.Response, part: Path) -> Body:
        max_bytes = self.cfg.max_bytes
        declared = resp.headers.get("content-length")
        expected = int(declared) if declared and declared.isdigit() else None
        if expected is not None and expected > max_bytes:
            raise FetchError("too_large", f"{expected} bytes announced, limit {max_bytes}", False)
        chunks: list[bytes] = []
        size = 0
        fh: BinaryIO | None = None
        try:
            async for chunk in resp.aiter_raw():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError("too_large", f"body exceeds {max_bytes} bytes", False)
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
            if fh is not None:
                fh.close()
        if expected is not None and size != expected:
            raise FetchError("short_body", f"got {size} of {expected} bytes", transient=True)
        data = None if fh is not None else b"".join(chunks)
        return Body(data=data, size=size, final_url=str(resp.url))
