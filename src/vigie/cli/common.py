"""Helpers shared by the command modules: global options, settings, catalog, output.

Command modules import only typer and this module at top level; stage code (and with it numpy,
av, torch...) is imported inside the command functions so ``vigie --help`` stays instant.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from vigie.cli.progress import PROGRESS_EVERY

if TYPE_CHECKING:
    from vigie.catalog import Catalog
    from vigie.cli.progress import Reporter
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
    progress_every: float = PROGRESS_EVERY


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


def setup_logging(verbose: int, quiet: bool, progress_every: float = PROGRESS_EVERY) -> None:
    """Log level from -v/-q; off a terminal, timestamped lines and timed progress lines."""
    from vigie.cli.progress import setup_logging as setup

    setup(verbose, quiet, err_console, progress_every)


@contextmanager
def progress(transient: bool = False) -> Iterator[Reporter]:
    """The one progress reporter: a rich bar on a terminal, timed progress lines elsewhere."""
    from vigie.cli.progress import reporter

    with reporter(err_console, transient) as rep:
        yield rep


def default_of(key: str) -> Any:
    """The default of setting ``key`` (``"detect.conf"``, ``"workspace"``) in the settings table.

    The one source of the defaults the CLI help shows: the field defaults of vigie.config.
    """
    from vigie.config import Settings

    section, _, name = key.rpartition(".")
    model: Any = Settings
    if section:
        model = Settings.model_fields[section].annotation
    return model.model_fields[name].get_default(call_default_factory=True)


def default_text(key: str) -> str:
    """The settings default of ``key`` as the help shows it (``0.25``, ``true``, ``a,b``)."""
    value = default_of(key)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return "none" if value is None else str(value)


def with_default(text: str, key: str) -> str:
    """Help ``text`` ending in ``[default: <the settings default> (<key>)]``."""
    from rich.markup import escape

    return escape(f"{text} [default: {default_text(key)} ({key})]")


TIME_METAVAR = "<time>"
TIME_FORMS = "90, 1:30 or 0:01:30.5"


def time_option(*names: str, help: str, **kwargs: Any) -> Any:
    """A time-like option: takes ``90``, ``1:30`` or ``00:01:30.5``; the value is seconds."""
    return typer.Option(*names, parser=time_value, metavar=TIME_METAVAR, help=help, **kwargs)


class HashMethod(StrEnum):
    """Perceptual hashes (capture.hash, dataset.hash_method)."""

    ahash = "ahash"
    phash = "phash"
    dhash = "dhash"


def time_value(text: str) -> float:
    """Parser of time-like options: ``90``, ``1:30`` or ``00:01:30.5`` as seconds."""
    from vigie.timeparse import TimeFormatError, parse_time

    if isinstance(text, int | float):  # a default, already seconds
        return float(text)
    try:
        return parse_time(text)
    except TimeFormatError as exc:
        raise typer.BadParameter(str(exc)) from None


class Backend(StrEnum):
    """Detector backends (vigie.config DetectSettings.backend)."""

    onnx = "onnx"
    torch = "torch"


def device_value(text: str) -> str:
    """Parser of ``--device``: cpu, cuda, cuda:N, mps or auto (normalised)."""
    from vigie.devices import parse_device

    try:
        return parse_device(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


ConfOption = Annotated[  # detect's threshold, also what `ls push --predictions` keeps
    float | None,
    typer.Option(
        "--conf",
        min=0.0,
        max=1.0,
        help=with_default("confidence threshold", "detect.conf"),
    ),
]

DeviceOption = Annotated[
    str | None,
    typer.Option(
        "--device",
        parser=device_value,
        metavar="<device>",
        help="where the model runs: cpu, cuda, cuda:N, mps or auto (a GPU when the backend "
        "can use one) \\[default: auto]",
    ),
]


def run_device(device: str | None, backend: str, model: str | Path | None = None) -> str:
    """The device string a backend takes, from ``--device`` (a WARNING when a GPU is unusable).

    ``backend`` is the detector backend asked (torch or onnx); an ``.onnx`` model always runs
    on ONNX Runtime. Torch gets ``cpu``, ``0`` or ``mps``; ONNX Runtime ``cpu`` or ``cuda:N``.
    """
    from vigie.devices import resolve_device
    from vigie.errors import ConfigError

    onnx = backend == "onnx" or str(model or "").lower().endswith(".onnx")
    try:
        dev = resolve_device(device, "onnx" if onnx else "torch")
    except ValueError as exc:  # a device from vigie.toml or VIGIE_*: the flag was checked
        raise ConfigError(str(exc), hint="set --device (or train.device) to one of those") from None
    return str(dev) if onnx else dev.torch


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
