"""The input of a run read in chunks: each chunk's catalog rows in one query, duplicates
reported as they are met, so the driver holds a few chunks of jobs whatever the input's size."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from vigie.catalog import Catalog
from vigie.download.jobs import Entry, Job, with_jpg_fallback
from vigie.download.safety import Seen

CHUNK_SIZE = 2_000  # jobs read, checked against the catalog and dispatched at a time
ROW_FIELDS = ("status", "path", "size_bytes", "kind", "frame_count")
# a unit of work of a runner: a token it hands back with the item's result, the job, its row
Work = tuple[Any, Job, Any]


@dataclass(slots=True)
class Chunk:
    jobs: list[Job]
    existing: dict[str, Any]  # the catalog rows of these jobs' keys (those it has)


def portable(row: Any) -> Any:
    """A catalog row reduced to the fields the downloader reads (pickled to a worker)."""
    return SimpleNamespace(**{f: getattr(row, f, None) for f in ROW_FIELDS})


def lookup(cat: Catalog) -> Callable[[list[str]], dict[str, Any]]:
    def rows(keys: list[str]) -> dict[str, Any]:
        return {r.key: r for r in cat.items_with_keys(keys)}

    return rows


def chunks(
    entries: Iterable[Entry],
    rows: Callable[[list[str]], dict[str, Any]],
    on_entry: Callable[[Job, bool], None],
    size: int = CHUNK_SIZE,
) -> Iterator[Chunk]:
    """The input's jobs ``size`` at a time, each chunk with its catalog rows (one query);
    ``on_entry`` sees every item first, duplicates included (which no chunk holds)."""
    batch: list[Job] = []
    for job, duplicate in entries:
        on_entry(job, duplicate)
        if duplicate:
            continue
        batch.append(job)
        if len(batch) >= size:
            yield Chunk(batch, rows([j.key for j in batch]))
            batch = []
    if batch:
        yield Chunk(batch, rows([j.key for j in batch]))


def work(stream: Iterable[Chunk]) -> Iterator[Work]:
    """The jobs of the chunks, one at a time, each with its catalog row."""
    for chunk in stream:
        for job in chunk.jobs:
            yield None, job, chunk.existing.get(job.key)


class LogCoverage:
    """Which entries of the earlier failure logs this run's input names (by key or URL): those
    are rewritten from the run's results, the others are kept."""

    def __init__(self, logged: list[Job]) -> None:
        self.logged = logged
        self.index: dict[str, list[int]] = {}
        for i, entry in enumerate(logged):
            for value in {entry.key, entry.url}:
                self.index.setdefault(value, []).append(i)
        self.by_key = {e.key: i for i, e in enumerate(logged)}
        self.by_url = {e.url: i for i, e in enumerate(logged)}
        self.covered: set[int] = set()  # a job has the entry's key, or its URL
        self.named: set[int] = set()  # a job's key or URL is the entry's key or URL

    def see(self, job: Job, _duplicate: bool = False) -> None:
        if not self.logged:
            return
        for found in (self.by_key.get(job.key), self.by_url.get(job.url)):
            if found is not None:
                self.covered.add(found)

    def name(self, job: Job) -> None:
        for value in (job.key, job.url):
            self.named.update(self.index.get(value, ()))


def retry_jobs(
    entries: Iterable[Entry],
    rows: Callable[[list[str]], dict[str, Any]],
    logged: list[Job],
    twitter_id: int,
) -> list[Job]:
    """The jobs of a ``--retry-failed`` run: failed in the catalog, or listed in the logs
    (``logged``; entries no input job names are jobs of their own), each with the ``.jpg``
    fallback. The input is read in chunks; only the chosen jobs are kept."""
    logged_keys = {j.key for j in logged}
    logged_urls = {j.url for j in logged}
    names = LogCoverage(logged)
    taken = Seen()  # every URL and file name of the input (no fallback may copy one)
    chosen: list[Job] = []
    for chunk in chunks(entries, rows, lambda _j, _d: None):
        for j in chunk.jobs:
            taken.add(j.url)
            taken.add(j.filename)
            names.name(j)
            row = chunk.existing.get(j.key)
            failed = row is not None and str(row.status) == "failed"
            if failed or j.key in logged_keys or j.url in logged_urls:
                chosen.append(j)
    chosen += [j for i, j in enumerate(logged) if i not in names.named]
    for j in chosen:
        taken.add(j.url)
        taken.add(j.filename)
    return [with_jpg_fallback(j, taken, twitter_id) for j in chosen]
