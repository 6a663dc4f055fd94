"""Shared helpers of the links tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path


def sqlite_study(
    path: Path, study: int, media_type: str, when: datetime = datetime(2025, 9, 1)
) -> str:
    """An SQLite study database with one validated Instagram publication ``A`` holding one media
    of ``media_type`` published at ``when``; returns its URL."""
    from sqlalchemy import insert

    from vigie import studydb

    url = f"sqlite:///{path}"
    engine = studydb.connect(url)
    studydb.create_schema(engine)
    with engine.begin() as conn:
        conn.execute(insert(studydb.plateforms), [{"id_plateform": 1, "name": "instagram"}])
        conn.execute(
            insert(studydb.study_publication_affectation),
            [{"id_study": study, "id_plateform": 1, "id_publication": "A", "flag_validated": 1}],
        )
        conn.execute(
            insert(studydb.publications_meta),
            [{"plateform_id": 1, "publication_id": "A", "publication_datetime": when}],
        )
        conn.execute(
            insert(studydb.publication_medias),
            [{"id_plateform": 1, "publication_id": "A", "type": media_type}],
        )
    engine.dispose()
    return url
