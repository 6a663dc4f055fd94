"""The study database (``../shared/study-db/schema.sql``): tables, connection, schema creation.

`vigie links` reads it; `vigie detect --db` and `vigie track --db` write detection rows into it.
Table and column names, historical spellings included ("plateform", "meduim"), are the teams'.
The definitions below mirror schema.sql so the same code works on MySQL/MariaDB (production),
and on SQLite (the demo and quick tests); tests also load the real schema.sql into MariaDB.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Time,
    create_engine,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from vigie.errors import DatabaseError

study_metadata = MetaData()

plateforms = Table(
    "plateforms",
    study_metadata,
    Column("id_plateform", Integer, primary_key=True, autoincrement=False),
    Column("name", String(64), nullable=False),
)

study_publication_affectation = Table(
    "study_publication_affectation",
    study_metadata,
    Column("id_study", Integer, primary_key=True, autoincrement=False),
    Column("id_plateform", Integer, primary_key=True, autoincrement=False),
    Column("id_publication", String(64), primary_key=True),
    Column("flag_validated", SmallInteger, nullable=False, server_default=text("0")),
)

publications_meta = Table(
    "publications_meta",
    study_metadata,
    Column("plateform_id", Integer, primary_key=True, autoincrement=False),
    Column("publication_id", String(64), primary_key=True),
    Column("publication_datetime", DateTime, nullable=False),
)

publication_medias = Table(
    "publication_medias",
    study_metadata,
    Column("id_plateform", Integer, nullable=False),
    Column("publication_id", String(64), nullable=False),
    Column("media_url", String(2048)),
    Column("type", String(32)),
)

publication_media_status = Table(
    "publication_media_status",
    study_metadata,
    Column("publication_id", String(64), nullable=False),
    Column("status", String(32)),
)

_DETECTION_COLUMNS = (
    ("study_id", Integer),
    ("media_id", String(128)),
    ("plateform_id", String(16)),
    ("logo", String(128)),
    ("size", String(16)),
    ("area", Float),
    ("areaPercentage", Float),
)

yolo_image_detection = Table(
    "yolo_image_detection",
    study_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    *(Column(name, type_) for name, type_ in _DETECTION_COLUMNS),
    Column("confidence", Float),
    *(Column(n, Float) for n in ("x1", "y1", "x2", "y2")),
)

yolo_video_detection = Table(
    "yolo_video_detection",
    study_metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    *(Column(name, type_) for name, type_ in _DETECTION_COLUMNS),
    Column("timeBegin", Time),
    Column("timeEnd", Time),
    Column("confidence", Float),
    *(Column(n, Float) for n in ("x1", "y1", "x2", "y2")),
)


def connect(url: str) -> Engine:
    """An engine on the study database, checked with one round trip.

    Raises:
        DatabaseError: the URL is malformed or the server cannot be reached.
    """
    try:
        engine = create_engine(url, pool_pre_ping=True)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, ValueError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DatabaseError(
            f"cannot connect to the study database: {reason}",
            hint="check --db / VIGIE_STUDY_DB_URL (e.g. mysql+pymysql://user:pass@host/db)",
        ) from None
    return engine


def create_schema(engine: Engine) -> None:
    """Create the study tables where missing (SQLite demo databases, tests)."""
    study_metadata.create_all(engine, checkfirst=True)
