"""The study database selection of ``schema.sql``, read page by page (reliability promise 13).

The selection is paged by the key of ``study_publication_affectation`` (its primary key is
``(id_study, id_plateform, id_publication)``, so ``(id_plateform, id_publication)`` is unique
within a study): each page is one parameterised statement returning every joined row of the next
``page_size`` publications after the last key read. A publication's rows (several media, the
duplicates of the ``publication_media_status`` join) never straddle two pages, so
``publication_medias`` needs no key of its own. The row count is read before the pages and again
after them (the same snapshot on InnoDB when no reconnect happened) and must equal the rows
read; a lost connection is reopened and the read resumes after the last complete page's key.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, Integer, String, TextClause, bindparam, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from vigie.errors import ConfigError, DatabaseError

log = logging.getLogger(__name__)

# The selection given at the end of schema.sql, plus the publication time (for the manifest) and
# an ORDER BY so the output is the same on every run. Values are bound, never formatted in.
# The pager below returns the same rows, in the same order, a page of publications at a time.
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


_PUBLICATIONS = """
    SELECT spa.id_study, spa.id_plateform, spa.id_publication, pm.publication_datetime
    FROM study_publication_affectation spa
    JOIN publications_meta pm ON pm.plateform_id = spa.id_plateform
                             AND pm.publication_id = spa.id_publication
    WHERE spa.id_study = :study AND spa.flag_validated > 0
      AND pm.publication_datetime BETWEEN :start AND :end
      {after}
    ORDER BY spa.id_plateform, spa.id_publication
    LIMIT :limit
"""
_AFTER = """AND (spa.id_plateform > :after_platform
           OR (spa.id_plateform = :after_platform AND spa.id_publication > :after_publication))"""
_PAGE = """
    SELECT page.id_study, page.id_plateform, page.id_publication,
           pmedia.media_url, pmedia.type AS media_type, pms.status, p.name AS platform_name,
           page.publication_datetime
    FROM ({publications}) page
    LEFT JOIN plateforms p ON p.id_plateform = page.id_plateform
    LEFT JOIN publication_medias pmedia ON pmedia.id_plateform = page.id_plateform
                                       AND pmedia.publication_id = page.id_publication
    LEFT JOIN publication_media_status pms ON pms.publication_id = page.id_publication
    ORDER BY page.id_plateform, page.id_publication, pmedia.media_url, pmedia.type, pms.status
