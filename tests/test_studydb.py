"""The study database mirror: creatable on SQLite, clear errors when unreachable."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from vigie import studydb
from vigie.errors import DatabaseError


def test_create_schema_on_sqlite_has_every_table(tmp_path: Path) -> None:
    engine = studydb.connect(f"sqlite:///{tmp_path / 'study.db'}")
    studydb.create_schema(engine)
    names = set(inspect(engine).get_table_names())
    assert {
        "plateforms",
        "study_publication_affectation",
        "publications_meta",
        "publication_medias",
        "publication_media_status",
        "yolo_image_detection",
        "yolo_video_detection",
    } <= names
    with engine.begin() as conn:
        conn.execute(
            studydb.publications_meta.insert().values(
                plateform_id=1, publication_id="p1", publication_datetime=datetime(2025, 8, 1)
            )
        )
        got = conn.execute(select(studydb.publications_meta.c.publication_id)).scalar_one()
    assert got == "p1"
    engine.dispose()


def test_unreachable_study_db_is_a_clear_error() -> None:
    with pytest.raises(DatabaseError, match="cannot connect"):
        studydb.connect("mysql+pymysql://root@127.0.0.1:1/none")


def test_malformed_url_is_a_clear_error() -> None:
    with pytest.raises(DatabaseError):
        studydb.connect("not a url")


def _detection(media: str, logo: str = "Car") -> dict[str, object]:
    return {"study_id": 53, "media_id": media, "plateform_id": 3, "logo": logo, "size": "medium",
            "area": 10.0, "areaPercentage": 1.5, "confidence": 0.9,
            "x1": 1.0, "y1": 2.0, "x2": 3.0, "y2": 4.0}  # fmt: skip


def _media_rows(engine: object, table: object) -> dict[str, int]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(table.c.media_id)).scalars().all()  # type: ignore[attr-defined]
    return {m: rows.count(m) for m in sorted(set(rows))}


def test_writers_replace_only_the_rows_of_the_media_they_write(tmp_path: Path) -> None:
    engine = studydb.connect(f"sqlite:///{tmp_path / 'study.db'}")
    studydb.create_schema(engine)
    t = studydb.yolo_image_detection
    studydb.write_image_detections(engine, [_detection("1520"), _detection("1520", "Bus")])
    studydb.write_image_detections(engine, [_detection("1520_2")])  # the tweet's second photo
    assert _media_rows(engine, t) == {"1520": 2, "1520_2": 1}
    studydb.write_image_detections(engine, [_detection("1520_2"), _detection("1520_2")])
    assert _media_rows(engine, t) == {"1520": 2, "1520_2": 2}  # replaced, not doubled
    studydb.write_image_detections(engine, [], [(53, "1520", 3)])  # the photo lost its boxes
    assert _media_rows(engine, t) == {"1520_2": 2}
    video = {**_detection("1600_2"), "timeBegin": 0.5, "timeEnd": 2.25}
    v = studydb.yolo_video_detection
    studydb.write_video_tracks(engine, [video], [(53, "1600_2", 3)])
    studydb.write_video_tracks(engine, [{**video, "media_id": "1600"}])
    assert _media_rows(engine, v) == {"1600": 1, "1600_2": 1}
    studydb.write_video_tracks(engine, [], [(53, "1600_2", 3)])  # no track any more
    assert _media_rows(engine, v) == {"1600": 1}
    studydb.write_video_tracks(engine, [video])
    with engine.connect() as conn:
        taken = conn.execute(select(v.c.id).where(v.c.media_id == "1600_2")).scalar_one()
    with pytest.raises(DatabaseError):  # a refused insert keeps the media's earlier rows
        studydb.write_video_tracks(engine, [{**video, "media_id": "1600", "id": taken}])
    assert _media_rows(engine, v) == {"1600": 1, "1600_2": 1}
    engine.dispose()
