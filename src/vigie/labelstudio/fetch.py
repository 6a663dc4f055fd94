"""Fetch the image behind a Label Studio reference, whatever its form.

- ``/data/upload/<project>/<name>``, ``/storage-data/uploaded/?filepath=...`` and any other
  server-relative path: from the Label Studio server, with its token;
- a bare ``upload/<project>/<name>`` (the seed's form): through ``/storage-data/uploaded/``;
- ``/data/local-files/?d=<path>``: read from the document root when it is on this machine,
  else from the server;
- ``http(s)://`` on the Label Studio host: with the token; on any other host: *without* it
  (promise 8), with the SSRF checks of promise 7 at every redirect;
- ``s3://bucket/key``: with boto3 (the usual AWS credential chain).

Bytes are checked (allow-listed image format, Pillow decodes, decompression-bomb limit on)
before they are written atomically (``.part`` then ``os.replace``).
"""

from __future__ import annotations

import io
import ipaddress
import logging
import os
import socket
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urljoin, urlsplit

from vigie.errors import AuthError, NetworkError, UnsafeURLError
from vigie.files import write_atomic
from vigie.labelstudio.client import TOKEN_HINT, LabelStudioClient

log = logging.getLogger(__name__)

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP"})
MAX_BYTES = 200 * 1024 * 1024
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})


class FetchError(Exception):
    """One image could not be fetched (a per-item failure)."""


class ImageFetcher:
    """Resolves and downloads task images.

    Args:
        client: the Label Studio client (None when reading an export file offline).
        base_url: the Label Studio URL, for server-relative references.
        document_root: Label Studio's LOCAL_FILES_DOCUMENT_ROOT when on this machine.
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
    ) -> None:
        import httpx

        self.client = client
        self.base_url = (base_url or (client.url if client else "")).rstrip("/")
        self.document_root = document_root
        self.allow_private = allow_private
        self.retries = retries
        # A separate client for foreign hosts: it never carries the Label Studio token.
        self._plain = httpx.Client(timeout=timeout, follow_redirects=False)
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

    # -- transports ---------------------------------------------------------------------------
    def _from_server(self, url: str) -> bytes:
        client = self.client
        if client is None:
            raise FetchError("this reference needs the Label Studio server (give --url/token)")
        resp = self._get_response(client._http, url, client.auth_headers())
        if resp.status_code == 401 and client.uses_personal_access_token:
            client._force_refresh()  # the access token died early: refresh once
            resp = self._get_response(client._http, url, client.auth_headers())
        if resp.status_code == 401:
            raise AuthError(
                "Label Studio refused the token (401) while downloading an image",
                hint=TOKEN_HINT,
            )
        if resp.status_code in (301, 302, 303, 307, 308):
            raise FetchError(f"unexpected redirect ({resp.status_code}) from the server")
        return self._body(resp, url)

    def _from_foreign(self, url: str) -> bytes:
        for _ in range(5):
            check_url_safe(url, self.allow_private)
            resp = self._get_response(self._plain, url, {})
            if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                url = urljoin(url, resp.headers["location"])
                continue
            return self._body(resp, url)
        raise FetchError("too many redirects")

    def _get_response(self, http: Any, url: str, headers: dict[str, str]) -> Any:
        import time

        import httpx

        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(4.0, 0.5 * 2**attempt))
            try:
                resp = http.get(url, headers=headers)
            except httpx.HTTPError as exc:
                last = exc.__class__.__name__
                continue
            if resp.status_code in RETRYABLE:
                last = f"HTTP {resp.status_code}"
                continue
            return resp
        raise FetchError(f"gave up after {self.retries + 1} attempts: {last}")

    @staticmethod
    def _body(resp: Any, url: str) -> bytes:
        if resp.status_code != 200:
            raise FetchError(f"HTTP {resp.status_code}")
        data = bytes(resp.content)
        expected = resp.headers.get("content-length")
        if expected is not None and expected.isdigit() and int(expected) != len(data):
            raise FetchError("short body")
        if len(data) > MAX_BYTES:
            raise FetchError("too large")
        return data

    def _fetch_s3(self, bucket: str, key: str) -> bytes:
        if not bucket or not key:
            raise FetchError("malformed s3:// reference")
        if self._s3 is None:
            import boto3

            self._s3 = boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
        try:
            obj = self._s3.get_object(Bucket=bucket, Key=key)
            return bytes(obj["Body"].read())
        except Exception as exc:  # botocore raises many unrelated classes
            raise FetchError(f"S3 {exc.__class__.__name__}") from None


def check_url_safe(url: str, allow_private: bool) -> None:
    """Refuse non-http(s) URLs and, unless allowed, private/loopback/link-local targets."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURLError(f"refused URL scheme in {url[:80]!r}")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise NetworkError(f"cannot resolve {parts.hostname}: {exc}") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not addr.is_global:
            raise UnsafeURLError(f"refused {parts.hostname}: it resolves to {addr} (not public)")


def check_image_bytes(data: bytes) -> None:
    """Raise FetchError unless ``data`` is a decodable image of an allowed format."""
    from PIL import Image

    if not data:
        raise FetchError("empty body")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                fmt = im.format
                im.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise FetchError(f"not a valid image ({exc.__class__.__name__})") from None
    except Image.DecompressionBombError:
        raise FetchError("image too large (decompression bomb)") from None
    if fmt not in ALLOWED_FORMATS:
        raise FetchError(f"image format {fmt} is not allowed")


def sweep_parts(folder: Path) -> None:
    """Remove stale ``*.part`` files left by an interrupted run."""
    if folder.is_dir():
        for part in folder.glob("*.part"):
            part.unlink(missing_ok=True)


__all__ = [
    "FetchError",
    "ImageFetcher",
    "check_image_bytes",
    "check_url_safe",
    "sweep_parts",
    "write_atomic",
]
