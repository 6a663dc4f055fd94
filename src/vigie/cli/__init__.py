"""The ``vigie`` command line: a thin typer layer over the stages' Python API."""

from vigie.cli.app import app, main

__all__ = ["app", "main"]
