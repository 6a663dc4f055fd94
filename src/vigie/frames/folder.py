"""Extract frames from every video of a folder, in parallel processes.

Each video runs in a worker process, so a decoder that crashes on one file (a segfault in FFmpeg
on hostile data) takes down only that worker, and one that hangs is stopped after a timeout: the
video is retried alone once, then reported as failed, and the run goes on (reliability promise 10).
Only the main process writes the catalog.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vigie.catalog import stage_run
from vigie.config import FramesSettings, Settings, load_settings, stage_options
from vigie.errors import ConfigError, MediaError, output_dir
from vigie.frames.core import (
    Format,
    FramesResult,
    Selection,
    check_output,
    log_warnings,
    record_failure,
    record_frames,
    run_extraction,
)
from vigie.frames.select import Mode, Strategy
from vigie.frames.write import safe_stem
from vigie.media import list_media

if TYPE_CHECKING:
    from vigie.catalog import Catalog, RunHandle

log = logging.getLogger(__name__)

Outcome = tuple["FramesResult | None", "str | None"]
Job = tuple[Path, Selection, Path, str, int, int, int]
# seconds without any video finishing before the pool is stopped (the setting's default)
DEFAULT_TIMEOUT: float = FramesSettings.model_fields["video_timeout"].default

OnVideo = Callable[[Path, "FramesResult | None", "str | None"], None]


@dataclass(frozen=True)
class FolderResult:
    """Every video of a folder ends in exactly one state: a result, or a failure message."""

    results: list[FramesResult]
    failed: list[tuple[Path, str]]
    seconds: float

    @property
    def written(self) -> int:
        return sum(r.written for r in self.results)

    @property
    def frames(self) -> int:
        return sum(len(r.frames) for r in self.results)

    @property
    def frames_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


def find_videos(folder: Path) -> list[Path]:
    """Video files under ``folder`` (recursive, :data:`vigie.media.VIDEO_SUFFIXES`), sorted.

    Raises:
        SourceError: ``folder`` does not exist or holds no video.
    """
    return list_media(folder, "video", recursive=True)


def output_folder(out: Path, folder: Path, video: Path, keep_suffix: bool = False) -> Path:
    """``out/<video path relative to folder, flattened>``: unique per video, stable across runs.

    ``keep_suffix`` names it after the suffix too (``clip_ts``), for videos whose names differ
    only by their container (``clip.mp4`` and ``clip.ts``): each keeps its own frames.
    """
    try:
        rel = video.relative_to(folder)
    except ValueError:
        rel = Path(video.name)
    name = "__".join(rel.with_suffix("").parts)
    if keep_suffix and rel.suffix:
        name += "_" + rel.suffix.lstrip(".").lower()
    return out / safe_stem(name, limit=120)


def _folder_of(out: Path, folder: Path, video: Path, shared: Counter[Path]) -> Path:
    plain = output_folder(out, folder, video)
    return output_folder(out, folder, video, keep_suffix=True) if shared[plain] > 1 else plain


def _work(
    video: Path, sel: Selection, out: Path, fmt: str, quality: int, threads: int, writers: int
) -> tuple[FramesResult | None, str | None]:
    """Worker-process entry: a result, or the failure message (never raises for one video)."""
    try:
        return run_extraction(video, sel, out, fmt, quality, threads=threads, writers=writers), None
    except MediaError as exc:
        return None, exc.message
    except Exception as exc:  # a decoder error we did not foresee: this video only
        return None, f"{exc.__class__.__name__}: {exc}"


def extract_folder(
    folder: Path,
    *,
    mode: Mode,
    value: float = 1,
    start: float | None = None,
    end: float | None = None,
    strategy: Strategy = "equal",
    seed: int = 0,
    max_count: int | None = None,
    out: Path,
    fmt: Format | None = None,
    quality: int | None = None,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    workers: int | None = None,
    timeout: float | None = None,
    on_video: OnVideo | None = None,
    ray: str | None = None,
) -> FolderResult:
    """Extract frames from every video under ``folder`` into ``out/<video>/``.

    Args:
        folder: a directory searched recursively for video files.
        mode ... quality, settings: as :func:`vigie.frames.extract_frames`.
        catalog: the catalog that records the run (``frames``), the frames and their videos;
            default: the one of ``settings``.
        workers: processes (0 = CPU count, capped by the number of videos); ``None``:
            ``settings.frames.workers``.
        timeout: seconds without any video finishing after which the workers are stopped and
            the videos they held are retried alone, then reported (a hung decoder); ``None``:
            ``settings.frames.video_timeout``.
        on_video: called with ``(video, result, error)`` as each video finishes.
        ray: a Ray cluster address: one video per task there (:mod:`vigie.cluster.units`).

    Raises:
        ConfigError: invalid selection, or ``folder`` is not a directory.
    """
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder", hint="give a video file or a directory")
    cfg = settings or load_settings()
    sel = Selection(mode, value, start, end, strategy, seed, max_count)
    sel.validate()
    check_output(fmt or cfg.frames.format, cfg.frames.quality if quality is None else quality)
    opts = stage_options(
        cfg.frames, format=fmt, quality=quality, workers=workers, video_timeout=timeout
    )
    output_dir(out)
    run_options = {"folder": str(folder), "out": str(out), "selection": sel.tag}
    with stage_run("frames", cfg, catalog, run_options) as (cat, run):
        return _extract_all(folder, sel, out, opts, cat, run, on_video, ray)


def _extract_all(
    folder: Path,
    sel: Selection,
    out: Path,
    opts: FramesSettings,
    catalog: Catalog,
    run: RunHandle,
    on_video: OnVideo | None,
    ray: str | None = None,
) -> FolderResult:
    fmt, quality, timeout = opts.format, opts.quality, opts.video_timeout
    started = time.perf_counter()
    videos = find_videos(folder)
    cpus = os.cpu_count() or 1
    workers = max(1, min(opts.workers or cpus, len(videos) or 1))
    threads = max(1, cpus // workers)
    writers = max(1, min(4, cpus // workers))
    shared = Counter(output_folder(out, folder, v) for v in videos)
    jobs: dict[Path, Job] = {
        v: (v, sel, _folder_of(out, folder, v, shared), fmt, quality, threads, writers)
        for v in videos
    }
    outcomes: dict[Path, tuple[FramesResult | None, str | None]] = {}

    def finish(video: Path, outcome: tuple[FramesResult | None, str | None]) -> None:
        outcomes[video] = outcome
        result, error = outcome
        if result is not None:
            log_warnings(result)
            record_frames(catalog, result, run.id)
            run.counts.done += result.written
            run.counts.skipped += result.existing
            run.counts.failed += len(result.missing)
        else:
            log.warning("%s: skipped: %s", video.name, error)
            record_failure(catalog, video, error or "failed")
            run.counts.failed += 1
        if on_video is not None:
            on_video(video, result, error)

    if ray:
        from vigie.cluster.units import units_on_ray

        # one video per task: the same extraction as a local worker process, frames written
        # on shared storage, each finished video recorded here (see vigie.cluster.units)
        units_on_ray(
            ray,
            videos,
            lambda v: jobs[v],
            _work,
            finish,
            lambda v, why: finish(v, (None, why)),
            [folder, out],
            timeout=timeout,
        )
    else:
        run_in_processes(videos, jobs, workers, finish, timeout=timeout)
    results = [r for v in videos if (r := outcomes[v][0]) is not None]
    failed = [(v, outcomes[v][1] or "failed") for v in videos if outcomes[v][0] is None]
    return FolderResult(results, failed, time.perf_counter() - started)


def run_in_processes(
    videos: list[Path],
    jobs: dict[Path, Job],
    workers: int,
    finish: Callable[[Path, Outcome], None],
    work: Callable[..., Outcome] = _work,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Run every video on a process pool.

    A video whose worker died (decoder crash) or that made the pool stall for ``timeout`` seconds
    (decoder hang) is retried alone once, then reported as failed: one bad file neither stops the
    run nor blames the files that were decoding beside it.
    """
    lost = _run_pool(videos, jobs, workers, finish, work, timeout)
    for v in lost:
        again = _run_pool([v], jobs, 1, finish, work, timeout)
        if v in again:
            reason = again[v]
            finish(v, (None, reason))


