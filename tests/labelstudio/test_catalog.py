"""The ls_tasks bookkeeping on SQLite and on MariaDB: a replay never duplicates a task row."""

from __future__ import annotations

from typing import Any

import pytest

from vigie.catalog import Catalog
from vigie.catalog.labelstudio import imported_tasks, ls_tasks, record_tasks


def _exercise(cat: Catalog) -> None:
    ids = [cat.upsert_item(key=f"file:/x/{i}.jpg", kind="image", status="done") for i in range(3)]
    rows = [
        {
            "server": "http://ls",
            "project_id": 1,
            "media_item_id": m,
            "task_id": 100 + i,
            "storage": "upload",
            "data_ref": f"{i}.jpg",
            "model_version": None,
            "run_id": None,
        }
        for i, m in enumerate(ids)
    ]
    record_tasks(cat, rows)
    record_tasks(cat, rows)  # a replay of the same batch
    record_tasks(cat, [{**rows[0], "project_id": 2}])  # same image, another project
    assert imported_tasks(cat, "http://ls", 1) == {ids[0]: 100, ids[1]: 101, ids[2]: 102}
    assert imported_tasks(cat, "http://ls", 2) == {ids[0]: 100}
    assert imported_tasks(cat, "http://other", 1) == {}
    with cat.engine.connect() as conn:
        assert len(list(conn.execute(ls_tasks.select()))) == 4


def test_ls_tasks_replay_creates_no_duplicate_on_sqlite(workspace: Any) -> None:
    _exercise(workspace.catalog)


@pytest.mark.mariadb
def test_ls_tasks_replay_creates_no_duplicate_on_mariadb(mysql_db: str) -> None:
    cat = Catalog(mysql_db)
    try:
        _exercise(cat)
    finally:
        cat.close()