"""
_PARAMS = (
    bindparam("study", type_=Integer()),
    bindparam("start", type_=DateTime()),
    bindparam("end", type_=DateTime()),
    bindparam("limit", type_=Integer()),
)
FIRST_PAGE = text(_PAGE.format(publications=_PUBLICATIONS.format(after=""))).bindparams(*_PARAMS)
NEXT_PAGE = text(_PAGE.format(publications=_PUBLICATIONS.format(after=_AFTER))).bindparams(
    *_PARAMS,
    bindparam("after_platform", type_=Integer()),
    bindparam("after_publication", type_=String()),
)
# The number of rows SELECTION returns (plateforms joins on its primary key: one row or none).
COUNT = text(
    """
    SELECT COUNT(*) AS n
    FROM study_publication_affectation spa
    JOIN publications_meta pm ON pm.plateform_id = spa.id_plateform
                             AND pm.publication_id = spa.id_publication
    LEFT JOIN publication_medias pmedia ON pmedia.id_plateform = spa.id_plateform
                                       AND pmedia.publication_id = spa.id_publication
    LEFT JOIN publication_media_status pms ON pms.publication_id = spa.id_publication
    WHERE spa.id_study = :study AND spa.flag_validated > 0
      AND pm.publication_datetime BETWEEN :start AND :end
    """
).bindparams(
    bindparam("study", type_=Integer()),
    bindparam("start", type_=DateTime()),
    bindparam("end", type_=DateTime()),
)
# MySQL/MariaDB client and server codes of a connection that is gone (SQLAlchemy also flags them)
LOST_CONNECTION_CODES = frozenset({1053, 1927, 2006, 2013, 2014, 2045, 2055, 4031})


def _lost_connection(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    args: tuple[Any, ...] = tuple(getattr(exc.orig, "args", ()))
    return bool(args) and args[0] in LOST_CONNECTION_CODES


class _Reader:
    """One connection to the study database, reopened when the server drops it."""

    def __init__(self, engine: Engine, retries: int) -> None:
        self.engine = engine
        self.retries = retries
        self.conn: Connection | None = None
        self.reconnects = 0

    def execute(self, stmt: TextClause, params: dict[str, Any]) -> list[Any]:
        failures = 0
        while True:
            try:
                if self.conn is None:
                    self.conn = self.engine.connect()
                return list(self.conn.execute(stmt, params).fetchall())
            except DBAPIError as exc:
                if not _lost_connection(exc) or failures >= self.retries:
                    raise
                failures += 1
                self.reconnects += 1
                reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
                log.warning(
                    "study database connection lost (%s); reconnecting (%d/%d) and resuming",
                    reason,
                    failures,
                    self.retries,
                )
                self.close()
                clock.sleep(min(2.0, 0.05 * 2**failures))

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except SQLAlchemyError:
                self.conn.invalidate()
            self.conn = None


def _row(r: Any) -> StudyMediaRow:
    return StudyMediaRow(
        study_id=int(r.id_study),
        platform_id=int(r.id_plateform),
        publication_id=str(r.id_publication),
        media_url=r.media_url or None,
        media_type=r.media_type,
        status=r.status,
        platform_name=r.platform_name,
        published_at=_as_datetime(r.publication_datetime),
    )


def select_study_media(
    engine: Engine,
    study: int,
    start: datetime,
    end: datetime,
    *,
    page_size: int = 5000,
    retries: int = 5,
    on_page: Callable[[int, int], None] | None = None,
) -> list[StudyMediaRow]:
    """Run the selection for one study and period (both bounds included), page by page.

    Args:
        page_size: publications per page (each page is one statement with all their rows).
        retries: reconnections allowed in a row after a lost connection; the read resumes
            after the last key of the last complete page, so no row is lost or read twice.
        on_page: called after each page with (pages read, rows read so far).

    Raises:
        DatabaseError: the query fails (missing table...), the connection cannot be reopened,
            or the rows read do not match the database's count.
    """
    if page_size < 1:
        raise ConfigError(f"page size must be at least 1, not {page_size}")
    reader = _Reader(engine, retries)
    base = {"study": study, "start": start, "end": end}
    rows: list[StudyMediaRow] = []
    try:
        expected = int(reader.execute(COUNT, base)[0].n)
        after: tuple[int, str] | None = None
        pages = 0
        while True:
            if after is None:
                page = reader.execute(FIRST_PAGE, {**base, "limit": page_size})
            else:
                params = {"after_platform": after[0], "after_publication": after[1]}
                page = reader.execute(NEXT_PAGE, {**base, **params, "limit": page_size})
            keys: list[tuple[int, str]] = []
            for r in page:
                key = (r.id_plateform, r.id_publication)
                if not keys or keys[-1] != key:
                    keys.append(key)
                rows.append(_row(r))
            pages += 1
            if on_page is not None:
                on_page(pages, len(rows))
            if len(keys) < page_size:
                break
            after = keys[-1]
        # counted again after the read: a reconnect opens a new snapshot, in which rows may
        # have been added or removed behind the key (the first count would not see it)
        recount = int(reader.execute(COUNT, base)[0].n)
        if recount != len(rows):
            raise DatabaseError(
                f"read {len(rows)} rows of study {study} but the study database counts "
                f"{recount} (and counted {expected} before the read)",
                hint="the study database changed during the read; run `vigie links` again",
            )
        if recount != expected:
            log.warning(
                "study %s: the study database changed during the read (%d rows counted before, "
                "%d after); the links match the final state",
                study,
                expected,
                recount,
            )
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        hint = "check that the database has the tables of schema.sql"
        if isinstance(exc, DBAPIError) and _lost_connection(exc):
            hint = "the study database keeps dropping the connection; check the server, run again"
        raise DatabaseError(
            f"cannot read study {study} from the study database: {reason}", hint=hint
        ) from None
    finally:
        reader.close()
    if reader.reconnects:
        log.info("study %s read in full after %d reconnections", study, reader.reconnects)
    return rows
