"""Large runs on several cores: the input's chunks handed to forked worker processes.

One event loop drives httpx at roughly 2 ms of CPU per file, so on a multi-core machine a single
process is CPU-bound long before the network is. Each worker process runs its own event loop and
validation threads on the chunks of jobs it takes from a queue (the parent keeps a few waiting,
read from the input as they are taken), with its share of the global and per-host limits,
and sends its catalog rows and item results back in small batches; only the parent writes the
catalog (one transaction per batch) and reports progress. Items of a worker that died without
reporting them are run again in the parent, so every item still ends in exactly one state.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import multiprocessing as mp
import os
import queue as queue_mod
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from vigie.catalog import Catalog
from vigie.config import Settings
from vigie.download.model import DownloadResult, ItemResult, Layout
from vigie.download.runner import Runner, Sink
from vigie.download.stream import Chunk, Work, portable

log = logging.getLogger(__name__)
MIN_JOBS_PER_PROCESS = 250


def process_count(setting: int, jobs: int) -> int:
    """Worker processes for ``jobs`` items: the setting, or (0) one per CPU up to 4 for big runs."""
    if "fork" not in mp.get_all_start_methods():
        return 1
    wanted = setting or min(4, os.cpu_count() or 1)
    return max(1, min(wanted, jobs // MIN_JOBS_PER_PROCESS if not setting else jobs))


def shard_settings(cfg: Settings, shards: int, split_concurrency: bool = False) -> Settings:
    """``cfg`` for one of ``shards`` running at once: the per-host limits (object stores' too)
    divided among them, so that a host sees the run's limit and not ``shards`` times it;
    ``split_concurrency`` divides the global ``concurrency`` too (forked workers share this
    machine), else it stays each shard's own (a Ray worker's CPU and network)."""
    d = cfg.download

    def share(n: int) -> int:
        return max(1, n // shards)

    update = {
        "per_host": share(d.per_host),
        "object_store_per_host": share(d.object_store_per_host),
        "processes": 1,
    }
    if split_concurrency:
        update["concurrency"] = max(1, -(-d.concurrency // shards))
    return cfg.model_copy(update={"download": d.model_copy(update=update)})


@dataclass(frozen=True)
class ShardContext:
    """What every worker of one run needs besides its jobs (pickled to it)."""

    cfg: Settings
    layout: Layout
    source_id: int
    run_id: int
    allow_private: bool


def _child(
    in_q: Any, out: Any, context: ShardContext, threads: int, count: int, worker: int
) -> None:
    """Worker process number ``worker``: the chunks it takes from ``in_q`` until a None."""
    parent = os.getppid()

    def orphan_watch() -> None:  # a killed parent must not leave workers behind
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=orphan_watch, daemon=True).start()

    def chunks() -> Iterator[Work]:  # taken from the parent's queue as the workers need them
        while (chunk := in_q.get()) is not None:
            number, jobs, existing = chunk
            for i, job in enumerate(jobs):
                yield (number, i), job, existing.get(job.key)

    def sink(rows: list[dict[str, Any]], items: list[ItemResult], positions: list[Any]) -> None:
        out.put(("batch", rows, items, positions))

    run_shard(chunks(), count, context, threads, sink)
    out.put(("done", [], [], []))


def run_shard(
    jobs: Iterable[Work], count: int, context: ShardContext, threads: int, sink: Sink
) -> None:
    """Download ``jobs`` (up to ``count``) on an event loop of this process, each batch of
    catalog rows and item results handed to ``sink`` (a worker process, a Ray task:
    vigie.download.on_ray)."""
    c = context
    result = DownloadResult(label="", keep_items=False, keep_failed=False)
    with ThreadPoolExecutor(threads, thread_name_prefix="vigie-validate") as pool:
        runner = Runner(
            None, c.cfg, c.layout, c.source_id, c.run_id, pool, c.allow_private, result, None, sink
        )
        asyncio.run(runner.run(jobs, count))


class _InFlight:
    """The chunks handed to the workers and not yet reported in full: each with a byte per job,
    set when a worker reports it (workers send back the chunk's number and the job's index)."""

    def __init__(self) -> None:
        self.chunks: dict[int, tuple[Chunk, bytearray, list[int]]] = {}
        self.numbered = 0

    def add(self, chunk: Chunk) -> int:
        self.numbered += 1
        self.chunks[self.numbered] = (chunk, bytearray(len(chunk.jobs)), [len(chunk.jobs)])
        return self.numbered

    def reported(self, number: int, index: int) -> None:
        _, flags, left = self.chunks[number]
        if not flags[index]:
            flags[index] = 1
            left[0] -= 1
            if not left[0]:
                del self.chunks[number]

    def missing(self) -> list[Chunk]:
        """What no worker reported, as chunks (rows kept)."""
        return [
            Chunk([j for j, done in zip(c.jobs, flags, strict=True) if not done], c.existing)
            for c, flags, _ in self.chunks.values()
        ]


def run_in_processes(
    processes: int,
    count: int,
    stream: Iterator[Chunk],
    cat: Catalog,
    run: ShardContext,
    workers: int,
    report: Callable[[ItemResult], None],
) -> Iterator[Chunk]:
    """Run the chunks of ``stream`` in ``processes`` forked workers (``run``: what they need,
    with the run's settings, divided here among them), at most ``2 * processes``
    chunks waiting for one; return what no worker reported and the chunks not handed out (all
    workers died), to be run here."""
    ctx = mp.get_context("fork")
    out = ctx.Queue(maxsize=256)
    in_q = ctx.Queue()  # bounded by the parent: at most ``waiting`` chunks not taken
    context = dataclasses.replace(
        run, cfg=shard_settings(run.cfg, processes, split_concurrency=True)
    )
    threads = max(1, workers // processes)
    share = -(-count // processes)
    procs = [
        ctx.Process(target=_child, args=(in_q, out, context, threads, share, i), daemon=True)
        for i in range(processes)
    ]
    flight = _InFlight()
    waiting = 2 * processes
    exhausted = False
    finished = 0
    try:
        for p in procs:
            p.start()
        while finished < processes:
            while not exhausted and _queued(in_q, flight, processes) < waiting:
                chunk = next(stream, None)
                if chunk is None:
                    exhausted = True
                    for _ in procs:
                        in_q.put(None)
                    break
                number = flight.add(chunk)
                mine = {k: portable(r) for k, r in chunk.existing.items()}
                in_q.put((number, chunk.jobs, mine))
            try:
                kind, rows, items, positions = out.get(timeout=0.05 if not exhausted else 1.0)
            except queue_mod.Empty:
                if all(p.exitcode is not None for p in procs) and out.empty():
                    break  # every worker died without saying done
                continue
            if kind == "done":
                finished += 1
                continue
            cat.upsert_items(rows)
            for item, (number, index) in zip(items, positions, strict=True):
                flight.reported(number, index)
                report(item)
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
    missing = flight.missing()
    lost = sum(len(c.jobs) for c in missing)
    if lost:
        log.warning("%d items were not reported by a worker process; running them here", lost)
    return itertools.chain(missing, stream)


def _queued(in_q: Any, flight: _InFlight, processes: int) -> int:
    """Chunks waiting in the queue, not taken by a worker yet."""
    try:
        return int(in_q.qsize())
    except NotImplementedError:  # macOS: a worker holds at most two chunks at a time
        return max(0, len(flight.chunks) - 2 * processes)
