"""``vigie serve``: a live, read-only web dashboard over the catalog (and ``capture --serve``)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vigie.cli import common
from vigie.cli.common import console, err_console, global_options, settings

if TYPE_CHECKING:
    from vigie.config import Settings
    from vigie.serve import Dashboard


def register(app: typer.Typer) -> None:
    """Add ``vigie serve`` to the root app."""
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", "-w", help="workspace to serve (as the global -w)"),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help=common.with_default(
                "address to listen on (any but loopback needs a token)", "serve.host"
            ),
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            help=common.with_default("port (0 = any free one)", "serve.port"),
            min=0,
            max=65535,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="token every request must carry (better: VIGIE_SERVE__TOKEN in the environment)",
        ),
    ] = None,
    access_log: Annotated[bool, typer.Option("--access-log", help="log every request")] = False,
) -> None:
    """Serve a live dashboard of the catalog: cameras, counts, detections, videos and tracks,
    downloads, models, and their JSON endpoints (docs/serve.md).

    Read-only: it reads the catalog while other vigie commands write it, and serves only files
    the catalog knows inside the workspace. It listens on 127.0.0.1 unless --host says otherwise,
    and any other host needs a token (--token or VIGIE_SERVE__TOKEN), checked on every request.

    Examples:

        vigie serve -w demo-workspace, then open http://127.0.0.1:8765/

        VIGIE_SERVE__TOKEN=$(openssl rand -hex 16) vigie serve --host 0.0.0.0 --port 8080
    """
    from vigie.serve import Dashboard, ServeOptions

    if workspace is not None:
        global_options(ctx).workspace = workspace
    cfg = settings(ctx, serve={"host": host, "port": port, "token": token})
    dashboard = Dashboard(ServeOptions.from_settings(cfg, access_log=access_log or None))
    console.print(
        f"Vigie dashboard on [bold]{dashboard.url}[/] (catalog "
        f"{dashboard.options.catalog_url}, read-only); Ctrl-C stops it",
        highlight=False,
    )
    if dashboard.options.token:
        console.print(
            f"every request needs the token: open {dashboard.url}?token=<token> once (the "
            "browser then keeps a cookie), or send 'Authorization: Bearer <token>'",
            highlight=False,
        )
    # uvicorn stops gracefully on Ctrl-C, then raises it again: that is the normal way out
    with contextlib.suppress(KeyboardInterrupt):
        dashboard.run()
    console.print("dashboard stopped")


def dashboard_beside(cfg: Settings, port: int | None) -> Dashboard | None:
    """Start the dashboard in a background thread on ``port`` (None: no dashboard); the caller
    stops it. Used by ``vigie capture --serve PORT``."""
    if port is None:
        return None
    from vigie.serve import Dashboard, ServeOptions

    dashboard = Dashboard(ServeOptions.from_settings(cfg, port=port)).start()
    err_console.print(f"dashboard on {dashboard.url}", highlight=False)
    return dashboard
