"""Migration 2: the indexes the dashboard reads by, on new catalogs and on old ones brought forward;
and the dashboard's queries use them (query plans, not timings)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, select, text

from tests.fixtures.common import Workspace
from vigie.catalog import SCHEMA_VERSION, Catalog
from vigie.catalog.schema import schema_info

NEW = {"media_items": "ix_media_items_source_captured", "detections": "ix_detections_class_item"}


def _indexes(cat: Catalog) -> dict[str, set[str]]:
    with cat.engine.connect() as conn:
        found = inspect(conn)
        return {t: {i["name"] for i in found.get_indexes(t)} for t in NEW}


def test_a_new_catalog_has_the_dashboard_indexes(workspace: Workspace) -> None:
    assert SCHEMA_VERSION >= 2
    got = _indexes(workspace.catalog)
    assert all(name in got[table] for table, name in NEW.items())


def test_a_version_1_catalog_gets_them_when_a_writer_opens_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    cat = Catalog(url)
    with cat.transaction() as conn:  # make it look like a catalog of the previous Vigie
        for name in NEW.values():
            conn.execute(text(f"DROP INDEX {name}"))
        conn.execute(schema_info.update().values(version=1))
    cat.close()
    reader = Catalog.read_only(url)  # a reader reads it as it is, and migrates nothing
    assert reader.schema_version == 1
    assert not any(name in _indexes(reader)[t] for t, name in NEW.items())
    reader.close()
    cat = Catalog(url)
    assert cat.schema_version == SCHEMA_VERSION
    assert all(name in _indexes(cat)[table] for table, name in NEW.items())
    with cat.engine.connect() as conn:
        assert conn.execute(select(schema_info.c.version)).scalar_one() == SCHEMA_VERSION
    cat.close()


def _plan(cat: Catalog, sql: str) -> str:
    with cat.engine.connect() as conn:
        return " / ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))


def test_the_live_queries_read_indexes_not_whole_tables(workspace: Workspace) -> None:
    cat = workspace.catalog
    polls = _plan(cat, "SELECT id FROM media_items WHERE source_id = 1 ORDER BY captured_at DESC LIMIT 5")  # fmt: skip
    assert "ix_media_items_source_captured" in polls and "TEMP B-TREE" not in polls
    page = _plan(
        cat,
        "SELECT media_item_id FROM detections WHERE class_name = 'Car' "
        "GROUP BY media_item_id ORDER BY media_item_id DESC LIMIT 49",
    )
    assert "ix_detections_class_item" in page and "TEMP B-TREE" not in page
    unfiltered = _plan(
        cat,
        "SELECT media_item_id FROM detections GROUP BY media_item_id "
        "ORDER BY media_item_id DESC LIMIT 49",
    )
    assert "COVERING INDEX" in unfiltered and "TEMP B-TREE" not in unfiltered
