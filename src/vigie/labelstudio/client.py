"""A thin wrapper on label-studio-sdk: token handling, one clear error per failure.

The SDK already does most of the work: it accepts a legacy token (``Authorization: Token ...``)
or a personal access token (a JWT *refresh* token, exchanged at ``/api/token/refresh/`` for a
short-lived access token that it caches and renews once expired). What it does not do, and this
module adds (reliability promise 12):

- renew the access token a little *before* it expires (``REFRESH_MARGIN``), not after;
- on a 401, refresh once and replay the call, then fail with :class:`~vigie.errors.AuthError`;
- never retry a POST blindly (callers pass ``retry=False`` for imports and reconcile instead);
- turn every SDK/HTTP failure into a one-line :class:`~vigie.errors.LabelStudioError`.

Tokens are never logged or put in error messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from vigie.errors import AuthError, ConfigError, LabelStudioError, NetworkError, require

log = logging.getLogger(__name__)

T = TypeVar("T")
REFRESH_MARGIN = timedelta(seconds=30)
TOKEN_HINT = (
    "set VIGIE_LABELSTUDIO_TOKEN (or LABEL_STUDIO_API_KEY) to a legacy token or a personal "
    "access token from Label Studio's Account & Settings page"
)


class LabelStudioHTTPError(LabelStudioError):
    """Label Studio answered an HTTP error; ``status`` says which (5xx may have committed)."""

    def __init__(self, message: str, hint: str | None = None, status: int = 0) -> None:
        super().__init__(message, hint)
        self.status = status


class LabelStudioClient:
    """A connected Label Studio API client.

    Args:
        url: the server's base URL, e.g. ``http://127.0.0.1:8080``.
        token: a legacy API token or a personal access token (JWT refresh token).
        timeout: seconds per request.

    Raises:
        AuthError: no token, or a personal access token that has already expired.
    """

    def __init__(self, url: str, token: str | None, timeout: float = 60.0) -> None:
        import httpx

        require("label_studio_sdk", "labelstudio")
        from label_studio_sdk import LabelStudio
        from label_studio_sdk.core.api_error import ApiError

        if not token:
            raise AuthError("no Label Studio token is set", hint=TOKEN_HINT)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"invalid Label Studio URL {url!r}",
                hint="set labelstudio.url (or --url) to http(s)://host:port",
            )
        self.url = url.rstrip("/")
        # Credentials never follow a redirect to another host (promise 8): no redirects at all.
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)
        try:
            self.sdk = LabelStudio(base_url=self.url, api_key=token, httpx_client=self._http)
        except ApiError as exc:
            self._http.close()
            raise AuthError(
                f"the Label Studio token was refused: {_detail(exc)}", hint=TOKEN_HINT
            ) from None

    # -- token handling ----------------------------------------------------------------------
    @property
    def _tokens(self) -> Any:
        return self.sdk._client_wrapper._tokens_client

    @property
    def uses_personal_access_token(self) -> bool:
        """True when the token is a JWT refresh token (a personal access token)."""
        return not bool(self._tokens._use_legacy_token)

    def _refresh_if_near_expiry(self) -> None:
        tokens = self._tokens
        if tokens._use_legacy_token or tokens._access_token is None:
            return
        expires = tokens._access_token_expiration
        if expires is None or expires - datetime.now(UTC) < REFRESH_MARGIN:
            log.debug("Label Studio access token expires soon: refreshing it")
            tokens._access_token = None  # the SDK refreshes on next use

    def _force_refresh(self) -> None:
        self._tokens._access_token = None

    def auth_headers(self) -> dict[str, str]:
        """Headers for a request to this server (for file downloads); refreshes as needed."""
        return dict(self.call(lambda: {"Authorization": self._auth_value()}))

    def _auth_value(self) -> str:
        headers = self.sdk._client_wrapper.get_headers()
        return str(headers["Authorization"])

    # -- calls -------------------------------------------------------------------------------
    def call(self, fn: Callable[[], T], *, what: str = "request") -> T:
        """Run one SDK call: refresh before expiry, once more on a 401, map errors.

        Args:
            fn: a zero-argument callable doing the SDK call.
            what: a few words naming the call for error messages.
        """
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        for attempt in (1, 2):
            self._refresh_if_near_expiry()
            try:
                return fn()
            except ApiError as exc:
                if exc.status_code == 401 and attempt == 1 and self.uses_personal_access_token:
                    log.info("Label Studio answered 401: refreshing the access token once")
                    self._force_refresh()
                    continue
                raise self._error(exc, what) from None
            except httpx.TimeoutException:
                raise NetworkError(
                    f"Label Studio at {self.url} timed out during {what}",
                    hint="check that the server is up and not overloaded",
                ) from None
            except httpx.HTTPError as exc:
                raise NetworkError(
                    f"cannot reach Label Studio at {self.url}: {exc.__class__.__name__}",
                    hint="check labelstudio.url and that the server is running",
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, exc: Any, what: str) -> LabelStudioError:
        status = exc.status_code
        if status in (401, 403) and what != "refresh":
            kind = "personal access token" if self.uses_personal_access_token else "token"
            return AuthError(
                f"Label Studio refused the {kind} ({status}) during {what}: {_detail(exc)}",
                hint=TOKEN_HINT,
            )
        if status == 404:
            return LabelStudioHTTPError(
                f"Label Studio has no such resource during {what} (404)",
                hint="check the project id and the server URL",
                status=404,
            )
        return LabelStudioHTTPError(
            f"Label Studio answered {status} during {what}: {_detail(exc)}",
            hint="check the server logs; a rerun resumes where this one stopped",
            status=int(status or 0),
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        retry: bool = True,
        what: str = "request",
        **kwargs: Any,
    ) -> Any:
        """One HTTP request to the server with the SDK's (refreshed) auth header.

        Returns the ``httpx.Response`` of a 2xx answer; raises LabelStudioError otherwise
        (:class:`LabelStudioHTTPError` carries the status). A GET is tried up to three times on
        a 5xx or a dropped connection (``retry=False`` turns that off); a POST/PATCH is sent
        once, and callers that commit data reconcile after an ambiguous failure (promise 12).
        """
        import time

        import httpx
        from label_studio_sdk.core.api_error import ApiError

        url = f"{self.url}/{path.lstrip('/')}"
        # only reads are retried on their own: a POST may have committed (promise 12)
        tries = 3 if retry and method.upper() in ("GET", "HEAD") else 1

        def _do() -> Any:
            for attempt in range(tries):
                if attempt:
                    time.sleep(0.5 * 2**attempt)
                headers = {"Authorization": self._auth_value()}
                try:
                    resp = self._http.request(method, url, headers=headers, **kwargs)
                except httpx.TransportError:
                    if attempt + 1 < tries:
                        continue
                    raise
                if resp.status_code >= 500 and attempt + 1 < tries:
                    continue
                if resp.status_code >= 400:
                    try:
                        body: Any = resp.json()
                    except ValueError:
                        body = resp.text[:300]
                    raise ApiError(status_code=resp.status_code, body=body)
                return resp
            raise AssertionError("unreachable")  # pragma: no cover

        return self.call(_do, what=what)

    def check(self) -> str:
        """Fail early with AuthError/NetworkError unless the server accepts us; return the user."""
        user = self.call(lambda: self.sdk.users.whoami(), what="authentication check")
        return str(getattr(user, "email", None) or getattr(user, "username", "?"))

    def paged_tasks(self, project_id: int, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every task of a project with its annotations and predictions, page by page."""
        page = 1
        while True:
            resp = self.request(
                "GET",
                "api/tasks/",
                params={
                    "project": project_id,
                    "page": page,
                    "page_size": page_size,
                    "fields": "all",
                },
                what=f"listing tasks of project {project_id}",
            )
            data = resp.json()
            tasks = data.get("tasks", []) if isinstance(data, dict) else data
            yield from tasks
            total = data.get("total") if isinstance(data, dict) else None
            if (
                not tasks
                or len(tasks) < page_size
                or (total is not None and page * page_size >= total)
            ):
                return
            page += 1

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LabelStudioClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        text = body.get("validation_errors") or body.get("detail") or body
    else:
        text = body
    line = str(text).replace("\n", " ")
    return line[:200] if line else "no detail"


def connect(settings: Any, url: str | None = None) -> LabelStudioClient:
    """A client for the server and token of a :class:`vigie.config.Settings`."""
    token = settings.labelstudio_token.get_secret_value() if settings.labelstudio_token else None
    return LabelStudioClient(url or settings.labelstudio.url, token)
