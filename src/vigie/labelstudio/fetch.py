"""Fetch the image behind a Label Studio reference, whatever its form.

- ``/data/upload/<project>/<name>``, ``/storage-data/uploaded/?filepath=...`` and any other
  server-relative path: from the Label Studio server, with its token;
- a bare ``upload/<project>/<name>`` (the seed's form): through ``/storage-data/uploaded/``;
- ``/data/local-files/?d=<path>``: read from the document root when it is on this machine,
  else from the server;
- an uploaded file (``/data/upload/...``, ``/storage-data/uploaded/?filepath=upload/...``, a bare
  ``upload/...``) with ``media_root`` given (Label Studio's media folder, when the server runs on
  this machine): read from ``<media_root>/upload/<project>/<name>`` when the file is there, as
  the SDK's ``get_local_path(image_dir=...)`` and Label Studio's own converter do, else from
  the server: the server's ~8 ms of CPU per image request are not paid;
- ``http(s)://`` on the Label Studio host: with the token; on any other host: *without* it
  (promise 8), with the SSRF checks of promise 7 at every redirect;
- ``s3://bucket/key``: with boto3 (the usual AWS credential chain).

Foreign hosts are fetched with the guarded client of :mod:`vigie.net` (the address policy is
checked on the address actually connected to, at every hop); transient failures are retried by
its retry policy. Bytes are checked by :func:`vigie.media.check_image` (allow-listed format,
decompression-bomb limit on) before they are written atomically (``.part`` then ``os.replace``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urljoin, urlsplit

from vigie import net
from vigie.errors import AuthError, require
from vigie.files import sweep_parts, write_atomic
from vigie.labelstudio.client import TOKEN_HINT, LabelStudioClient
from vigie.media import InvalidMediaError, check_image

log = logging.getLogger(__name__)

MAX_BYTES = 200 * 1024 * 1024
REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """One image could not be fetched (a per-item failure)."""


class ImageFetcher:
    """Resolves and downloads task images.

    Args:
        client: the Label Studio client (None when reading an export file offline).
        base_url: the Label Studio URL, for server-relative references.
        document_root: Label Studio's LOCAL_FILES_DOCUMENT_ROOT when on this machine.
        media_root: Label Studio's media folder (``<its data dir>/media``) when on this machine.
        allow_private: allow loopback/private addresses for foreign hosts (tests, LANs).
    """

    def __init__(
        self,
        client: LabelStudioClient | None,
        base_url: str | None,
        document_root: Path | None = None,
        allow_private: bool = False,
        timeout: float = 30.0,
        retries: int = 2,
        media_root: Path | None = None,
    ) -> None:
        self.client = client
        self.base_url = (base_url or (client.url if client else "")).rstrip("/")
        self.document_root = document_root
        self.media_root = media_root.resolve() if media_root is not None else None
        self.allow_private = allow_private
        self.retry = net.RetryPolicy(retries=retries, base=0.5, cap=4.0, budget=4 * timeout)
        # A separate client for foreign hosts: it never carries the Label Studio token, and
        # connects only where the address policy allows (checked on the connected address).
        policy = net.AddressPolicy(allow_private=allow_private)
        self._plain = net.sync_client(policy, connect_timeout=timeout, read_timeout=timeout)
        self._s3: Any = None

    def close(self) -> None:
        self._plain.close()

    # -- resolution ---------------------------------------------------------------------------
    def _is_server(self, url: str) -> bool:
        if not self.base_url:
            return False
        a, b = urlsplit(url), urlsplit(self.base_url)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    def fetch(self, ref: str) -> bytes:
        """The checked bytes of the image ``ref``; raises FetchError."""
        data = self._fetch_raw(ref)
        check_image_bytes(data)
        return data

    def _fetch_raw(self, ref: str) -> bytes:
        uploaded = self._uploaded_path(ref)
        if uploaded is not None:
            return uploaded.read_bytes()
        parts = urlsplit(ref)
        if parts.scheme == "s3":
            return self._fetch_s3(parts.netloc, unquote(parts.path.lstrip("/")))
        if parts.scheme in ("http", "https"):
            if self._is_server(ref):
                return self._from_server(ref)
            return self._from_foreign(ref)
        if parts.scheme:
            raise FetchError(f"unsupported reference scheme {parts.scheme}://")
        if ref.startswith("/data/local-files"):
            local = self._local_path(ref)
            if local is not None:
                return local.read_bytes()
        if not ref.startswith("/"):
            ref = "/storage-data/uploaded/?filepath=" + quote(ref, safe="/")
        if not self.base_url:
            raise FetchError("a server-relative reference needs the Label Studio URL")
        return self._from_server(self.base_url + ref)

    def _local_path(self, ref: str) -> Path | None:
        if self.document_root is None:
            return None
        rel = unquote(parse_qs(urlsplit(ref).query).get("d", [""])[0])
        root = self.document_root.resolve()
        path = (root / rel).resolve()
        if not path.is_relative_to(root):
            raise FetchError(f"local-files path escapes the document root: {rel!r}")
        return path if path.is_file() else None

    def _uploaded_path(self, ref: str) -> Path | None:
        """The file behind an uploaded-file reference in ``media_root``, if it is there."""
        if self.media_root is None:
            return None
        parts = urlsplit(ref)
        if parts.scheme and not (parts.scheme in ("http", "https") and self._is_server(ref)):
            return None
        path = unquote(parts.path)
        if path.startswith("/data/upload/"):
            key = path.removeprefix("/data/")
        elif path.rstrip("/") == "/storage-data/uploaded":
            key = parse_qs(parts.query).get("filepath", [""])[0]
        else:
            key = path
        project, _, name = key.removeprefix("upload/").partition("/")
        if not key.startswith("upload/") or not project.isdigit() or not name or "/" in name:
            return None
        local = self.media_root / "upload" / project / name
        return local if local.is_file() else None

    # -- transports ---------------------------------------------------------------------------
    def _from_server(self, url: str) -> bytes:
        client = self.client
        if client is None:
            raise FetchError("this reference needs the Label Studio server (give --url/token)")
        resp = self._get_response(client.http, url, client.auth_headers())
        if resp.status_code == 401 and client.uses_personal_access_token:
            client.renew_token()  # the access token died early: exchange it again, once
            resp = self._get_response(client.http, url, client.auth_headers())
        if resp.status_code == 401:
            raise AuthError(
                "Label Studio refused the token (401) while downloading an image",
                hint=TOKEN_HINT,
            )
        if resp.status_code in (301, 302, 303, 307, 308):
            raise FetchError(f"unexpected redirect ({resp.status_code}) from the server")
        return self._body(resp, url)

    def _from_foreign(self, url: str) -> bytes:
        for _ in range(net.MAX_REDIRECTS):
            net.check_scheme(url)  # raises UnsafeURLError; the address is the client's to check
            resp = self._get_response(self._plain, url, {})
            if resp.status_code in REDIRECTS and "location" in resp.headers:
                url = urljoin(url, resp.headers["location"])
                continue
            return self._body(resp, url)
        raise FetchError("too many redirects")

    def _get_response(self, http: Any, url: str, headers: dict[str, str]) -> Any:
        """GET ``url`` (body read within MAX_BYTES), retrying transient failures."""
        import httpx

        def attempt(budget: float) -> httpx.Response:
            with http.stream("GET", url, headers=headers) as resp:
                if net.is_transient_status(resp.status_code):
                    raise net.RetryableStatus(resp, self.retry.retry_after_max)
                body = net.read_capped(resp, MAX_BYTES, deadline=budget)
            return httpx.Response(resp.status_code, headers=resp.headers, content=body)

        try:
            return net.call_with_retries(attempt, self.retry)
        except (net.GaveUp, net.BodyError) as exc:
            raise FetchError(str(exc)) from None
        except httpx.HTTPError as exc:  # a final one (bad URL, unsupported protocol...)
            raise FetchError(f"{exc.__class__.__name__}: {exc}") from None

    @staticmethod
    def _body(resp: Any, url: str) -> bytes:
        if resp.status_code != 200:
            raise FetchError(f"HTTP {resp.status_code}")
        return bytes(resp.content)  # its size was checked while streaming (net.read_capped)

    def _fetch_s3(self, bucket: str, key: str) -> bytes:
        if not bucket or not key:
            raise FetchError("malformed s3:// reference")
        if self._s3 is None:
            require("boto3", "s3")
            import boto3

            self._s3 = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
        try:
            obj = self._s3.get_object(Bucket=bucket, Key=key)
            return bytes(obj["Body"].read())
        except Exception as exc:  # botocore raises many unrelated classes
            raise FetchError(f"S3 {exc.__class__.__name__}") from None


def check_image_bytes(data: bytes) -> None:
    """Raise FetchError unless ``data`` is a decodable image of an allowed format."""
    if not data:
        raise FetchError("empty body")
    try:
        check_image(data)
    except InvalidMediaError as exc:
        raise FetchError(f"not a valid image ({exc.error_class}: {exc})") from None


__all__ = [
    "FetchError",
    "ImageFetcher",
    "check_image_bytes",
    "sweep_parts",  # used by pull.py: the floor's (vigie.files)
    "write_atomic",
]
