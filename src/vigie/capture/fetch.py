"""One snapshot request: conditional headers, a total deadline, a size cap, and a reason on failure."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from vigie.capture.kinds import StreamFound, kind_from_content_type
from vigie.net import BodyError, aread_capped, parse_retry_after


class FetchFailed(Exception):
    """The request did not give a body; ``error_class`` is the catalog's reason."""

    def __init__(self, error_class: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class Fetched:
    """A 200 with its body, or a 304 (``body`` None: the picture did not change)."""

    status: int
    body: bytes | None
    etag: str | None = None
    last_modified: str | None = None


async def fetch_snapshot(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    max_bytes: int,
    max_retry_after: float,
) -> Fetched:
    """GET ``url`` once within ``timeout`` seconds in total.

    Raises:
        StreamFound: the answer is a live stream (MJPEG or HLS Content-Type).
        FetchFailed: ``timeout``, ``connection_error``, ``truncated`` (connection closed before
            the announced length), ``too_large``, ``http_<status>`` (with Retry-After when given)
            or ``http_error``.
    """
    headers = {"Accept": "image/jpeg, image/*;q=0.9"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(timeout), client.stream("GET", url, headers=headers) as resp:
            if resp.status_code == 304:
                return Fetched(304, None, etag, last_modified)
            if resp.status_code != 200:
                retry = parse_retry_after(resp.headers.get("Retry-After"), cap=max_retry_after)
                raise FetchFailed(
                    f"http_{resp.status_code}",
                    f"HTTP {resp.status_code} {resp.reason_phrase}".strip(),
                    retry,
                )
            stream_kind = kind_from_content_type(resp.headers.get("Content-Type"))
            if stream_kind is not None:  # a live stream, not a snapshot: never read it whole
                raise StreamFound(stream_kind, resp.headers["Content-Type"])
            body = await aread_capped(resp, max_bytes)
            return Fetched(200, body, resp.headers.get("ETag"), resp.headers.get("Last-Modified"))
    except BodyError as exc:
        reason = {"short_body": "truncated"}.get(exc.error_class, exc.error_class)
        raise FetchFailed(reason, str(exc)) from None
    except (TimeoutError, httpx.TimeoutException):
        raise FetchFailed("timeout", f"no complete answer within {timeout:g} s") from None
    except httpx.ConnectError as exc:
        raise FetchFailed("connection_error", f"cannot connect: {exc}") from None
    except httpx.RemoteProtocolError as exc:
        if "without sending a response" in str(exc):
            raise FetchFailed("connection_error", f"no answer: {exc}") from None
        raise FetchFailed("truncated", f"connection closed mid-answer: {exc}") from None
    except httpx.TransportError as exc:
        raise FetchFailed("connection_error", f"{exc.__class__.__name__}: {exc}") from None
    except httpx.HTTPError as exc:
        raise FetchFailed("http_error", f"{exc.__class__.__name__}: {exc}") from None
