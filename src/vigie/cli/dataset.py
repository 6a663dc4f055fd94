"""CLI commands of the dataset stage (registered by vigie.cli.app)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app (filled in by the dataset issue)."""
