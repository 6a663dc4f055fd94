"""``vigie config show``: the effective settings and where each one came from."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vigie.cli import common


def register(app: typer.Typer) -> None:
    """Add the ``config`` group."""
    group = typer.Typer(help="The settings: defaults < vigie.toml < environment/.env < flags.")
    group.command("show")(show)
    app.add_typer(group, name="config", no_args_is_help=True)


def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON rows instead")] = False,
    section: Annotated[
        str | None, typer.Option("--section", help="only this section, e.g. capture")
    ] = None,
) -> None:
    """Print every effective setting with its source (flag, environment, .env, file, default).

    Secrets are masked. An unknown key in vigie.toml or a misspelt VIGIE_ variable is an
    error naming the closest valid one, here as in every other command.

    Example: vigie config show --section download
    """
    from rich.table import Table

    from vigie.config import config_file_path, read_config_file
    from vigie.config_layers import explain
    from vigie.errors import ConfigError

    opts = common.global_options(ctx)
    flags = {"workspace": opts.workspace, "catalog_url": opts.catalog}
    cfg = common.settings(ctx)
    path = config_file_path(opts.config)
    rows = explain(cfg, toml=read_config_file(path), toml_path=path, flags=flags)
    if section is not None:
        rows = [r for r in rows if r[0].startswith(f"{section}.")]
        if not rows:
            raise ConfigError(f"no settings section {section!r}", hint="see `vigie config show`")
    if as_json:
        for name, value, source in rows:
            typer.echo(json.dumps({"setting": name, "value": value, "source": source}))
        return
    table = Table(title=f"settings ({path or 'no config file'})")
    for col in ("setting", "value", "source"):
        table.add_column(col)
    for name, value, source in rows:
        text = value if isinstance(value, str) else json.dumps(value)
        table.add_row(name, text, source)
    common.console.print(table)
