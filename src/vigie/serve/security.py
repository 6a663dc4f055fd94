"""What keeps a served workspace private (reliability promise 19).

- :func:`check_bind`: loopback by default; any other address needs a token, else no start.
- :class:`Guard`: an ASGI middleware in front of everything: only GET/HEAD, no ``..`` / ``.``
  segment, no percent sign left after decoding (double encoding), no backslash or NUL in the
  path; the token (when set) checked on every request; on loopback without a token, only
  loopback ``Host`` headers (a page elsewhere cannot reach it by DNS rebinding); headers that
  keep pages from loading anything but this server.
- :func:`inside_workspace`: the one check every file served goes through: the catalog's path,
  resolved (symlinks followed), must be a file inside the workspace root.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from vigie.errors import ConfigError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "vigie_session"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; media-src 'self'; script-src 'self'; "
        b"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; "
        b"base-uri 'none'",
    ),
]


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and the loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen on a non-loopback ``host`` without a token.

    Raises:
        ConfigError: ``host`` is not loopback and no token is set.
    """
    if token is not None and not token.strip():
        raise ConfigError("the dashboard token is empty", hint="give --token a long random value")
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host} without a token: anyone on that network could read "
            "the catalog",
            hint="set VIGIE_SERVE__TOKEN (or --token) to a long random value, or keep "
            "--host 127.0.0.1",
        )


def inside_workspace(root: Path, stored: str | None) -> Path | None:
    """The file the catalog names by ``stored`` if it may be served, else None.

    Refused: no path, a ``..`` segment, a path that does not resolve (symlinks followed) to an
    existing regular file inside ``root`` (so a symlink out of the workspace is refused too).
    """
    if not stored:
        return None
    path = Path(stored)
    if ".." in path.parts:
        return None
    if not path.is_absolute():
        path = root / path
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    if not resolved.is_relative_to(root) or not resolved.is_file():
        return None
    return resolved


def _cookie_value(token: str) -> str:
    """What the session cookie holds: derived from the token, not the token itself."""
    return hmac.new(token.encode(), b"vigie-serve-cookie", hashlib.sha256).hexdigest()


def _bad_path(path: str) -> bool:
    segments = path.split("/")
    return (
        any(s in ("..", ".") for s in segments)
        or "%" in path
        or "\\" in path
        or "\x00" in path
        or ".." in unquote(path)
    )


class Guard:
    """ASGI middleware: the checks of the module docstring, before the app sees a request.

    Args:
        app: the application.
        token: the token every request must carry (header, cookie or ``?token=``), or None.
        loopback_only: accept only loopback ``Host`` headers (when bound to loopback with no
            token).
    """

    def __init__(self, app: ASGIApp, token: str | None, loopback_only: bool) -> None:
        self.app = app
        self.token = token
        self.cookie = _cookie_value(token) if token else None
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] not in ("GET", "HEAD"):
            await _reply(send, 405, "read-only: only GET and HEAD", [(b"allow", b"GET, HEAD")])
            return
        if _bad_path(scope["path"]):
            await _reply(send, 400, "bad path")
            return
        if self.loopback_only and not is_loopback(_host_name(headers.get("host", ""))):
            await _reply(send, 400, "this dashboard answers only on localhost / 127.0.0.1")
            return
        set_cookie = False
        if self.token is not None:
            state = self._authorised(scope, headers)
            if state is None:
                await _reply(
                    send,
                    401,
                    "a token is required: header 'Authorization: Bearer <token>' or ?token=",
                    [(b"www-authenticate", b'Bearer realm="vigie"')],
                )
                return
            set_cookie = state == "query"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(SECURITY_HEADERS)
                if set_cookie and self.cookie is not None:
                    cookie = f"{COOKIE}={self.cookie}; HttpOnly; SameSite=Strict; Path=/"
                    extra.append((b"set-cookie", cookie.encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _authorised(self, scope: Scope, headers: dict[str, str]) -> str | None:
        """How the request proved it knows the token (header, cookie, query), or None."""
        assert self.token is not None and self.cookie is not None
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and _same(auth[7:].strip(), self.token):
            return "header"
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and _same(value, self.cookie):
                return "cookie"
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query):
            if name == "token" and _same(value, self.token):
                return "query"
        return None


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _host_name(host: str) -> str:
    """The name of a ``Host`` header, without its port (``[::1]:8765`` -> ``::1``)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _reply(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
