"""Catalog schema: the core tables every stage shares.

Stages that need tables of their own declare them in a module of this package (e.g.
``catalog/detections.py``) on the same ``metadata``; new tables are created on open. A change to an
existing table (a new column, an index) is a numbered migration in ``migrations.py``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

schema_info = Table(
    "schema_info",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),  # camera | study | urls | folder | labelstudio
    Column("name", String(255), nullable=False),  # camera name, study id, list file...
    Column("url", Text),
    Column("meta", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("kind", "name"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("command", String(64), nullable=False),
    Column("config", JSON),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),  # running | done | failed | interrupted
    Column("counts", JSON),
    Column("error", Text),
)

media_items = Table(
    "media_items",
    metadata,
    Column("id", Integer, primary_key=True),
    # Identity chosen by the stage that creates the item, e.g. "camera:CWL9018:20250312100000"
    # or "study:53:image:123_4.jpg"; upserts go through it so a replay creates no duplicate.
    Column("key", String(512), nullable=False, unique=True),
    Column("source_id", Integer, ForeignKey("sources.id")),
    Column("parent_id", Integer, ForeignKey("media_items.id")),  # frame -> its video
    Column("kind", String(16), nullable=False),  # image | video | frame
    Column("url", Text),
    Column("path", Text),
    Column("filename", String(512)),
    Column("sha256", String(64)),
    Column("ahash", String(64)),
    Column("phash", String(64)),
    Column("dhash", String(64)),
    Column("size_bytes", BigInteger),
    Column("width", Integer),
    Column("height", Integer),
    Column("duration", Float),
    Column("fps", Float),
    Column("frame_count", Integer),
    Column("frame_index", Integer),
    Column("timestamp", Float),  # seconds into the parent video
    Column("captured_at", DateTime(timezone=True)),
    Column("study_id", Integer),
    Column("publication_id", String(128)),
    Column("platform_id", Integer),
    Column("media_type", String(16)),
    Column("status", String(16), nullable=False),  # pending | done | skipped | duplicate | failed
    Column("error_class", String(64)),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("meta", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_media_items_source_status", "source_id", "status"),
    Index("ix_media_items_sha256", "sha256"),
    Index("ix_media_items_study", "study_id", "publication_id", "platform_id"),
    Index("ix_media_items_source_captured", "source_id", "captured_at"),  # migration 2
)