def _run_pool(
    videos: list[Path],
    jobs: dict[Path, Job],
    workers: int,
    finish: Callable[[Path, Outcome], None],
    work: Callable[..., Outcome],
    timeout: float,
) -> dict[Path, str]:
    """Run ``videos`` on a process pool; return those lost to a crash or a stall, with why."""
    ctx = multiprocessing.get_context("spawn")
    lost: dict[Path, str] = {}
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    stalled = False
    try:
        futures: dict[Future[Outcome], Path] = {pool.submit(work, *jobs[v]): v for v in videos}
        order = {v: i for i, v in enumerate(videos)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            if not done:  # nothing finished for `timeout` seconds: a decoder hangs
                stalled = True
                _kill_workers(pool)
                for fut in pending:
                    lost[futures[fut]] = f"no result after {timeout:g} s: the decoder hung"
                break
            for fut in sorted(done, key=lambda f: order[futures[f]]):
                video = futures[fut]
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    lost[video] = "the decoder crashed on this file"
                    continue
                finish(video, outcome)
    finally:
        pool.shutdown(wait=not stalled, cancel_futures=True)
    return lost


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's worker processes (the executor has no public way to stop a running task)."""
    processes = getattr(pool, "_processes", None) or {}
    for proc in list(processes.values()):
        with contextlib.suppress(Exception):
            proc.kill()
