"""Helpers of the dashboard's queries: URLs without credentials, hours per dialect, paths."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, func, select

from vigie.catalog import Catalog, media_items


def safe_url(url: str | None) -> str | None:
    """A URL without its user, password, query or fragment (they may hold credentials)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if port:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def hour_of(conn: Connection, column: Any) -> Any:
    """SQL text of the UTC hour of ``column`` (``YYYY-MM-DD HH``), per dialect."""
    name = conn.dialect.name
    if name in ("mysql", "mariadb"):
        return func.date_format(column, "%Y-%m-%d %H")
    if name == "postgresql":
        return func.to_char(column, "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def media_path(catalog: Catalog, media_item_id: int) -> tuple[str | None, str | None]:
    """The stored path and kind of a media item ((None, None) if the catalog has no such item)."""
    with catalog.engine.connect() as conn:
        row = conn.execute(
            select(media_items.c.path, media_items.c.kind).where(media_items.c.id == media_item_id)
        ).first()
    return (row.path, row.kind) if row is not None else (None, None)
