"""The catalog store: the only code that writes the catalog database.

SQLite (WAL, busy timeout, foreign keys) by default; any SQLAlchemy URL works (MySQL/MariaDB via
PyMySQL, PostgreSQL). Writes are batched, one transaction per batch, and go through unique keys
with upserts, so replaying a batch creates no duplicate (reliability promise 11).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from vigie.catalog.migrations import migrate
from vigie.catalog.schema import media_items, runs, sources
from vigie.errors import CatalogError, require_driver
from vigie.types import RunCounts


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key_cols: Sequence[str],
    update_cols: Sequence[str] | None = None,
) -> None:
    """Insert ``rows`` or update them where ``key_cols`` (a unique key) already exist.

    ``update_cols`` defaults to every column given in the rows except the key.
    Works on SQLite, MySQL/MariaDB and PostgreSQL.
    """
    if not rows:
        return
    cols = list(rows[0].keys())
    updates = [c for c in (update_cols if update_cols is not None else cols) if c not in key_cols]
    name = conn.dialect.name
    if name in ("sqlite", "postgresql"):
        from sqlalchemy.dialects import postgresql, sqlite

        stmt: Any = (sqlite.insert if name == "sqlite" else postgresql.insert)(table)
        if updates:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(key_cols),
                set_={c: stmt.excluded[c] for c in updates},
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(key_cols))
        conn.execute(stmt, list(rows))
    elif name in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        mstmt = mysql_insert(table)
        target = updates or [key_cols[0]]
        mstmt = mstmt.on_duplicate_key_update({c: mstmt.inserted[c] for c in target})
        conn.execute(mstmt, list(rows))
    else:  # generic fallback: select then insert/update, still one transaction
        for row in rows:
            cond = [table.c[k] == row[k] for k in key_cols]
            found = conn.execute(select(table.c[key_cols[0]]).where(*cond)).first()
            if found is None:
                conn.execute(table.insert().values(**row))
            elif updates:
                conn.execute(table.update().where(*cond).values({c: row[c] for c in updates}))


class Catalog:
    """A handle on one catalog database.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:///work/vigie.db`` or
            ``mysql+pymysql://user@host/db``.

    Raises:
        CatalogError: the database cannot be opened or its schema is newer than this Vigie.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            if url.startswith("sqlite"):
                path = url.split(":///", 1)[-1]
                if path and path != ":memory:":
                    _make_parent(Path(path))
                self.engine: Engine = create_engine(
                    url, connect_args={"timeout": 30, "check_same_thread": False}
                )
                event.listen(self.engine, "connect", _sqlite_pragmas)
            else:
                require_driver(url)
                self.engine = create_engine(url, pool_pre_ping=True)
            with self.engine.begin() as conn:
                self.schema_version = migrate(conn)
        except CatalogError:
            raise
        except OperationalError as exc:
            raise _catalog_error(url, exc) from None
        except SQLAlchemyError as exc:
            why = {
                "ArgumentError": "not a database URL",
                "NoSuchModuleError": "unknown database driver",
            }.get(exc.__class__.__name__, exc.__class__.__name__)
            raise CatalogError(
                f"cannot open the catalog {_safe_url(url)}: {why}",
                hint="check --catalog / VIGIE_CATALOG_URL (e.g. sqlite:///vigie.db)",
            ) from None

    @classmethod
    def from_settings(cls, settings: Any) -> Catalog:
        """Open the catalog named by a :class:`vigie.config.Settings`."""
        return cls(settings.resolved_catalog_url)

    @classmethod
    def read_only(cls, url: str) -> Catalog:
        """Open an existing catalog for reading only (see ``catalog/reader.py``): no table is
        created, no migration runs, and every write fails. Readers of the same methods
        (``items``, ``last_runs``...) work as on a normal catalog.

        Raises:
            CatalogError: no catalog there, or not one this Vigie can read.
        """
        from vigie.catalog.reader import read_only_engine, stored_schema_version

        self = cls.__new__(cls)
        self.url = url
        self.engine = read_only_engine(url)
        try:
            self.schema_version = stored_schema_version(self.engine)
        except CatalogError:
            self.engine.dispose()
            raise
        return self

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise _catalog_error(self.url, exc) from None

    # -- sources ---------------------------------------------------------------------------
    def source(
        self, kind: str, name: str, url: str | None = None, meta: dict[str, Any] | None = None
    ) -> int:
        """Get or create the source ``(kind, name)``; return its id."""
        with self.transaction() as conn:
            row = {"kind": kind, "name": name, "url": url, "meta": meta, "created_at": utcnow()}
            upsert(conn, sources, [row], ["kind", "name"], update_cols=["url"] if url else [])
            found = conn.execute(
                select(sources.c.id).where(sources.c.kind == kind, sources.c.name == name)
            ).scalar_one()
            return int(found)

    # -- media items -----------------------------------------------------------------------
    def upsert_items(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert or update media items by ``key`` in one transaction.

        Each row needs ``key``, ``kind`` and ``status``; ``created_at``/``updated_at`` are
        filled in. Rows of one batch must all give the same set of columns.
        """
        if not rows:
            return
        now = utcnow()
        prepared = []
        for r in rows:
            row = dict(r)
            row.setdefault("created_at", now)
            row["updated_at"] = now
            row.setdefault("attempts", 0)
            prepared.append(row)
        update_cols = [c for c in prepared[0] if c not in ("key", "created_at")]
        with self.transaction() as conn:
            upsert(conn, media_items, prepared, ["key"], update_cols=update_cols)

    def upsert_item(self, **row: Any) -> int:
        """Insert or update one media item by ``key``; return its id."""
        self.upsert_items([row])
        item = self.item(row["key"])
        assert item is not None
        return int(item.id)

    def item(self, key: str) -> Row[Any] | None:
        """The media item with this key, or None."""
        with self.engine.connect() as conn:
            return conn.execute(select(media_items).where(media_items.c.key == key)).first()

    def items(
        self,
        *,
        source_id: int | None = None,
        status: str | Sequence[str] | None = None,
        kind: str | None = None,
        study_id: int | None = None,
        key_prefix: str | None = None,
        after_id: int | None = None,
        limit: int | None = None,
    ) -> list[Row[Any]]:
        """Media items matching every filter given, in id order (a page: ids above
        ``after_id``, at most ``limit``)."""
        q = select(media_items).order_by(media_items.c.id).limit(limit)
        if after_id is not None:
            q = q.where(media_items.c.id > after_id)
        if source_id is not None:
            q = q.where(media_items.c.source_id == source_id)
        if isinstance(status, str):
            q = q.where(media_items.c.status == status)
        elif status is not None:
            q = q.where(media_items.c.status.in_(list(status)))
        if kind is not None:
            q = q.where(media_items.c.kind == kind)
        if study_id is not None:
            q = q.where(media_items.c.study_id == study_id)
        if key_prefix is not None:
            q = q.where(media_items.c.key.startswith(key_prefix, autoescape=True))
        with self.engine.connect() as conn:
            return list(conn.execute(q))

    def items_with_keys(self, keys: Sequence[str]) -> list[Row[Any]]:
        """The media items of these keys (those the catalog has), 500 keys a statement."""
        found: list[Row[Any]] = []
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                part = list(keys[start : start + 500])
                found += conn.execute(select(media_items).where(media_items.c.key.in_(part)))
        return found

    def item_by_path(self, path: Path | str) -> Row[Any] | None:
        """The most recent media item stored at ``path`` (resolved), or None."""
        p = str(Path(path).resolve())
        with self.engine.connect() as conn:
            return conn.execute(
                select(media_items)
                .where(media_items.c.path == p)
                .order_by(media_items.c.id.desc())
                .limit(1)
            ).first()

    # -- runs --------------------------------------------------------------------------------
    def start_run(self, command: str, config: Mapping[str, Any] | None = None) -> int:
        """Record the start of a run; return its id."""
        cfg = json.loads(json.dumps(config, default=str)) if config is not None else None
        with self.transaction() as conn:
            res = conn.execute(
                runs.insert().values(
                    command=command, config=cfg, started_at=utcnow(), status="running"
                )
            )
            key = res.inserted_primary_key
            assert key is not None
            return int(key[0])

    def finish_run(
        self,
        run_id: int,
        status: str,
        counts: RunCounts | Mapping[str, int] | None = None,
        error: str | None = None,
    ) -> None:
        """Record the end of a run with its counts."""
        data = counts.as_dict() if isinstance(counts, RunCounts) else dict(counts or {})
        with self.transaction() as conn:
            conn.execute(
                runs.update()
                .where(runs.c.id == run_id)
                .values(ended_at=utcnow(), status=status, counts=data, error=error)
            )

    @contextmanager
    def run(self, command: str, config: Mapping[str, Any] | None = None) -> Iterator[RunHandle]:
        """Context manager recording a run: done on success, interrupted on Ctrl-C, else failed."""
        handle = RunHandle(self.start_run(command, config), RunCounts())
        try:
            yield handle
        except KeyboardInterrupt:
            self.finish_run(handle.id, "interrupted", handle.counts)
            raise
        except BaseException as exc:
            self.finish_run(handle.id, "failed", handle.counts, error=str(exc)[:2000])
            raise
        else:
            self.finish_run(handle.id, "done", handle.counts)

    def last_runs(self, command: str | None = None, limit: int = 20) -> list[Row[Any]]:
        q = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if command:
            q = q.where(runs.c.command == command)
        with self.engine.connect() as conn:
            return list(conn.execute(q))


class RunHandle:
    """The id and live counters of a run in progress."""

    def __init__(self, run_id: int, counts: RunCounts) -> None:
        self.id = run_id
        self.counts = counts


def _safe_url(url: str) -> str:
    """The URL with any password masked."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def _catalog_error(url: str, exc: OperationalError) -> CatalogError:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    if "locked" in text:
        return CatalogError(
            f"the catalog {_safe_url(url)} is locked by another process",
            hint="wait for the other vigie command to finish, or use another --catalog",
        )
    return CatalogError(
        f"cannot use the catalog {_safe_url(url)}: {text.splitlines()[0] if text else exc}",
        hint="check the path or URL given by --catalog / VIGIE_CATALOG_URL",
    )


def _make_parent(db_file: Path) -> None:
    """Create the folder of an SQLite catalog file, or raise a CatalogError saying why not."""
    folder = db_file.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = "it is a file, not a folder" if folder.exists() else (exc.strerror or str(exc))
        raise CatalogError(
            f"cannot create the catalog folder {folder}: {why}",
            hint="check --workspace / --catalog (a folder you can write to)",
        ) from None
