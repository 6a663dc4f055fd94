"""Inputs of a download: a links manifest, a URL list, or a study's links in the catalog."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.download.safety import Seen, name_from_url, safe_filename, unique_name
from vigie.errors import SourceError
from vigie.identity import identity_from_name, index_in_name
from vigie.media import kind_of
from vigie.types import MediaKind

if TYPE_CHECKING:
    from vigie.download.failures import LoggedFailure


@dataclass(frozen=True, slots=True)
class Job:
    """One item to fetch: where from, under which name, and its provenance columns."""

    key: str  # catalog key
    url: str
    filename: str
    kind: MediaKind  # expected kind (UNKNOWN for a plain URL list)
    study_id: int | None = None
    publication_id: str | None = None
    platform_id: int | None = None
    media_type: str | None = None
    # the seed's fallback: a failed .mp4 is tried again as its .jpg sibling
    fallback: Job | None = None
    fixed_name: bool = True  # False: the extension may be completed from the content


# one input item: the job, and whether an earlier item of the input already named it
Entry = tuple[Job, bool]


@dataclass
class JobSource:
    """An input read lazily: ``entries()`` reads it again from the start, one item at a time
    (a first pass counted ``total`` items, duplicates included, and checked every row)."""

    entries: Callable[[], Iterator[Entry]]
    total: int
    label: str = "urls"  # errors_<label>.log
    study_id: int | None = None
    source_kind: str = "urls"
    source_name: str = ""


def study_key(study: int, filename: str) -> str:
    return f"study:{study}:{filename}"


def _kind(value: Any) -> MediaKind:
    try:
        return MediaKind(str(value).strip().lower())
    except ValueError:
        return MediaKind.UNKNOWN


def _study_job(row: dict[str, Any], study: int | None) -> Job:
    try:
        row_study = int(row.get("study_id") or study or 0)
        url = str(row["url"]).strip()
        filename = safe_filename(str(row["filename"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(
            f"manifest row without {exc}", hint="regenerate it with `vigie links`"
        ) from None
    platform = row.get("platform_id")
    return Job(
        key=study_key(row_study, filename),
        url=url,
        filename=filename,
        kind=_kind(row.get("media_type")),
        study_id=row_study,
        publication_id=str(row.get("publication_id") or "") or None,
        platform_id=int(platform) if platform not in (None, "") else None,
        media_type=str(row.get("media_type") or "") or None,
    )


def _lines(path: Path, what: str) -> Iterator[str]:
    """The file's lines as UTF-8 text, or a SourceError that says what is wrong with it."""
    try:
        with path.open(encoding="utf-8") as f:
            yield from f
    except UnicodeDecodeError:
        raise SourceError(
            f"{path} is not a text {what}", hint="pass the manifest or URL list as UTF-8 text"
        ) from None
    except OSError as exc:
        raise SourceError(f"cannot read {what} {path}: {exc.strerror}") from None


def _manifest_rows(path: Path) -> Iterator[dict[str, Any]]:
    lines = _lines(path, "manifest")
    head: list[str] = []
    for line in lines:  # the first non-blank line says JSONL or CSV
        head.append(line)
        if line.strip():
            break
    rest = itertools.chain(head, lines)
    if "".join(head).lstrip().startswith("{"):
        for line in rest:
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SourceError(f"{path} is not JSONL: {exc}") from None
        return
    for n, row in enumerate(csv.DictReader(rest)):
        if n == 0 and "url" not in row:
            raise SourceError(f"{path} has no 'url' column", hint="pass a URL list with --urls")
        yield row


def _manifest_jobs(path: Path, study: int | None) -> Iterator[Job]:
    for row in _manifest_rows(path):
        job = _study_job(row, study)
        if study is None or job.study_id == study:
            yield job


def read_manifest(path: Path, study: int | None = None) -> JobSource:
    """Jobs from a manifest written by `vigie links` (JSONL or CSV), optionally one study's,
    read lazily (a first pass checks every row and counts them).

    Raises:
        SourceError: the file is missing or malformed.
    """
    total, studies = 0, set[int | None]()
    for job in _manifest_jobs(path, study):
        total += 1
        if len(studies) < 2:
            studies.add(job.study_id)
    if not total:
        raise SourceError(
            f"nothing to download: {path} lists no link"
            + (f" of study {study}" if study is not None else ""),
            hint="check the file, or run `vigie links` for the study first",
        )
    sid = study if study is not None else (studies.pop() if len(studies) == 1 else None)
    return _keyed_source(lambda: _manifest_jobs(path, study), total,
                         str(sid) if sid is not None else path.stem, sid)  # fmt: skip


def _urls(path: Path) -> Iterator[str]:
    for line in _lines(path, "URL list"):
        url = line.strip()
        if url and not url.startswith("#"):
            yield url


