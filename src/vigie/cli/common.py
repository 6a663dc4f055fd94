"""Helpers shared by the command modules: global options, settings, catalog, output.

Command modules import only typer and this module at top level; stage code (and with it numpy,
av, torch...) is imported inside the command functions so ``vigie --help`` stays instant.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress

    from vigie.catalog import Catalog
    from vigie.config import Settings

console = Console()
err_console = Console(stderr=True)

# Exit codes (documented in README.md and `vigie --help`); 2 is click's own usage error.
EXIT_OK = 0  # the run finished and every item is done (or skipped as already done)
EXIT_FATAL = 1  # the run could not go on: one `error:` line (a VigieError) and its hint
EXIT_USAGE = 2  # a bad command line (unknown option, missing argument, bad value)
EXIT_ITEMS_FAILED = 3  # the run finished but some items failed (every item failed included)
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGINT: finished work is kept, a rerun resumes
EXIT_CODES_HELP = (
    "Exit codes: 0 all done; 1 fatal error; 2 usage error; 3 the run finished but some items "
    "failed (all of them included); 130 interrupted."
)


class ItemsFailed(typer.Exit):
    """The run finished but ``failed`` of its ``total`` items failed: exit code 3.

    Raised by a command after its summary (see :func:`exit_if_failed`), never by stage code.
    """

    def __init__(self, failed: int, total: int | None, what: str) -> None:
        super().__init__(EXIT_ITEMS_FAILED)
        self.failed, self.total, self.what = failed, total, what


def exit_if_failed(failed: int, total: int | None = None, what: str = "items") -> None:
    """After a command's summary: exit with code 3 when any item failed (one line says so)."""
    if failed <= 0:
        return
    of = f" of {total}" if total is not None else ""
    err_console.print(
        f"[yellow]warning:[/] {failed}{of} {what} failed (exit code {EXIT_ITEMS_FAILED})",
        highlight=False,
    )
    raise ItemsFailed(failed, total, what)


@dataclass
class GlobalOptions:
    config: Path | None = None
    workspace: Path | None = None
    catalog: str | None = None
    verbose: int = 0
    quiet: bool = False
    debug: bool = False


def global_options(ctx: typer.Context) -> GlobalOptions:
    root = ctx.find_root()
    if not isinstance(root.obj, GlobalOptions):
        root.obj = GlobalOptions()
    return root.obj


def settings(ctx: typer.Context, **overrides: Any) -> Settings:
    """Settings from every layer, with the global flags and ``overrides`` (None = not given)."""
    from vigie.config import load_settings

    opts = global_options(ctx)
    cfg = load_settings(
        opts.config, workspace=opts.workspace, catalog_url=opts.catalog, **overrides
    )
    return cfg.resolve_outputs()  # the output rule: relative outputs lie in the workspace


def open_catalog(cfg: Settings) -> Catalog:
    from vigie.catalog import Catalog

    return Catalog.from_settings(cfg)


def setup_logging(verbose: int, quiet: bool) -> None:
    from rich.logging import RichHandler

    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose == 0 and not quiet:
        level = logging.INFO
    handler = RichHandler(console=err_console, show_path=False, show_time=False, markup=False)
    logging.basicConfig(level=logging.WARNING, handlers=[handler], format="%(message)s", force=True)
    logging.getLogger("vigie").setLevel(level)


@contextmanager
def progress(transient: bool = False) -> Iterator[Progress]:
    """A rich progress bar with rate and ETA, on stderr (quiet when not a terminal)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
        disable=not err_console.is_terminal,
    ) as bar:
        yield bar


def fail(message: str, hint: str | None = None) -> typer.Exit:
    """Print a one-line error (and hint) and return the Exit to raise."""
    from rich.markup import escape  # "pip install 'vigie-cv[yolo]'" is text, not a style tag

    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    if hint:
        err_console.print(f"[yellow]hint:[/] {escape(hint)}", highlight=False)
    return typer.Exit(EXIT_FATAL)


def is_interactive() -> bool:
    import sys

    return sys.stdin.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")
