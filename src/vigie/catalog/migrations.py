"""Versioned catalog schema.

``SCHEMA_VERSION`` is the version this code writes. A catalog made by an older Vigie is brought
forward by running, in order, every migration numbered above its stored version. New tables need
no migration (they are created on open); a change to an existing table does:

    def _m2_add_media_items_note(conn: Connection) -> None:
        add_column(conn, "media_items", Column("note", Text))

    MIGRATIONS[2] = _m2_add_media_items_note    # and bump SCHEMA_VERSION to 2
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Column, Connection, inspect, select, text

from vigie.catalog.schema import metadata, schema_info
from vigie.errors import CatalogError

SCHEMA_VERSION = 2
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def add_column(conn: Connection, table: str, column: Column) -> None:
    """Add ``column`` to ``table`` unless it is already there (migrations are replayable)."""
    existing = {c["name"] for c in inspect(conn).get_columns(table)}
    if column.name in existing:
        return
    quote = conn.dialect.identifier_preparer.quote
    col_type = column.type.compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(column.name)} {col_type}"))


def migrate(conn: Connection) -> int:
    """Create missing tables and bring the schema to ``SCHEMA_VERSION``; return the version."""
    metadata.create_all(conn, checkfirst=True)
    row = conn.execute(select(schema_info.c.version).where(schema_info.c.id == 1)).first()
    if row is None:
        conn.execute(schema_info.insert().values(id=1, version=SCHEMA_VERSION))
        return SCHEMA_VERSION
    version = int(row[0])
    if version > SCHEMA_VERSION:
        raise CatalogError(
            f"this catalog has schema version {version}, newer than this Vigie ({SCHEMA_VERSION})",
            hint="upgrade vigie, or point --catalog at another database",
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        step = MIGRATIONS.get(target)
        if step is not None:
            step(conn)
        conn.execute(schema_info.update().where(schema_info.c.id == 1).values(version=target))
    return SCHEMA_VERSION


def create_index(conn: Connection, table: str, name: str) -> None:
    """Create the index ``name`` declared on ``table`` unless it is already there."""
    index = next(i for i in metadata.tables[table].indexes if i.name == name)
    index.create(conn, checkfirst=True)


def _m2_dashboard_indexes(conn: Connection) -> None:
    """Indexes of what ``vigie serve`` reads at every refresh: a camera's polls in time order,
    and the detections of one class, newest media item first."""
    create_index(conn, "media_items", "ix_media_items_source_captured")
    create_index(conn, "detections", "ix_detections_class_item")


MIGRATIONS[2] = _m2_dashboard_indexes
