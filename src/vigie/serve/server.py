"""Running the dashboard with uvicorn: in the foreground (``vigie serve``) or in a background
thread beside another command (``vigie capture --serve PORT``, the tests).

The socket is bound here, before uvicorn starts, so a port in use is one clear error and port 0
picks a free port whose number is known at once.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigie.errors import ConfigError, DependencyError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    """Where and what to serve (``ServeSettings`` plus the catalog and workspace)."""

    catalog_url: str
    workspace: Path
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    refresh: float = 3.0
    study_db_url: str | None = None
    access_log: bool = False

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> ServeOptions:
        """From :class:`vigie.config.Settings` (its ``serve`` section), with overrides."""
        token = settings.serve.token.get_secret_value() if settings.serve.token else None
        values: dict[str, Any] = {
            "catalog_url": settings.resolved_catalog_url,
            "workspace": Path(settings.workspace),
            "host": settings.serve.host,
            "port": settings.serve.port,
            "token": token,
            "refresh": settings.serve.refresh,
            "study_db_url": settings.study_db_url,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and without
    # it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port (or --host), or stop what uses it",
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class Dashboard:
    """A bound, configured dashboard server; :meth:`run` it, or :meth:`start` it in a thread.

    Raises:
        ConfigError: a non-loopback host without a token, or the port cannot be bound.
        CatalogError: the catalog cannot be read.
        DependencyError: the ``serve`` extra is not installed.
    """

    def __init__(self, options: ServeOptions) -> None:
        from vigie.errors import require
        from vigie.serve.security import check_bind, is_loopback

        require("uvicorn", "serve")
        check_bind(options.host, options.token)
        import uvicorn

        from vigie.serve.app import create_app

        platforms: dict[int, str] = {}
        if options.study_db_url:
            from vigie.report import study_platform_names

            platforms = study_platform_names(options.study_db_url)
        self.options = options
        self.app = create_app(
            options.catalog_url,
            options.workspace,
            token=options.token,
            loopback_only=is_loopback(options.host),
            refresh=options.refresh,
            platforms=platforms,
        )
        try:
            self.socket = _bind(options.host, options.port)
        except ConfigError:
            self.app.state.catalog.close()
            raise
        self.port = int(self.socket.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=options.access_log,
            lifespan="on",
            timeout_graceful_shutdown=3,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = self.options.host
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return f"http://{shown}:{self.port}/"

    def run(self) -> None:
        """Serve in this thread until Ctrl-C / SIGTERM (uvicorn's handlers)."""
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def start(self, timeout: float = 30.0) -> Dashboard:
        """Serve in a background thread; return once it accepts requests.

        Raises:
            DependencyError: the server did not start within ``timeout`` seconds.
        """
        self._thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.socket]},
            name="vigie-serve",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise DependencyError(f"the dashboard did not start on {self.url}")
            time.sleep(0.02)
        log.info("dashboard on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop a background server and wait for its thread (idempotent)."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with contextlib.suppress(OSError):
            self.socket.close()

    def __enter__(self) -> Dashboard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
