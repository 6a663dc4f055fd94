"""Large runs on several cores: the job list split across forked worker processes.

One event loop drives httpx at roughly 2 ms of CPU per file, so on a multi-core machine a single
process is CPU-bound long before the network is. Each worker process runs its own event loop and
validation threads on one shard of the jobs, with its share of the global and per-host limits,
and sends its catalog rows and item results back in small batches; only the parent writes the
catalog (one transaction per batch) and reports progress. Items of a worker that died without
reporting them are run again in the parent, so every item still ends in exactly one state.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import os
import queue as queue_mod
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from vigie.catalog import Catalog
from vigie.config import Settings
from vigie.download.jobs import Job
from vigie.download.model import DownloadResult, ItemResult, Layout
from vigie.download.runner import Runner, Sink

log = logging.getLogger(__name__)
MIN_JOBS_PER_PROCESS = 250


def process_count(setting: int, jobs: int) -> int:
    """Worker processes for ``jobs`` items: the setting, or (0) one per CPU up to 4 for big runs."""
    if "fork" not in mp.get_all_start_methods():
        return 1
    wanted = setting or min(4, os.cpu_count() or 1)
    return max(1, min(wanted, jobs // MIN_JOBS_PER_PROCESS if not setting else jobs))


def _shard_settings(cfg: Settings, processes: int) -> Settings:
    d = cfg.download
    return cfg.model_copy(
        update={
            "download": d.model_copy(
                update={
                    "concurrency": max(1, -(-d.concurrency // processes)),
                    "per_host": max(1, -(-d.per_host // processes)),
                }
            )
        }
    )


@dataclass(frozen=True)
class ShardContext:
    """What every worker of one run needs besides its jobs (pickled to it)."""

    cfg: Settings
    layout: Layout
    source_id: int
    run_id: int
    allow_private: bool


def _child(
    jobs: list[Job],
    existing: dict[str, Any],
    context: ShardContext,
    workers: int,
    out: Any,
    shard: int,
    processes: int,
) -> None:
    parent = os.getppid()

    def orphan_watch() -> None:  # a killed parent must not leave workers behind
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=orphan_watch, daemon=True).start()
    jobs = jobs[shard::processes]  # sliced after the fork: the parent holds one list

    def sink(rows: list[dict[str, Any]], items: list[ItemResult], positions: list[int]) -> None:
        # positions in this shard -> indices in the parent's job list
        out.put(("batch", rows, items, [shard + p * processes for p in positions]))

    run_shard(jobs, existing, context, workers, sink)
    out.put(("done", [], [], []))


def run_shard(
    jobs: list[Job], existing: dict[str, Any], context: ShardContext, threads: int, sink: Sink
) -> None:
    """Download ``jobs`` on an event loop of this process, each batch of catalog rows and item
    results handed to ``sink`` (a worker process, a Ray task: vigie.download.on_ray)."""
    c = context
    result = DownloadResult(label="", keep_items=False, keep_failed=False)
    with ThreadPoolExecutor(threads, thread_name_prefix="vigie-validate") as pool:
        runner = Runner(
            None, c.cfg, c.layout, c.source_id, c.run_id, pool, c.allow_private, result, None, sink
        )
        asyncio.run(runner.run(jobs, existing))


def run_in_processes(
    processes: int,
    jobs: list[Job],
    existing: dict[str, Any],
    cat: Catalog,
    cfg: Settings,
    layout: Layout,
    source_id: int,
    run_id: int,
    allow_private: bool,
    workers: int,
    report: Callable[[ItemResult], None],
) -> list[Job]:
    """Run ``jobs`` in ``processes`` forked workers; return the jobs no worker reported."""
    ctx = mp.get_context("fork")
    out = ctx.Queue(maxsize=256)
    context = ShardContext(_shard_settings(cfg, processes), layout, source_id, run_id,
                           allow_private)  # fmt: skip
    threads = max(1, workers // processes)
    procs = [
        ctx.Process(
            target=_child,
            args=(jobs, existing, context, threads, out, i, processes),
            daemon=True,
        )
        for i in range(processes)
    ]
    # one byte per job, set when a worker reports it (workers send each item's index in
    # ``jobs``, so the parent keeps no set of keys copied from them). Tried and not kept:
    # releasing each job as it is reported (fragments the heap: +58 MB after 100,000 URLs) and
    # keeping the jobs pickled and compressed meanwhile (peak +82 MB, growth no lower).
    reported = bytearray(len(jobs))
    finished = 0
    try:
        for p in procs:
            p.start()
        while finished < processes:
            try:
                kind, rows, items, positions = out.get(timeout=1.0)
            except queue_mod.Empty:
                if all(p.exitcode is not None for p in procs) and out.empty():
                    break  # a worker died without saying done
                continue
            if kind == "done":
                finished += 1
                continue
            cat.upsert_items(rows)
            for item, index in zip(items, positions, strict=True):
                reported[index] = 1
                report(item)
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
    missing = [j for j, done in zip(jobs, reported, strict=True) if not done]
    if missing:
        log.warning(
            "%d items were not reported by a worker process; running them here", len(missing)
        )
    return missing
