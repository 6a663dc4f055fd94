"""Helpers of the report's queries: tables that may not exist yet, and failing queries."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import SQLAlchemyError

from vigie.catalog import metadata

log = logging.getLogger(__name__)


def table(name: str) -> Table | None:
    """The catalog table ``name`` if a stage declared it, else None."""
    return metadata.tables.get(name)


def has(t: Table | None, *cols: str) -> bool:
    """True when the table exists and has every column named."""
    return t is not None and all(c in t.c for c in cols)


def safe(default: Any) -> Any:
    """Decorator: a query that fails (table not there in this database) yields ``default``."""

    def wrap(fn: Any) -> Any:
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except SQLAlchemyError as exc:
                log.warning("report: %s skipped (%s)", fn.__name__, exc.__class__.__name__)
                return default() if callable(default) else default

        inner.__name__ = fn.__name__
        inner.__doc__ = fn.__doc__
        return inner

    return wrap
