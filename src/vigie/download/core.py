"""``download()``: fetch a study's links (or any URL list) concurrently, resumably, verified."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vigie.catalog import Catalog
from vigie.config import Settings, load_settings
from vigie.download.failures import (
    LoggedFailure,
    merge_failures,
    read_failure_logs,
    write_failure_logs,
)
from vigie.download.jobs import (
    Job,
    JobSource,
    from_catalog,
    from_failure_log,
    read_manifest,
    read_url_list,
)
from vigie.download.model import ITEMS_KEPT_UP_TO, DownloadResult, ItemResult, Layout, Purpose
from vigie.download.parallel import ShardContext, process_count, run_in_processes
from vigie.download.runner import Runner
from vigie.download.stream import CHUNK_SIZE, Chunk, LogCoverage, chunks, lookup, retry_jobs, work
from vigie.errors import ConfigError, SourceError
from vigie.files import sweep_parts
from vigie.types import ItemStatus

log = logging.getLogger(__name__)


def download(
    *,
    study: int | None = None,
    purpose: Purpose | None = None,
    manifest: Path | str | None = None,
    urls: Path | str | None = None,
    out: Path | str | None = None,
    retry_failed: bool = False,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    allow_private_networks: bool | None = None,
    on_item: Callable[[ItemResult], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    keep_items: bool | None = None,
) -> DownloadResult:
    """Download every item of a study manifest, a URL list, or a study's links in the catalog.

    Args:
        study: the study id (names the folders and the failure log; selects catalog links).
        purpose: ``dataset`` (short videos -> frames, long ones -> videos_to_be_cut/) or
            ``media_analysis`` (files only); default ``dataset`` for a study (the seed's),
            ``media_analysis`` for a URL list without a study.
        manifest: a manifest written by ``vigie links`` (JSONL or CSV).
        urls: a file of URLs, one per line (names from the URL's last path segment).
        out: target folder (default ``settings.download.out`` in the workspace).
        retry_failed: only the items that failed: those the catalog records as failed and
            those the failure logs in ``out`` list (even with no catalog record of them), with
            the ``.jpg`` fallback for ``.mp4``.
        settings, catalog: defaults from :func:`vigie.config.load_settings`.
        allow_private_networks: allow loopback/private addresses (default from settings).
        on_item: called with each item's final state (progress bars).
        on_total: called once with the number of input items.
        keep_items: keep every item's final state in ``DownloadResult.items`` (default: only
            for runs of at most ``ITEMS_KEPT_UP_TO`` items, so that memory stays bounded;
            ``failed_items``, the counts and the catalog cover every run).

    Raises:
        ConfigError: no input given, or a bad purpose.
        SourceError: the manifest or URL list cannot be read.
    """
    if purpose is None:
        purpose = "dataset" if study is not None else "media_analysis"
    if purpose not in ("dataset", "media_analysis"):
        raise ConfigError(f"unknown purpose {purpose!r}", hint="use dataset or media_analysis")
    cfg = settings or load_settings()
    own = catalog is None
    cat = catalog or Catalog.from_settings(cfg)
    try:
        result = _download(
            cat,
            cfg,
            study,
            purpose,
            manifest,
            urls,
            out,
            retry_failed,
            cfg.allow_private_networks
            if allow_private_networks is None
            else allow_private_networks,
            on_item,
            on_total,
            keep_items,
        )
    finally:
        if own:
            cat.close()
    if result.total > ITEMS_KEPT_UP_TO:  # the run's locals (job list, rows) are freed by now
        _trim_heap()
    return result


def _jobs(
    cat: Catalog,
    study: int | None,
    manifest: Path | str | None,
    urls: Path | str | None,
    out: Path,
    retry_failed: bool,
) -> JobSource:
    if manifest is not None and urls is not None:
        raise ConfigError("give either --manifest or --urls, not both")
    if manifest is not None:
        return read_manifest(Path(manifest), study)
    if urls is not None:
        return read_url_list(Path(urls), out, study)
    if study is None:
        raise ConfigError(
            "nothing to download", hint="pass --study (links in the catalog), --manifest or --urls"
        )
    source = from_catalog(cat, study)
    if source is None:
        if retry_failed:  # the failure logs in --out are the record (see retry_jobs)
            return JobSource(lambda: iter(()), 0, label=str(study), study_id=study,
                             source_kind="study", source_name=str(study))  # fmt: skip
        raise SourceError(
            f"the catalog has no links of study {study}",
            hint="run `vigie links --study ...` first, or pass --manifest",
        )
    return source


def _download(
    cat: Catalog,
    cfg: Settings,
    study: int | None,
    purpose: Purpose,
    manifest: Path | str | None,
    urls: Path | str | None,
    out: Path | str | None,
    retry_failed: bool,
    allow_private: bool,
    on_item: Callable[[ItemResult], None] | None,
    on_total: Callable[[int], None] | None,
    keep_items: bool | None,
) -> DownloadResult:
    dcfg = cfg.download
    out_dir = Path(out) if out is not None else cfg.output_path(dcfg.out)
    source = _jobs(cat, study, manifest, urls, out_dir, retry_failed)
    if study is None:
        study = source.study_id
    previous = _read_logs(out_dir, source.label)
    logged = from_failure_log(previous, out_dir, study)  # one job per entry, in log order
    if retry_failed and not source.total and not previous:
        raise SourceError(
            f"nothing to retry: the catalog has no links of study {study} and {out_dir} has no "
            f"errors_{source.label}.log",
            hint="give --out the folder of the earlier download (its failure logs), or run "
            "`vigie links` first",
        )
    layout = Layout(out_dir.resolve(), study, purpose)
    for folder in layout.folders():
        folder.mkdir(parents=True, exist_ok=True)
    rows = lookup(cat)
    coverage = LogCoverage(logged)
    entries = source.entries
    total = source.total
    if retry_failed:  # the input read once to choose; only the chosen jobs are kept
        chosen = retry_jobs(entries(), rows, logged, cfg.links.twitter_platform_id)
        entries, total = lambda: ((j, False) for j in chosen), len(chosen)
    result = DownloadResult(
        label=source.label,
        total=total,
        keep_items=total <= ITEMS_KEPT_UP_TO if keep_items is None else keep_items,
        keep_videos=purpose == "dataset",
    )
    if on_total:
        on_total(result.total)
    result.swept_parts = sweep_parts(layout.folders())
    source_id = cat.source(source.source_kind, source.source_name)
    started = time.monotonic()
    with cat.run("download", cfg.safe_dump()) as run:
        workers = dcfg.validate_workers or min(8, os.cpu_count() or 2)

        def report(item: ItemResult) -> None:
            result.add(item)
            if on_item:
                on_item(item)

        def seen(job: Job, duplicate: bool) -> None:
            coverage.see(job)
            if duplicate:
                report(ItemResult(job.key, job.url, ItemStatus.SKIPPED, job.filename,
                                  error_class="duplicate", error="listed twice"))  # fmt: skip

        size = cfg.ray.shard_size if cfg.ray.address else CHUNK_SIZE
        stream = chunks(entries(), rows, seen, size)
        first = next(stream, None)  # nothing to fetch: no worker, no cluster
        rest: Iterator[Chunk] = itertools.chain([first], stream) if first else iter(())
        processes = process_count(dcfg.processes, total)
        shared = ShardContext(cfg, layout, source_id, run.id, allow_private)
        if cfg.ray.address and first:  # shards on a Ray cluster (vigie.cluster)
            from vigie.download.on_ray import download_on_ray

            rest = download_on_ray(rest, cat, shared, report)
        elif processes > 1 and first:  # forks before this process starts any thread
            rest = run_in_processes(processes, total, rest, cat, shared, workers, report)
        left = next(rest, None)
        if left is not None:
            with ThreadPoolExecutor(workers, thread_name_prefix="vigie-validate") as pool:
                runner = Runner(
                    cat, cfg, layout, source_id, run.id, pool, allow_private, result, on_item
                )
                asyncio.run(runner.run(work(itertools.chain([left], rest)), total))
        result.elapsed = time.monotonic() - started
        if purpose == "dataset":
            from vigie.download.dataset import prepare_videos

            result.frames, result.videos_to_cut = prepare_videos(cat, result.videos, layout, dcfg)
        run.counts.done, run.counts.skipped, run.counts.failed = (
            result.done,
            result.skipped,
            result.failed,
        )
        run.counts.extra = {"bytes": result.bytes, "frames": result.frames}
    try:
        logs = merge_failures(previous, coverage.covered, result.failed_items)
        result.error_log, result.error_jsonl = write_failure_logs(out_dir, source.label, logs)
    except OSError as exc:  # a full disk must not hide the run's result (the catalog has it)
        log.warning("cannot write the failure logs in %s: %s", out_dir, exc)
    if result.failed:
        log.warning("%d of %d items failed: %s", result.failed, result.total, dict(result.failures))
    if result.failures.get("disk_full"):
        log.warning(
            "%d items failed because the disk is full under %s: free some space, then run "
            "`vigie download ... --retry-failed` to fetch only them",
            result.failures["disk_full"],
            layout.out,
        )
    return result


def _read_logs(out: Path, label: str) -> list[LoggedFailure]:
    """The failure logs an earlier run left in ``out`` (they are rewritten after the run).

    Raises:
        SourceError: a log exists but cannot be read (it is not overwritten then).
    """
    try:
        return read_failure_logs(out, label)
    except OSError as exc:
        raise SourceError(
            f"cannot read the failure logs in {out}: {exc.strerror or exc}",
            hint="check the permissions of errors_*.log / errors_*.jsonl",
        ) from None


def _trim_heap() -> None:
    """Give the C heap's free pages back to the system after a large run (glibc): the run's
    many short-lived allocations (catalog batches, worker messages) otherwise keep the process
    at its peak size once they are freed."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)