def read_url_list(path: Path, out: Path, study: int | None = None) -> JobSource:
    """Jobs from a file of URLs (one per line; blank lines and ``#`` comments skipped), such as
    the seed's ``aws_links.txt`` / ``twitter_links.txt``, read lazily.

    Files are named after the URL's last path segment, made safe and unique; with ``study``
    they get the seed's ``<study>_`` prefix (``53_<publication>_<platform>.jpg`` for S3 keys).
    The extension only chooses the folder; the content decides what the file is.
    """
    total = sum(1 for _ in _urls(path))
    if not total:
        raise SourceError(
            f"nothing to download: {path} holds no URL",
            hint="put one http(s) URL per line (blank lines and # comments are skipped)",
        )
    target = str(out.resolve())

    def entries() -> Iterator[Entry]:
        used, seen = Seen(), Seen()  # names taken, URLs met
        renamed: dict[str, str] = {}  # URL -> its name where another URL had the plain one
        for url in _urls(path):
            base = name_from_url(url)
            if study is not None and not base.startswith(f"{study}_"):
                base = safe_filename(f"{study}_{base}")
            duplicate = url in seen
            if duplicate:
                name = renamed.get(url, base)
            else:
                seen.add(url)
                name = unique_name(base, url, used)
                if name != base:
                    renamed[url] = name
            job = Job(key=url_key(target, url), url=url, filename=name, kind=kind_of(name),
                      study_id=study, fixed_name=False)  # fmt: skip
            yield job, duplicate

    return JobSource(
        entries,
        total,
        label=str(study) if study is not None else safe_filename(path.stem),
        source_kind="urls",
        source_name=str(path.resolve()),
    )


def url_key(target: str, url: str) -> str:
    """The catalog key of a URL-list item: the URL and the resolved target folder."""
    return "url:" + hashlib.sha1(f"{target}\n{url}".encode()).hexdigest()[:24]


def from_failure_log(entries: list[LoggedFailure], out: Path, study: int | None) -> list[Job]:
    """Jobs for failure-log entries (``--retry-failed`` where the catalog has no record).

    An entry keeps its logged key and file name; a seed line with a URL alone is named like a
    URL-list item (``<study>_`` + the URL's last segment). Study provenance comes from the name.
    """
    target = str(out.resolve())
    jobs = []
    for entry in entries:
        name = entry.filename
        if name is None:
            name = name_from_url(entry.url)
            if study is not None and not name.startswith(f"{study}_"):
                name = f"{study}_{name}"
        name = safe_filename(name)
        ident = identity_from_name(name)
        if study is not None and ident is not None and ident.study_id != study:
            ident = None
        key = entry.key or (
            study_key(study, name) if study is not None else url_key(target, entry.url)
        )
        kind = kind_of(name)
        jobs.append(
            Job(
                key=key,
                url=entry.url,
                filename=name,
                kind=kind,
                study_id=study,
                publication_id=ident.publication_id if ident else None,
                platform_id=ident.platform_id if ident else None,
                media_type=kind.value if ident and kind is not MediaKind.UNKNOWN else None,
                fixed_name=kind is not MediaKind.UNKNOWN,
            )
        )
    return jobs


def from_catalog(cat: Any, study: int, page: int = 2_000) -> JobSource | None:
    """Jobs from the study's items registered in the catalog by `vigie links`, read in pages
    of ``page`` rows; None when the catalog has no item of the study."""
    prefix = f"study:{study}:"

    def jobs() -> Iterator[Job]:
        after = None
        while rows := cat.items(key_prefix=prefix, after_id=after, limit=page):
            after = rows[-1].id
            for r in rows:
                if r.url and r.filename and r.kind in (MediaKind.IMAGE, MediaKind.VIDEO):
                    yield Job(key=r.key, url=r.url, filename=r.filename, kind=_kind(r.kind),
                              study_id=r.study_id, publication_id=r.publication_id,
                              platform_id=r.platform_id, media_type=r.media_type)  # fmt: skip

    if not cat.items(key_prefix=prefix, limit=1):
        return None
    return _keyed_source(jobs, sum(1 for _ in jobs()), str(study), study)


def with_jpg_fallback(
    job: Job, taken: Container[str] = frozenset(), twitter_platform_id: int | None = None
) -> Job:
    """The job with the seed's fallback: its ``.jpg`` sibling when a ``.mp4`` fails.

    The fallback never makes a second copy of another media: no sibling whose URL or file name
    is in ``taken`` (the run's other links), and none for the n-th (n >= 2) media of a
    non-Twitter publication, whose ``.jpg`` key is the publication's first media.
    """
    if not job.url.split("?")[0].lower().endswith(".mp4") or not job.filename.endswith(".mp4"):
        return job
    base, _, query = job.url.partition("?")
    url = base[:-4] + ".jpg" + (f"?{query}" if query else "")
    name = job.filename[:-4] + ".jpg"
    if url in taken or name in taken or _later_s3_media(job, twitter_platform_id):
        return job
    sibling = replace(
        job,
        key=study_key(job.study_id, name)
        if job.study_id is not None and job.key.startswith("study:")
        else job.key + ":jpg",
        url=url,
        filename=name,
        kind=MediaKind.IMAGE,
        fallback=None,
    )
    return replace(job, fallback=sibling)


def _later_s3_media(job: Job, twitter_platform_id: int | None) -> bool:
    if job.study_id is None or job.publication_id is None or job.platform_id is None:
        return False
    if twitter_platform_id is not None and job.platform_id == twitter_platform_id:
        return False
    return index_in_name(job.filename, job.study_id, job.publication_id, job.platform_id) >= 2


def _keyed_source(
    jobs: Callable[[], Iterator[Job]], total: int, label: str, study: int | None
) -> JobSource:
    """A source whose items are duplicates when an earlier one has the same key."""

    def entries() -> Iterator[Entry]:
        seen = Seen()
        for job in jobs():
            duplicate = job.key in seen
            seen.add(job.key)
            yield job, duplicate

    return JobSource(
        entries,
        total,
        label=safe_filename(label),
        study_id=study,
        source_kind="study" if study is not None else "urls",
        source_name=str(study) if study is not None else label,
    )
