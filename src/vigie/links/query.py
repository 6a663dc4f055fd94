"""The study database selection of ``schema.sql``, as one parameterised query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import DateTime, Engine, Integer, bindparam, text
from sqlalchemy.exc import SQLAlchemyError

from vigie.errors import ConfigError, DatabaseError

# The selection given at the end of schema.sql, plus the publication time (for the manifest) and
# an ORDER BY so the output is the same on every run. Values are bound, never formatted in.
SELECTION = text(
    """
    SELECT spa.id_study, spa.id_plateform, spa.id_publication,
           pmedia.media_url, pmedia.type AS media_type, pms.status, p.name AS platform_name,
           pm.publication_datetime
    FROM study_publication_affectation spa
    LEFT JOIN publications_meta pm ON pm.plateform_id = spa.id_plateform
                                  AND pm.publication_id = spa.id_publication
    LEFT JOIN plateforms p ON p.id_plateform = spa.id_plateform
    LEFT JOIN publication_medias pmedia ON pmedia.id_plateform = spa.id_plateform
                                       AND pmedia.publication_id = spa.id_publication
    LEFT JOIN publication_media_status pms ON pms.publication_id = spa.id_publication
    WHERE spa.id_study = :study AND spa.flag_validated > 0
      AND pm.publication_datetime BETWEEN :start AND :end
    ORDER BY spa.id_plateform, spa.id_publication, pmedia.media_url
    """
).bindparams(
    bindparam("study", type_=Integer()),
    bindparam("start", type_=DateTime()),
    bindparam("end", type_=DateTime()),
)


@dataclass(frozen=True)
class StudyMediaRow:
    """One row of the selection."""

    study_id: int
    platform_id: int
    publication_id: str
    media_url: str | None
    media_type: str | None
    status: str | None
    platform_name: str | None
    published_at: datetime | None


def parse_bound(value: str | date | datetime, *, end: bool) -> datetime:
    """A date bound: a bare date is the start of the day, or its last second when ``end``.

    Raises:
        ConfigError: the text is neither ``YYYY-MM-DD`` nor an ISO date-time.
    """
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59) if end else time.min)
    text_value = value.strip()
    try:
        if len(text_value) == 10:
            return parse_bound(date.fromisoformat(text_value), end=end)
        return datetime.fromisoformat(text_value)
    except ValueError:
        raise ConfigError(
            f"not a date: {value!r}", hint="use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"
        ) from None


def _as_datetime(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))  # SQLite returns text for untyped columns


def select_study_media(
    engine: Engine, study: int, start: datetime, end: datetime
) -> list[StudyMediaRow]:
    """Run the selection for one study and period (both bounds included).

    Raises:
        DatabaseError: the query fails (missing table, lost connection...).
    """
    try:
        with engine.connect() as conn:
            result = conn.execute(SELECTION, {"study": study, "start": start, "end": end})
            return [
                StudyMediaRow(
                    study_id=int(r.id_study),
                    platform_id=int(r.id_plateform),
                    publication_id=str(r.id_publication),
                    media_url=r.media_url or None,
                    media_type=r.media_type,
                    status=r.status,
                    platform_name=r.platform_name,
                    published_at=_as_datetime(r.publication_datetime),
                )
                for r in result
            ]
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DatabaseError(
            f"cannot read study {study} from the study database: {reason}",
            hint="check that the database has the tables of schema.sql",
        ) from None
