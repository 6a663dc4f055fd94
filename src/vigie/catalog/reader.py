"""Read-only access to an existing catalog, for readers that run beside the writers (``vigie serve``).

SQLite: the file is opened with ``mode=ro`` and ``query_only``: a WAL reader that sees every
committed write, never blocks the writer and cannot write. Other databases: a normal engine whose
sessions are read-only where the server supports it (MySQL/MariaDB, PostgreSQL). Nothing is
created and no migration runs: a catalog of an older Vigie is read as it is.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import QueuePool

from vigie.catalog.migrations import SCHEMA_VERSION
from vigie.catalog.schema import schema_info
from vigie.errors import CatalogError, require_driver

_READ_ONLY_SESSION = {
    "mysql": "SET SESSION TRANSACTION READ ONLY",
    "mariadb": "SET SESSION TRANSACTION READ ONLY",
    "postgresql": "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
}


def read_only_engine(url: str) -> Engine:
    """An engine on the catalog ``url`` that can only read.

    Raises:
        CatalogError: not a database URL, or an SQLite catalog file that does not exist.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CatalogError(
            "cannot open the catalog: not a database URL",
            hint="check --catalog / VIGIE_CATALOG_URL (e.g. sqlite:///vigie.db)",
        ) from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_reader(Path(parsed.database or ""))
    require_driver(url)
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise CatalogError(
            f"cannot open the catalog {parsed.render_as_string(hide_password=True)}: "
            f"{exc.__class__.__name__}",
            hint="check --catalog / VIGIE_CATALOG_URL",
        ) from None
    statement = _READ_ONLY_SESSION.get(engine.dialect.name)
    if statement is not None:

        def _read_only(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(statement)
            cur.close()

        event.listen(engine, "connect", _read_only)
    return engine


def _sqlite_reader(path: Path) -> Engine:
    if not str(path) or str(path) == ":memory:" or not path.is_file():
        raise CatalogError(
            f"no catalog at {path}",
            hint="run a vigie command in this workspace first, or give --workspace / --catalog",
        )
    uri = f"file:{pathname2url(str(path.resolve()))}?mode=ro"

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    # A file database, so a real pool (not the single-thread pool of in-memory URLs).
    return create_engine("sqlite://", creator=connect, poolclass=QueuePool)


def stored_schema_version(engine: Engine) -> int:
    """The schema version recorded in the catalog.

    Raises:
        CatalogError: not a Vigie catalog, unreadable, or newer than this Vigie.
    """
    try:
        with engine.connect() as conn:
            version = conn.execute(
                select(schema_info.c.version).where(schema_info.c.id == 1)
            ).scalar()
    except SQLAlchemyError as exc:
        why = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise CatalogError(
            f"cannot read the catalog: {why}",
            hint="is it a Vigie catalog? check --workspace / --catalog",
        ) from None
    if version is None:
        raise CatalogError("the catalog has no schema version", hint="is it a Vigie catalog?")
    if int(version) > SCHEMA_VERSION:
        raise CatalogError(
            f"this catalog has schema version {version}, newer than this Vigie ({SCHEMA_VERSION})",
            hint="upgrade vigie",
        )
    return int(version)
