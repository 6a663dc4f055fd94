"""``download --ray``: manifest shards as Ray tasks, each running today's async downloader.

The driver reads the input in shards of ``ray.shard_size`` URLs as it submits them (at most two
shards per cluster CPU in flight, so only those shards are read and serialised at a time), and each
task runs :class:`vigie.download.runner.Runner` on its shard, writing the files itself (shared
storage) and returning its catalog rows and item results. Only the driver writes the catalog,
one transaction per finished shard.

Per-host limits hold cluster-wide: every shard in flight gets ``1/in_flight`` of each per-host
limit, so N workers do not hit one host N times harder (the global ``concurrency`` is per worker).

Faults: a task on a node that dies is run again elsewhere (``max_retries``); files it had
already renamed are adopted by the retry (validated, not fetched again: never written twice),
and its rows reach the catalog once, from the attempt that finished. A shard that fails on
every try is handed back to the core, which runs it on this machine.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from typing import Any

from vigie.catalog import Catalog
from vigie.download.jobs import Job
from vigie.download.model import ItemResult
from vigie.download.parallel import ShardContext, run_shard, shard_settings
from vigie.download.stream import Chunk, portable

log = logging.getLogger(__name__)
TASK_RETRIES = 4  # tries of one shard after its worker or node died
ShardOutput = tuple[list[dict[str, Any]], list[ItemResult]]


def download_shard(
    jobs: list[Job], existing: dict[str, Any], context: ShardContext, threads: int
) -> ShardOutput:
    """On a worker: download one shard; return its catalog rows and item results."""
    rows: list[dict[str, Any]] = []
    items: list[ItemResult] = []

    def sink(batch: list[dict[str, Any]], done: list[ItemResult], _positions: list[int]) -> None:
        rows.extend(batch)
        items.extend(done)

    work = ((i, j, existing.get(j.key)) for i, j in enumerate(jobs))
    run_shard(work, len(jobs), context, threads, sink)
    return rows, items


def download_on_ray(
    shards: Iterator[Chunk],
    cat: Catalog,
    run: ShardContext,
    report: Callable[[ItemResult], None],
) -> Iterator[Chunk]:
    """Run the ``shards`` on the Ray cluster of ``run.cfg.ray.address`` (``run``: what the
    workers need, with the run's settings, divided here among the shards in flight); return
    the shards to run here (those that failed on every try)."""
    from vigie.cluster.connect import connect
    from vigie.cluster.paths import check_visible

    cfg = run.cfg
    assert cfg.ray.address is not None
    info = connect(cfg.ray.address)
    check_visible([run.layout.out])
    import ray

    in_flight = cfg.ray.workers or max(1, int(info.cpus))
    task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES, retry_exceptions=False)(download_shard)
    context = ray.put(dataclasses.replace(run, cfg=shard_settings(cfg, in_flight)))
    pending: dict[Any, Chunk] = {}
    lost: list[Chunk] = []

    def submit() -> bool:
        shard = next(shards, None)
        if shard is None:
            return False
        mine = {k: portable(r) for k, r in shard.existing.items()}
        ref = task.remote(shard.jobs, mine, context, 2)
        pending[ref] = shard
        return True

    while len(pending) < 2 * in_flight and submit():
        pass
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        shard = pending.pop(ready[0])
        try:
            rows, items = ray.get(ready[0])
        except Exception as exc:  # every try failed (ray.exceptions.RayError and kin)
            log.warning("a download shard of %d URLs failed on Ray (%s)", len(shard.jobs), exc)
            lost.append(shard)
        else:
            if rows:
                cat.upsert_items(rows)
            for item in items:
                report(item)
        submit()
    if lost:
        n = sum(len(c.jobs) for c in lost)
        log.warning("%d items were not reported by a Ray worker; running them here", n)
    return iter(lost)
