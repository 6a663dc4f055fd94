"""The catalog: schema, versioning, upserts, runs, on SQLite and on MariaDB."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Column, Text, create_engine, inspect, select

from vigie.catalog import SCHEMA_VERSION, Catalog, add_column, media_items, runs
from vigie.catalog import migrations as mig
from vigie.catalog.schema import schema_info
from vigie.errors import CatalogError
from vigie.types import RunCounts


def _item(key: str, **extra: object) -> dict[str, object]:
    return {"key": key, "kind": "image", "status": "done", **extra}


def test_new_catalog_has_tables_and_current_version(tmp_path: Path) -> None:
    cat = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    tables = set(inspect(cat.engine).get_table_names())
    assert {"sources", "media_items", "runs", "schema_info"} <= tables
    with cat.engine.connect() as conn:
        assert conn.execute(select(schema_info.c.version)).scalar_one() == SCHEMA_VERSION
    cat.close()


def test_sqlite_catalog_uses_wal(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    Catalog(f"sqlite:///{db}").close()
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_upsert_replay_creates_no_duplicate(tmp_path: Path) -> None:
    cat = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    src = cat.source("camera", "CWL9018", "http://x/cam.jpg")
    rows = [_item(f"camera:CWL9018:{i}", source_id=src, sha256=f"{i:064x}") for i in range(5)]
    cat.upsert_items(rows)
    cat.upsert_items(rows)  # replay of the same batch
    assert len(cat.items(source_id=src)) == 5
    cat.upsert_items([_item("camera:CWL9018:0", source_id=src, status="failed", error="boom")])
    row = cat.item("camera:CWL9018:0")
    assert row is not None and row.status == "failed" and row.error == "boom"
    assert cat.source("camera", "CWL9018") == src  # get-or-create is stable
    cat.close()


def test_items_filters_by_status_kind_and_prefix(tmp_path: Path) -> None:
    cat = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    cat.upsert_items([_item("a:1"), _item("a:2", status="failed"), _item("b:1")])
    assert [r.key for r in cat.items(status="failed")] == ["a:2"]
    assert [r.key for r in cat.items(key_prefix="a:")] == ["a:1", "a:2"]
    assert len(cat.items(status=["done", "failed"], kind="image")) == 3
    cat.close()


def test_item_by_path_finds_the_file(tmp_path: Path) -> None:
    cat = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    f = tmp_path / "x.jpg"
    cat.upsert_item(**_item("k", path=str(f.resolve())))
    found = cat.item_by_path(f)
    assert found is not None and found.key == "k"
    cat.close()


def test_run_context_records_counts_and_failure(tmp_path: Path) -> None:
    cat = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    with cat.run("capture", {"every": 60}) as run:
        run.counts.done = 3
        run.counts.duplicates = 1
    with pytest.raises(RuntimeError), cat.run("download", None) as run2:
        run2.counts.failed = 2
        raise RuntimeError("disk full")
    rows = {r.command: r for r in cat.last_runs()}
    assert rows["capture"].status == "done"
    assert rows["capture"].counts["done"] == 3 and rows["capture"].counts["duplicates"] == 1
    assert rows["download"].status == "failed" and "disk full" in rows["download"].error
    assert rows["download"].ended_at is not None
    cat.close()


def test_finish_run_accepts_plain_mapping(tmp_path: Path) -> None:
    cat = Catalog(f"sqlite:///{tmp_path / 'c.db'}")
    rid = cat.start_run("frames", {"mode": "step"})
    cat.finish_run(rid, "done", RunCounts(done=4, extra={"frames": 40}))
    with cat.engine.connect() as conn:
        counts = conn.execute(select(runs.c.counts).where(runs.c.id == rid)).scalar_one()
    assert counts["frames"] == 40
    cat.close()


def test_old_catalog_is_migrated_forward(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    Catalog(url).close()  # a catalog at the current version

    def _add_note(conn):  # type: ignore[no-untyped-def]
        add_column(conn, "media_items", Column("note", Text))

    monkeypatch.setattr(mig, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(mig.MIGRATIONS, SCHEMA_VERSION + 1, _add_note)
    cat = Catalog(url)
    assert "note" in {c["name"] for c in inspect(cat.engine).get_columns("media_items")}
    assert cat.schema_version == SCHEMA_VERSION + 1
    cat.close()


def test_catalog_newer_than_code_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    Catalog(url).close()
    eng = create_engine(url)
    with eng.begin() as conn:
        conn.execute(schema_info.update().values(version=SCHEMA_VERSION + 5))
    eng.dispose()
    with pytest.raises(CatalogError, match="newer"):
        Catalog(url)


def test_unreachable_catalog_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="catalog"):
        Catalog("mysql+pymysql://nobody:secret@127.0.0.1:1/none")


def test_locked_catalog_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    cat = Catalog(f"sqlite:///{db}")
    blocker = sqlite3.connect(db, timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")
    cat.engine.dispose()
    from sqlalchemy import event

    @event.listens_for(cat.engine, "connect")
    def _short_timeout(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA busy_timeout=100")

    with pytest.raises(CatalogError, match="locked"):
        cat.upsert_items([_item("k")])
    blocker.rollback()
    blocker.close()
    cat.close()


@pytest.mark.mariadb
def test_catalog_works_on_mariadb(mysql_db: str) -> None:
    cat = Catalog(mysql_db)
    src = cat.source("study", "53")
    rows = [_item(f"study:53:{i}.jpg", source_id=src, study_id=53) for i in range(3)]
    cat.upsert_items(rows)
    cat.upsert_items(rows)
    cat.upsert_items([_item("study:53:0.jpg", source_id=src, study_id=53, status="failed")])
    assert len(cat.items(study_id=53)) == 3
    assert cat.item("study:53:0.jpg").status == "failed"  # type: ignore[union-attr]
    with cat.run("links", {"study": 53}) as run:
        run.counts.done = 3
    assert cat.last_runs("links")[0].status == "done"
    with cat.engine.connect() as conn:
        assert conn.execute(select(media_items.c.id)).all()
    cat.close()
