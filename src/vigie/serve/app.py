"""``create_app``: the Starlette application of ``vigie serve`` over one catalog.

The catalog is opened read-only (:meth:`vigie.catalog.Catalog.read_only`) once per app; every
request reads through that pool while capture, download, detect... keep writing. Templates
(Jinja2, autoescaped) and the static JS/CSS ship inside the package: no build step, no CDN.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from vigie.catalog import Catalog
from vigie.errors import CatalogError

log = logging.getLogger(__name__)

NAV = (
    ("/cameras", "Cameras"),
    ("/counts", "Counts"),
    ("/detections", "Detections"),
    ("/videos", "Videos and tracks"),
    ("/downloads", "Downloads"),
    ("/models", "Models"),
)


def create_app(
    catalog_url: str,
    workspace: Path | str,
    *,
    token: str | None = None,
    loopback_only: bool = True,
    refresh: float = 3.0,
    platforms: Mapping[int, str] | None = None,
) -> Any:
    """The dashboard as an ASGI application.

    Args:
        catalog_url: the catalog's SQLAlchemy URL (read only: nothing is ever written).
        workspace: files are served only from inside this folder.
        token: when set, every request must carry it (see :mod:`vigie.serve.security`).
        loopback_only: answer only requests addressed to localhost (when listening on
            loopback without a token).
        refresh: seconds between two refreshes of the live pages.
        platforms: study platform id -> name, for the counts per study.

    Raises:
        CatalogError: no catalog at ``catalog_url``, or one this Vigie cannot read.
        DependencyError: the ``serve`` extra is not installed.
    """
    from vigie.errors import require

    for module in ("starlette", "jinja2", "uvicorn"):
        require(module, "serve")
    import jinja2
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles
    from starlette.templating import Jinja2Templates

    from vigie.serve.pages import ROUTES
    from vigie.serve.security import Guard

    root = Path(workspace).resolve()
    catalog = Catalog.read_only(catalog_url)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vigie.serve", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals.update(nav=NAV, refresh=refresh, catalog_url=_safe(catalog_url))
    env.filters["when"] = _when
    env.filters["thousands"] = lambda n: f"{int(n):,}" if n is not None else "-"
    templates = Jinja2Templates(env=env)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        yield
        catalog.close()

    async def http_error(request: Any, exc: Any) -> Any:
        from vigie.serve.pages import Json

        status = getattr(exc, "status_code", 500)
        detail = getattr(exc, "detail", None) or "error"
        if isinstance(exc, CatalogError | _sqlalchemy_error()):
            log.warning("serve: %s: %s", request.url.path, exc)
            status, detail = 503, "the catalog cannot be read just now; try again"
        if request.url.path.startswith(("/api", "/media")):
            return Json({"error": detail}, status_code=status)
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "detail": detail}, status_code=status
        )

    app = Starlette(
        routes=[
            *ROUTES,
            Mount("/static", app=StaticFiles(packages=[("vigie.serve", "static")]), name="static"),
        ],
        middleware=[Middleware(Guard, token=token, loopback_only=loopback_only and not token)],
        exception_handlers={
            HTTPException: http_error,
            CatalogError: http_error,
            _sqlalchemy_error(): http_error,
        },
        lifespan=lifespan,
    )
    app.state.catalog = catalog
    app.state.root = root
    app.state.templates = templates
    app.state.platforms = dict(platforms or {})
    app.state.cache = {}  # name -> (expires, value): lists that change rarely (pages.py)
    return app


def _sqlalchemy_error() -> type[Exception]:
    from sqlalchemy.exc import SQLAlchemyError

    return SQLAlchemyError


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "catalog"


def _when(value: str | None, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    """An ISO date of the queries as text for a page (UTC)."""
    if not value:
        return "-"
    return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime(pattern)
