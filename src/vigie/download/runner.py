"""The event-loop side of one download run: workers, pools, host limits, catalog batches."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vigie.catalog import Catalog
from vigie.config import Settings
from vigie.download.fetch import Body, Fetcher, FetchError
from vigie.download.finish import Stored, part_path, store_body, verify_file
from vigie.download.jobs import Job
from vigie.download.model import DownloadResult, ItemResult, Layout
from vigie.download.safety import inside
from vigie.download.stream import Work
from vigie.errors import UnsafeURLError
from vigie.net import AddressPolicy, async_client
from vigie.types import ItemStatus, MediaKind

FLUSH_EVERY = 256
# a worker process's batch: catalog rows, item results, and each item's token (see Work)
Sink = Callable[[list[dict[str, Any]], list[ItemResult], list[Any]], None]
POOL_SIZE = 8  # connections per httpx client (see Fetcher)


def item_row(
    job: Job,
    source_id: int,
    run_id: int,
    status: ItemStatus,
    stored: Stored | None = None,
    error_class: str | None = None,
    error: str | None = None,
    attempts: int = 0,
) -> dict[str, Any]:
    info = stored.info if stored else None
    kind = info.kind if info else job.kind
    return {
        "key": job.key,
        "source_id": source_id,
        "kind": kind.value,
        "url": job.url,
        "filename": stored.path.name if stored else job.filename,
        "study_id": job.study_id,
        "publication_id": job.publication_id,
        "platform_id": job.platform_id,
        "media_type": job.media_type or (kind.value if info else None),
        "status": status.value,
        "path": str(stored.path) if stored else None,
        "sha256": stored.sha256 if stored else None,
        "size_bytes": stored.size if stored else None,
        "width": info.width if info else None,
        "height": info.height if info else None,
        "duration": info.duration if info else None,
        "fps": info.fps if info else None,
        "frame_count": info.frame_count if info else None,
        "error_class": error_class,
        "error": error[:2000] if error else None,
        "attempts": attempts,
        "run_id": run_id,
    }


class Runner:
    """The event-loop side of one run: workers, host limits, catalog batches."""

    def __init__(
        self,
        cat: Catalog | None,
        cfg: Settings,
        layout: Layout,
        source_id: int,
        run_id: int,
        pool: ThreadPoolExecutor,
        allow_private: bool,
        result: DownloadResult,
        on_item: Callable[[ItemResult], None] | None,
        sink: Sink | None = None,
    ) -> None:
        """``sink`` (worker processes): receives each batch of catalog rows and item results
        instead of the catalog (``cat`` is then None)."""
        self.cat, self.cfg, self.layout = cat, cfg, layout
        self.source_id, self.run_id, self.pool = source_id, run_id, pool
        self.allow_private = allow_private
        self.result, self.on_item = result, on_item
        self.sink = sink
        self.flush_every = FLUSH_EVERY if sink is None else 32
        self.rows: list[dict[str, Any]] = []
        self.items: list[ItemResult] = []
        self.positions: list[Any] = []
        self._present: dict[Path, frozenset[str]] = {}  # names in each folder at the start

    def _was_present(self, folder: Path, name: str) -> bool:
        """Whether ``name`` was in ``folder`` when the run started (one listing per folder
        instead of a stat per item; files renamed by this run are never looked up again)."""
        names = self._present.get(folder)
        if names is None:
            try:
                names = frozenset(os.listdir(folder))
            except OSError:
                names = frozenset()
            self._present[folder] = names
        return name in names

    def report(self, item: ItemResult, position: Any) -> None:
        self.result.add(item)
        if self.sink is not None:
            self.items.append(item)
            self.positions.append(position)
        if self.on_item:
            self.on_item(item)

    async def run(self, jobs: Iterable[Work], count: int) -> None:
        """Download ``jobs`` (pulled lazily, one per free worker: token, job, catalog row),
        with workers for ``count`` of them at most."""
        dcfg = self.cfg.download
        n_workers = min(dcfg.concurrency, max(1, count))
        n_pools = -(-n_workers // POOL_SIZE)
        # The media downloader's own clients: no cookies or tokens shared with other clients,
        # no proxies from the environment, redirects followed by the Fetcher (one hop at a time).
        policy = AddressPolicy(allow_private=self.allow_private)
        clients = [
            async_client(
                policy,
                connections=-(-n_workers // n_pools),
                connect_timeout=dcfg.connect_timeout,
                read_timeout=dcfg.read_timeout,
                headers={"User-Agent": dcfg.user_agent},
            )
            for _ in range(n_pools)
        ]
        endpoint = urlsplit(self.cfg.links.s3_endpoint_url or "").hostname
        self.fetcher = Fetcher(clients, dcfg, object_hosts=frozenset(filter(None, [endpoint])))
        queue: Iterator[Work] = iter(jobs)
        try:
            async with contextlib.AsyncExitStack() as stack:
                for client in clients:
                    await stack.enter_async_context(client)
                workers = [
                    asyncio.create_task(self._worker(queue, slot)) for slot in range(n_workers)
                ]
                try:
                    await asyncio.gather(*workers)
                finally:
                    for w in workers:
                        w.cancel()
        finally:
            await self._flush(force=True)

    async def _worker(self, queue: Iterator[Work], slot: int) -> None:
        for position, job, row in queue:
            item = await self._one(job, row, slot)
            self.report(item, position)
            if max(len(self.rows), len(self.items)) >= self.flush_every:
                await self._flush()

    async def _flush(self, force: bool = False) -> None:
        if self.sink is not None:
            rows, self.rows, items, self.items = self.rows, [], self.items, []
            positions, self.positions = self.positions, []
            if rows or items:
                self.sink(rows, items, positions)
            return
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        assert self.cat is not None
        if force:
            self.cat.upsert_items(rows)
        else:
            await asyncio.to_thread(self.cat.upsert_items, rows)

    async def _one(self, job: Job, row: Any, slot: int) -> ItemResult:
        loop = asyncio.get_running_loop()
        folder = self.layout.folder(job.kind)
        if row is not None and row.status == ItemStatus.DONE and _still_there(row):
            return ItemResult(
                job.key,
                job.url,
                ItemStatus.SKIPPED,
                job.filename,
                Path(row.path),
                MediaKind(row.kind),
                frame_count=row.frame_count,
            )
        try:
            final = inside(folder, job.filename)
        except UnsafeURLError as exc:
            return self._failed(job, "unsafe_name", str(exc), 0)
        # renamed by a run killed before its catalog batch: validate it again and adopt it
        if self._was_present(folder, final.name):
            stored = await loop.run_in_executor(
                self.pool, verify_file, final, self.cfg.download.max_pixels
            )
            if stored is not None and (
                job.kind is MediaKind.UNKNOWN or stored.info.kind is job.kind
            ):
                self.rows.append(
                    item_row(job, self.source_id, self.run_id, ItemStatus.DONE, stored)
                )
                return ItemResult(
                    job.key,
                    job.url,
                    ItemStatus.SKIPPED,
                    final.name,
                    final,
                    stored.info.kind,
                    frame_count=stored.info.frame_count,
                )
        try:
            stored, attempts = await self._fetch(job, folder, slot)
        except FetchError as err:
            if job.fallback is not None:
                return await self._fallback(job, err, slot)
            return self._failed(job, err.error_class, str(err), err.attempts)
        self.rows.append(
            item_row(job, self.source_id, self.run_id, ItemStatus.DONE, stored, attempts=attempts)
        )
        return ItemResult(
            job.key,
            job.url,
            ItemStatus.DONE,
            stored.path.name,
            stored.path,
            stored.info.kind,
            stored.size,
            attempts=attempts,
            frame_count=stored.info.frame_count,
        )

    async def _fetch(self, job: Job, folder: Path, slot: int) -> tuple[Stored, int]:
        loop = asyncio.get_running_loop()
        part = part_path(inside(folder, job.filename))
        max_pixels = self.cfg.download.max_pixels

        async def finish(body: Body) -> Stored:
            return await loop.run_in_executor(self.pool, store_body, job, body, folder, max_pixels)

        stored = False
        try:
            result = await self.fetcher.fetch(job.url, part, finish, slot)
            stored = True  # the .part file was renamed
            return result
        finally:
            if not stored:
                part.unlink(missing_ok=True)

    async def _fallback(self, job: Job, err: FetchError, slot: int) -> ItemResult:
        sibling = job.fallback
        assert sibling is not None
        try:
            stored, attempts = await self._fetch(sibling, self.layout.folder(sibling.kind), slot)
        except FetchError as err2:
            return self._failed(
                job,
                err.error_class,
                f"{err}; .jpg sibling: {err2.error_class}: {err2}",
                err.attempts + err2.attempts,
            )
        self.rows.append(
            item_row(
                sibling, self.source_id, self.run_id, ItemStatus.DONE, stored, attempts=attempts
            )
        )
        self.rows.append(
            item_row(
                job,
                self.source_id,
                self.run_id,
                ItemStatus.SKIPPED,
                error_class="replaced_by_jpg",
                error=f"{err}; kept {sibling.filename}",
                attempts=err.attempts,
            )
        )
        return ItemResult(
            job.key,
            job.url,
            ItemStatus.DONE,
            stored.path.name,
            stored.path,
            stored.info.kind,
            stored.size,
            attempts=attempts,
        )

    def _failed(self, job: Job, error_class: str, error: str, attempts: int) -> ItemResult:
        self.rows.append(
            item_row(
                job,
                self.source_id,
                self.run_id,
                ItemStatus.FAILED,
                error_class=error_class,
                error=error,
                attempts=attempts,
            )
        )
        return ItemResult(
            job.key,
            job.url,
            ItemStatus.FAILED,
            job.filename,
            kind=job.kind,
            error_class=error_class,
            error=error,
            attempts=attempts,
        )


def _still_there(row: Any) -> bool:
    if not row.path:
        return False
    try:
        return os.stat(row.path).st_size == (row.size_bytes or 0)
    except OSError:
        return False
