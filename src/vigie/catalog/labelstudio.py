"""Catalog tables of the labelstudio stage, declared on the shared metadata (see schema.py).

``ls_tasks`` records which media item became which task of which project on which server, so a
push never imports an image twice (unique on server + project + media item).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)

from vigie.catalog.schema import metadata

ls_tasks = Table(
    "ls_tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("server", String(255), nullable=False),  # Label Studio base URL
    Column("project_id", Integer, nullable=False),
    Column("media_item_id", Integer, ForeignKey("media_items.id"), nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("storage", String(16), nullable=False),  # upload | local-files
    Column(
        "data_ref", Text
    ),  # the task's image reference (/data/upload/..., /data/local-files/...)
    Column("model_version", String(128)),  # predictions attached at import, if any
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("server", "project_id", "media_item_id"),
)


def record_tasks(catalog: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record imported tasks in one transaction (replays update, never duplicate)."""
    from vigie.catalog.store import upsert, utcnow

    if not rows:
        return
    now = utcnow()
    prepared = [{**r, "imported_at": r.get("imported_at") or now} for r in rows]
    with catalog.transaction() as conn:
        upsert(conn, ls_tasks, prepared, ["server", "project_id", "media_item_id"])


def imported_tasks(catalog: Any, server: str, project_id: int) -> dict[int, int]:
    """``{media_item_id: task_id}`` of what was already imported into this project."""
    q = select(ls_tasks.c.media_item_id, ls_tasks.c.task_id).where(
        ls_tasks.c.server == server, ls_tasks.c.project_id == project_id
    )
    with catalog.engine.connect() as conn:
        return {int(m): int(t) for m, t in conn.execute(q)}
