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
    return load_settings(
        opts.config, workspace=opts.workspace, catalog_url=opts.catalog, **overrides
    )


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
    from rich.markup import escape  # "pip install 'vigie[yolo]'" is text, not a style tag

    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    if hint:
        err_console.print(f"[yellow]hint:[/] {escape(hint)}", highlight=False)
    return typer.Exit(1)


def is_interactive() -> bool:
    import sys

    return sys.stdin.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")
