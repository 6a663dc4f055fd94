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
