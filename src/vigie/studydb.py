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

from vigie.errors import DatabaseError, require_driver

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
    require_driver(url)
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


def _time3(seconds: float) -> object:
    """Seconds as a ``datetime.time`` rounded to the millisecond (TIME(3), hh:mm:ss.mmm)."""
    from datetime import time

    ms = max(0, round(float(seconds) * 1000))
    ms = min(ms, (24 * 3600 - 1) * 1000 + 999)  # TIME values of a video are under a day
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return time(h, m, s, milli * 1000)


MediaKey = tuple[int, str, "int | str"]  # (study_id, media_id, platform id): one media's rows


def _replace_media_rows(
    engine: Engine, table: Table, rows: list[dict[str, object]], media_keys: list[MediaKey] | None
) -> int:
    """Delete the rows of every media of the batch, insert ``rows``: one transaction.

    ``media_keys`` are the media written (default: those of ``rows``); a media among them with no
    row left (no detection, no track any more) loses its earlier rows. Other media's rows, the
    other media of the same publication included, are never touched.

    Raises:
        DatabaseError: the database refused the write (nothing of the batch is kept).
    """
    from sqlalchemy import and_, delete, or_

    from vigie.types import STUDY_DB_SIZE_NAMES

    prepared = []
    for row in rows:
        data = dict(row)
        data["size"] = STUDY_DB_SIZE_NAMES.get(str(data.get("size")), data.get("size"))
        data["plateform_id"] = str(data.get("plateform_id"))
        prepared.append(data)
    keys = {(int(st), str(m), str(p)) for st, m, p in (media_keys or [])}
    keys |= {(int(r["study_id"]), str(r["media_id"]), str(r["plateform_id"])) for r in prepared}  # type: ignore[call-overload]
    if not keys:
        return 0
    t = table
    cond = or_(
        *(and_(t.c.study_id == st, t.c.media_id == m, t.c.plateform_id == p) for st, m, p in keys)
    )
    try:
        with engine.begin() as conn:
            conn.execute(delete(t).where(cond))
            if prepared:
                conn.execute(t.insert(), prepared)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DatabaseError(
            f"cannot write {t.name}: {reason}",
            hint="check the study database URL and that its schema matches schema.sql",
        ) from None
    return len(prepared)


def write_video_tracks(
    engine: Engine, rows: list[dict[str, object]], media_keys: list[MediaKey] | None = None
) -> int:
    """Write one ``yolo_video_detection`` row per track, replacing the video's earlier rows.

    Each row gives study_id, media_id, plateform_id, logo (class name), size (Vigie's size name,
    written with the study spelling of ``vigie.types.STUDY_DB_SIZE_NAMES``), area,
    areaPercentage, timeBegin and timeEnd (seconds, written as TIME hh:mm:ss.mmm), confidence
    (max over the track) and x1, y1, x2, y2 (box of the most confident observation). The rows of
    every media in ``media_keys`` (study_id, media_id, platform id; default: the keys of
    ``rows``) are deleted in the same transaction, so a rerun leaves exactly one set and a video
    that lost its tracks loses its rows; other media's rows are untouched.

    Returns:
        the number of rows inserted.

    Raises:
        DatabaseError: the database refused the write.
    """
    prepared = []
    for row in rows:
        data = dict(row)
        data["timeBegin"] = _time3(float(data["timeBegin"]))  # type: ignore[arg-type]
        data["timeEnd"] = _time3(float(data["timeEnd"]))  # type: ignore[arg-type]
        prepared.append(data)
    return _replace_media_rows(engine, yolo_video_detection, prepared, media_keys)


def write_image_detections(
    engine: Engine, rows: list[dict[str, object]], media_keys: list[MediaKey] | None = None
) -> int:
    """Write ``yolo_image_detection`` rows for a batch of images in one transaction.

    Each row gives study_id, media_id, plateform_id, logo (class name), size (Vigie's size name,
    written with the study spelling of ``vigie.types.STUDY_DB_SIZE_NAMES``), area,
    areaPercentage, confidence and x1, y1, x2, y2. Earlier rows of every image of the batch
    (``media_keys``: (study_id, media_id, platform id); default: the keys found in ``rows``)
    are deleted first, so a rerun leaves exactly one set and an image that lost its
    detections loses its rows; other media's rows are untouched.

    Returns:
        the number of rows inserted.

    Raises:
        DatabaseError: the database refused the write.
    """
    return _replace_media_rows(engine, yolo_image_detection, rows, media_keys)
