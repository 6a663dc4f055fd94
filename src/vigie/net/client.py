"""The one guarded HTTP client, and reading a body within a size cap and a deadline.

:func:`async_client` and :func:`sync_client` build httpx clients on the guarded transports of
:mod:`vigie.net.transport`: http/https only, every connection checked against an
:class:`~vigie.net.policy.AddressPolicy`, connect and read timeouts, no proxies or cookies taken
from the environment, TLS verified with one shared context. Redirects are followed one hop at a
time by the caller (``follow_redirects=False``, the default) or by httpx (``True``): either
way each hop's connection goes through the policy, and httpx refuses any scheme but http(s).
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from vigie.net.policy import PUBLIC_ONLY, AddressPolicy
from vigie.net.transport import GuardedAsyncTransport, GuardedTransport

MAX_REDIRECTS = 5
# bodies are read raw and counted as received: no compressed body, no gzip bomb
IDENTITY = {"Accept-Encoding": "identity"}


class BodyError(Exception):
    """A body that cannot be kept: ``error_class`` is ``too_large``, ``short_body`` or
    ``timeout``; ``transient`` says whether a retry may help."""

    def __init__(self, error_class: str, message: str, transient: bool) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.transient = transient


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every client (loading the CA bundle costs ~0.2 s each)."""
    return httpx.create_ssl_context(trust_env=False)


def _options(
    transport: type[GuardedAsyncTransport | GuardedTransport],
    policy: AddressPolicy,
    connections: int,
    timeouts: tuple[float, float],
    headers: dict[str, str] | None,
    redirects: tuple[bool, int],
) -> dict[str, Any]:
    """What both clients are built with: the guarded transport, timeouts, nothing from the
    environment (proxies, netrc), raw bodies."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    connect, read = timeouts
    return {
        "transport": transport(policy, ssl_context(), limits),
        "timeout": httpx.Timeout(read, connect=connect, pool=None),
        "follow_redirects": redirects[0],
        "max_redirects": redirects[1],
        "trust_env": False,
        "headers": {**IDENTITY, **(headers or {})},
    }


def async_client(
    policy: AddressPolicy = PUBLIC_ONLY,
    *,
    connections: int = 10,
    connect_timeout: float = 10.0,
    read_timeout: float = 30.0,
    headers: dict[str, str] | None = None,
    follow_redirects: bool = False,
    max_redirects: int = MAX_REDIRECTS,
) -> httpx.AsyncClient:
    """An asyncio httpx client whose every connection ``policy`` checks.

    Args:
        policy: which addresses may be connected to (default: public ones only).
        connections: the pool size.
        connect_timeout, read_timeout: seconds (a total deadline is the caller's
            ``asyncio.timeout`` or :func:`aiter_capped`'s ``deadline``).
        headers: sent with every request (a User-Agent...).
        follow_redirects, max_redirects: let httpx follow redirects (each hop checked).
    """
    timeouts, redirects = (connect_timeout, read_timeout), (follow_redirects, max_redirects)
    return httpx.AsyncClient(
        **_options(GuardedAsyncTransport, policy, connections, timeouts, headers, redirects)
    )


def sync_client(
    policy: AddressPolicy = PUBLIC_ONLY,
    *,
    connections: int = 10,
    connect_timeout: float = 10.0,
    read_timeout: float = 30.0,
    headers: dict[str, str] | None = None,
    follow_redirects: bool = False,
    max_redirects: int = MAX_REDIRECTS,
) -> httpx.Client:
    """A blocking httpx client whose every connection ``policy`` checks (see :func:`async_client`)."""
    timeouts, redirects = (connect_timeout, read_timeout), (follow_redirects, max_redirects)
    return httpx.Client(
        **_options(GuardedTransport, policy, connections, timeouts, headers, redirects)
    )


def announced_size(resp: httpx.Response, max_bytes: int) -> int | None:
    """The Content-Length of ``resp`` (None when absent or unreadable).

    Raises:
        BodyError: ``too_large`` when it announces more than ``max_bytes``.
    """
    declared = resp.headers.get("content-length")
    expected = int(declared) if declared and declared.isdigit() else None
    if expected is not None and expected > max_bytes:
        raise BodyError("too_large", f"{expected} bytes announced, limit {max_bytes}", False)
    return expected


class _Meter:
    """Counts a body's bytes against its cap, its announced length and its deadline."""

    def __init__(self, resp: httpx.Response, max_bytes: int, deadline: float | None) -> None:
        self.expected = announced_size(resp, max_bytes)
        self.max_bytes, self.deadline, self.size = max_bytes, deadline, 0
        self.started = time.monotonic()

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise BodyError("too_large", f"body exceeds {self.max_bytes} bytes", False)
        if self.deadline is not None and time.monotonic() - self.started > self.deadline:
            raise BodyError("timeout", f"body not complete within {self.deadline:g} s", True)

    def end(self) -> None:
        if self.expected is not None and self.size != self.expected:
            raise BodyError("short_body", f"got {self.size} of {self.expected} bytes", True)


async def aiter_capped(
    resp: httpx.Response, max_bytes: int, deadline: float | None = None
) -> AsyncIterator[bytes]:
    """The raw body of a streamed response, chunk by chunk, within limits.

    Args:
        resp: a response opened with ``client.stream(...)``.
        max_bytes: refuse a body (announced or received) larger than this.
        deadline: seconds the whole body may take (a server trickling bytes is cut off).

    Raises:
        BodyError: ``too_large``, ``timeout``, or ``short_body`` (fewer bytes than announced).
    """
    meter = _Meter(resp, max_bytes, deadline)
    async for chunk in resp.aiter_raw():
        meter.add(chunk)
        yield chunk
    meter.end()


def iter_capped(
    resp: httpx.Response, max_bytes: int, deadline: float | None = None
) -> Iterator[bytes]:
    """:func:`aiter_capped` for a blocking client."""
    meter = _Meter(resp, max_bytes, deadline)
    for chunk in resp.iter_raw():
        meter.add(chunk)
        yield chunk
    meter.end()


async def aread_capped(
    resp: httpx.Response, max_bytes: int, deadline: float | None = None
) -> bytes:
    """The whole raw body of a streamed response, within limits (see :func:`aiter_capped`)."""
    return b"".join([chunk async for chunk in aiter_capped(resp, max_bytes, deadline)])


def read_capped(resp: httpx.Response, max_bytes: int, deadline: float | None = None) -> bytes:
    """The whole raw body of a streamed response, within limits (see :func:`aiter_capped`)."""
    return b"".join(iter_capped(resp, max_bytes, deadline))
