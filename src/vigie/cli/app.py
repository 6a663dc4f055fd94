"""The root ``vigie`` app: global options, error handling, and the command groups."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from vigie.cli.common import (
    EXIT_CODES_HELP,
    EXIT_INTERRUPTED,
    PROGRESS_EVERY,
    TIME_METAVAR,
    err_console,
    fail,
    global_options,
    setup_logging,
    time_value,
)
from vigie.errors import VigieError

# One module per command group; each exposes ``register(app)``.
COMMAND_MODULES = (
    "capture",
    "links",
    "download",
    "frames",
    "labelstudio",
    "dataset",
    "train",
    "detect",
    "export",
    "track",
    "report",
    "demo",
    "status",
    "config",
    "serve",
)


class VigieGroup(TyperGroup):
    """Turns Vigie's errors into one clear line and exit code 1, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except VigieError as exc:
            raise fail(exc.message, exc.hint) from None
        except KeyboardInterrupt:
            err_console.print("interrupted; finished work is kept, rerun to resume")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            if _debug(ctx):
                raise
            raise fail(
                f"unexpected {exc.__class__.__name__}: {exc}",
                "this is a bug in vigie: rerun with --debug and report the traceback",
            ) from None


def _debug(ctx: Any) -> bool:
    obj = ctx.find_root().obj
    return bool(getattr(obj, "debug", False)) or os.environ.get("VIGIE_DEBUG") == "1"


app = typer.Typer(
    name="vigie",
    cls=VigieGroup,
    help="Vigie: camera capture, study media download, frames, labelling, training, "
    "detection and tracking, with provenance in one catalog.",
    epilog="Relative output paths (--out and the output settings) lie in the workspace (-w, "
    "VIGIE_WORKSPACE or vigie.toml `workspace`; default: the current folder). " + EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from vigie import __version__

        typer.echo(f"vigie {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="vigie.toml to read (default: ./vigie.toml if present)"),
    ] = None,
    workspace: Annotated[
        Path | None, typer.Option("--workspace", "-w", help="folder of the catalog and outputs")
    ] = None,
    catalog: Annotated[
        str | None,
        typer.Option("--catalog", help="catalog SQLAlchemy URL (default sqlite in workspace)"),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option("--verbose", "-v", count=True, help="-v: INFO logs; -vv: DEBUG logs"),
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="only warnings and errors, no progress lines")
    ] = False,
    progress_every: Annotated[
        float,
        typer.Option(
            "--progress-every",
            parser=time_value,
            metavar=TIME_METAVAR,
            min=0,
            help="off a terminal (nohup, cron, a notebook): a progress line this often; 0 = none",
        ),
    ] = PROGRESS_EVERY,
    debug: Annotated[
        bool, typer.Option("--debug", help="show tracebacks of internal errors")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """Global options apply to every command."""
    opts = global_options(ctx)
    opts.config, opts.workspace, opts.catalog = config, workspace, catalog
    opts.verbose, opts.quiet, opts.debug = verbose, quiet, debug
    opts.progress_every = progress_every
    setup_logging(verbose, quiet, progress_every)


for _name in COMMAND_MODULES:
    importlib.import_module(f"vigie.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``vigie`` script and ``python -m vigie``."""
    try:
        app(args=argv, prog_name="vigie")
    except KeyboardInterrupt:  # raised outside a command (e.g. while parsing)
        sys.exit(EXIT_INTERRUPTED)
