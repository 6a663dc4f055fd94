"""Label Studio through its SDK (``label_studio_sdk.LabelStudio``): one clear error per failure.

Every call is one of the SDK's documented methods (``projects``, ``tasks`` and its pager,
``projects.import_tasks``/``import_predictions``, ``predictions``, ``projects.exports``,
``import_storage.local``, ``users.whoami``). Two things the SDK has no method for go through the
same httpx client with the SDK's own ``Authorization`` header: a multipart image upload
(:meth:`LabelStudioClient.upload_files`) and the GET of a stored image (:mod:`.fetch`).

Tokens are the SDK's business: it accepts a legacy token (``Authorization: Token ...``) or a
personal access token (a JWT *refresh* token, exchanged at ``/api/token/refresh/`` for a
short-lived access token that it caches and renews once expired). Vigie adds (promise 12):

- on a 401 with a personal access token, a fresh SDK client (a fresh exchange) and one replay,
  then :class:`~vigie.errors.AuthError`; no private SDK field is read or written;
- a POST is sent once (``max_retries: 0``): callers reconcile after an ambiguous failure; reads
  keep the SDK's retries of dropped connections and 5xx;
- every SDK/HTTP failure becomes a one-line :class:`~vigie.errors.LabelStudioError` (401: the
  token; 403: a missing permission; 404: the resource; unreachable: the URL).

Where the server and token come from (first found wins): the explicit arguments (``--url``,
``labelstudio.url`` set in vigie.toml or ``VIGIE_LABELSTUDIO__URL``; the token of
``VIGIE_LABELSTUDIO_TOKEN``), then the SDK's own ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``,
then ``http://127.0.0.1:8080``. Tokens are never logged or put in error messages.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

from vigie.errors import AuthError, ConfigError, LabelStudioError, NetworkError, require

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_URL = "http://127.0.0.1:8080"
URL_ENV, TOKEN_ENV = "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"
TOKEN_HINT = (
    "set VIGIE_LABELSTUDIO_TOKEN (or LABEL_STUDIO_API_KEY) to a legacy token or a personal "
    "access token from Label Studio's Account & Settings page"
)
PERMISSION_HINT = (
    "the token's user lacks this permission: use a token of a user who is a member of the "
    "project's organization with a role that may do this (Owner/Administrator/Manager)"
)
ONCE: dict[str, Any] = {"max_retries": 0}  # request_options of a call that must not be repeated


class LabelStudioHTTPError(LabelStudioError):
    """Label Studio answered an HTTP error; ``status`` says which (5xx may have committed)."""

    def __init__(self, message: str, hint: str | None = None, status: int = 0) -> None:
        super().__init__(message, hint)
        self.status = status


def is_personal_access_token(token: str) -> bool:
    """True when ``token`` is a JWT (a personal access token), as the SDK decides it."""
    import jwt

    try:
        jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return False
    return True


class LabelStudioClient:
    """A connected Label Studio API client.

    Args:
        url: the server's base URL, e.g. ``http://127.0.0.1:8080``; default ``LABEL_STUDIO_URL``.
        token: a legacy API token or a personal access token; default ``LABEL_STUDIO_API_KEY``.
        timeout: seconds per request.

    Raises:
        AuthError: no token, or a personal access token that has already expired.
        ConfigError: a URL that is not http(s)://host.
        DependencyError: label-studio-sdk is not installed (the ``labelstudio`` extra).
    """

    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: float = 60.0
    ) -> None:
        import httpx

        require("label_studio_sdk", "labelstudio")
        url = url or os.environ.get(URL_ENV) or DEFAULT_URL
        token = token or os.environ.get(TOKEN_ENV)
        if not token:
            raise AuthError("no Label Studio token is set", hint=TOKEN_HINT)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"invalid Label Studio URL {url!r}",
                hint="set labelstudio.url (or --url, or LABEL_STUDIO_URL) to http(s)://host:port",
            )
        self.url = url.rstrip("/")
        self._token = token
        self.uses_personal_access_token = is_personal_access_token(token)
        # Credentials never follow a redirect to another host (promise 8): no redirects at all.
        # Enough pooled connections for the image fetch threads of a pull.
        self.http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )
        try:
            self.sdk = self._new_sdk()
        except Exception:
            self.http.close()
            raise

    def _new_sdk(self) -> Any:
        """A fresh SDK client: with a personal access token, a fresh access-token exchange."""
        from label_studio_sdk import LabelStudio
        from label_studio_sdk.core.api_error import ApiError

        try:
            return LabelStudio(base_url=self.url, api_key=self._token, httpx_client=self.http)
        except ApiError as exc:  # an expired personal access token
            raise AuthError(
                f"the Label Studio token was refused: {_detail(exc)}", hint=TOKEN_HINT
            ) from None

    def renew_token(self) -> None:
        """After a 401 with a personal access token: a fresh SDK client, a fresh exchange."""
        log.info("Label Studio answered 401: exchanging the personal access token again")
        self.sdk = self._new_sdk()

    def auth_headers(self) -> dict[str, str]:
        """The SDK's Authorization header (for file GETs/uploads); its access token is renewed
        by the SDK once expired."""
        headers = self.call(lambda: self.sdk._client_wrapper.get_headers(), what="token refresh")
        return {"Authorization": str(headers["Authorization"])}

    # -- calls -------------------------------------------------------------------------------
    def call(self, fn: Callable[[], T], *, what: str = "request", replay: bool = True) -> T:
        """Run one SDK call; after a 401 with a personal access token, renew it and run it again
        (a 401 is refused before anything is done, so even a POST may be replayed).

        Args:
            fn: a zero-argument callable doing the SDK call (through ``self.sdk``).
            what: a few words naming the call for error messages.
            replay: False where ``fn`` cannot be run twice (the next item of a pager).
        """
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        for attempt in (1, 2):
            try:
                return fn()
            except ApiError as exc:
                if (
                    exc.status_code == 401
                    and replay
                    and attempt == 1
                    and self.uses_personal_access_token
                ):
                    self.renew_token()
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
                    hint=f"check labelstudio.url (or {URL_ENV}) and that the server is running",
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, exc: Any, what: str) -> LabelStudioError:
        status = int(exc.status_code or 0)
        if status == 401:
            kind = "personal access token" if self.uses_personal_access_token else "token"
            return AuthError(
                f"Label Studio refused the {kind} ({status}) during {what}: {_detail(exc)}",
                hint=TOKEN_HINT,
            )
        if status == 403:
            return AuthError(
                f"Label Studio denied permission (403) during {what}: {_detail(exc)}",
                hint=PERMISSION_HINT,
            )
        if status == 404:
            return LabelStudioHTTPError(
                f"Label Studio has no such resource during {what} (404)",
                hint="check the project id and the server URL",
                status=404,
            )
        return LabelStudioHTTPError(
            f"Label Studio answered {status or 'an error'} during {what}: {_detail(exc)}",
            hint="check the server logs; a rerun resumes where this one stopped",
            status=status,
        )

    # -- the SDK calls Vigie makes -----------------------------------------------------------
    def check(self) -> str:
        """Fail early with AuthError/NetworkError unless the server accepts us; return the user."""
        user = self.call(lambda: self.sdk.users.whoami(), what="authentication check")
        return str(getattr(user, "email", None) or getattr(user, "username", "?"))

    def project(self, project_id: int) -> Any:
        """``projects.get``: the project (title, label_config, task_number...)."""
        return self.call(lambda: self.sdk.projects.get(id=project_id), what=f"project {project_id}")

    def projects_titled(self, title: str) -> list[Any]:
        """``projects.list(title=...)``: the projects whose title is exactly ``title``, by id."""
        found = self.call(
            lambda: [p for p in self.sdk.projects.list(title=title, page_size=100)],
            what="project lookup",
        )
        return sorted((p for p in found if p.title == title), key=lambda p: int(p.id))

    def create_project(self, title: str, label_config: str) -> int:
        """``projects.create``, sent once (a rerun finds the project by title)."""
        proj = self.call(
            lambda: self.sdk.projects.create(
                title=title, label_config=label_config, request_options=ONCE
            ),
            what="project creation",
        )
        return int(proj.id)

    def update_label_config(self, project_id: int, label_config: str) -> None:
        """``projects.update(label_config=...)``."""
        self.call(
            lambda: self.sdk.projects.update(id=project_id, label_config=label_config),
            what=f"label config update of project {project_id}",
        )

    def tasks(self, project_id: int, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every task of a project with annotations and predictions, through the task pager."""
        pager = self.call(
            lambda: self.sdk.tasks.list(project=project_id, page_size=page_size, fields="all"),
            what=f"listing tasks of project {project_id}",
        )
        it = iter(pager)
        while True:  # a failed page ends the pager's iterator: raise, never a short list
            task = self.call(
                lambda: next(it, None), what=f"listing tasks of project {project_id}", replay=False
            )
            if task is None:
                return
            yield task.model_dump(mode="json", exclude_unset=True)

    def task(self, task_id: int) -> dict[str, Any]:
        """``tasks.get``: one task as a dict."""
        task = self.call(lambda: self.sdk.tasks.get(id=str(task_id)), what="task lookup")
        return dict(task.model_dump(mode="json", exclude_unset=True))

    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> list[int]:
        """``projects.import_tasks`` (JSON tasks), sent once; returns the new task ids."""
        from label_studio_sdk import ImportApiRequest

        resp = self.call(
            lambda: self.sdk.projects.import_tasks(
                id=project_id,
                request=[ImportApiRequest(**t) for t in tasks],
                return_task_ids=True,
                request_options=ONCE,
            ),
            what="task import",
        )
        return [int(t) for t in (getattr(resp, "task_ids", None) or [])]

    def upload_files(self, project_id: int, files: list[tuple[str, Any]]) -> list[int]:
        """Upload image files as tasks (multipart ``/api/projects/<id>/import``), sent once.

        The SDK's ``import_tasks`` takes JSON only; this request carries the SDK's auth header.
        """
        from label_studio_sdk.core.api_error import ApiError

        def send() -> list[int]:
            resp = self.http.post(
                f"{self.url}/api/projects/{project_id}/import",
                params={"return_task_ids": "true"},
                files=[(f"file{i}", f) for i, f in enumerate(files)],
                headers=self.auth_headers(),
            )
            if resp.status_code >= 400:
                try:
                    body: Any = resp.json()
                except ValueError:
                    body = resp.text[:300]
                raise ApiError(status_code=resp.status_code, body=body)
            return [int(t) for t in resp.json().get("task_ids", [])]

        return self.call(send, what="image upload")

    def import_predictions(self, project_id: int, preds: list[dict[str, Any]]) -> None:
        """``projects.import_predictions``, sent once."""
        from label_studio_sdk import PredictionRequest

        self.call(
            lambda: self.sdk.projects.import_predictions(
                id=project_id,
                request=[PredictionRequest(**p) for p in preds],
                request_options=ONCE,
            ),
            what="prediction import",
        )

    def prediction_versions(self, task_id: int) -> set[str]:
        """``predictions.list(task=...)``: the model versions predicted for a task."""
        preds = self.call(lambda: self.sdk.predictions.list(task=task_id), what="predictions")
        return {str(p.model_version) for p in preds if p.model_version}

    def local_storage_paths(self, project_id: int) -> list[str]:
        """``import_storage.local.list``: the folders of the project's local-files storages."""
        found = self.call(
            lambda: self.sdk.import_storage.local.list(project=project_id), what="storage lookup"
        )
        return [str(s.path) for s in found if s.path]

    def add_local_storage(self, project_id: int, path: str, title: str) -> None:
        """``import_storage.local.create`` (no sync: Vigie imports the tasks itself)."""
        self.call(
            lambda: self.sdk.import_storage.local.create(
                project=project_id, path=path, title=title, use_blob_urls=True
            ),
            what="local storage creation",
        )

    def close(self) -> None:
        self.http.close()

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
    """A client for the server and token of a :class:`vigie.config.Settings`.

    The URL is ``url``, else ``labelstudio.url`` when it was set (vigie.toml,
    ``VIGIE_LABELSTUDIO__URL``, ``--url``), else ``LABEL_STUDIO_URL``, else the default. The token
    is ``VIGIE_LABELSTUDIO_TOKEN``, else ``LABEL_STUDIO_API_KEY`` (both read by the settings).
    """
    token = settings.labelstudio_token.get_secret_value() if settings.labelstudio_token else None
    section = settings.labelstudio
    if url is None and "url" in section.model_fields_set:
        url = section.url
    return LabelStudioClient(url or os.environ.get(URL_ENV) or section.url, token)
