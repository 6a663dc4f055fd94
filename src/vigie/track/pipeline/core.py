"""The track stage: detect and track objects in videos, and write per-track records.

For each video: decode (thread) -> detect in batches -> track -> (offline refinement) -> per-track
records -> JSON, CSV, MOT text, counts, optional line crossings -> annotated H.264 MP4 (drawn on
the frames the analysis decoded, encoding thread) -> catalog rows, and study DB rows with
``db_url``.
A video that cannot be opened is a failed item; one that breaks mid-way gives the results of the
frames that decoded, status ``partial`` and a warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vigie.errors import ConfigError, MediaError, output_dir
from vigie.files import sweep_parts
from vigie.media import FrameIndex, FrameReader, VideoInfo, list_media, scan
from vigie.track.pipeline.options import TrackOptions, TrackRun, VideoResult, selector
from vigie.track.pipeline.outputs import write_outputs
from vigie.track.pipeline.persist import record, saved_tracks, skip, write_db
from vigie.track.pipeline.records import (
    counts_per_class,
    keep_tracks,
    line_crossings,
    record_dict,
    summarise,
)
from vigie.track.pipeline.render import FrameStore
from vigie.track.trackers import make_tracker
from vigie.types import Detector, RunCounts

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vigie.catalog import Catalog
    from vigie.config import RaySettings

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]
_VIGIE_REF_CONF = 0.35  # the --conf Vigie's tracker thresholds are tuned for


def find_videos(sources: Sequence[str | Path]) -> list[Path]:
    """Video files named directly or found (recursively) in the folders given.

    The listing rule of :func:`vigie.media.list_media`: the registry's video suffixes, hidden
    names skipped, each file once.

    Raises:
        SourceError: a source that does not exist, or no video at all.
    """
    return list_media(sources, "video", recursive=True)


def track(
    sources: Sequence[str | Path] | str | Path,
    *,
    model: str | Path | None = None,
    detector: Detector | None = None,
    out: str | Path = "tracks",
    options: TrackOptions | None = None,
    backend: str = "onnx",
    imgsz: int = 640,
    device: str | None = None,
    catalog: Catalog | None = None,
    db_url: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    ray: str | RaySettings | None = None,
    **option_overrides: Any,
) -> TrackRun:
    """Detect and track objects in videos; write per-video outputs into ``out``.

    Args:
        sources: video files and/or folders (searched recursively for the video suffixes of
            :data:`vigie.media.VIDEO_SUFFIXES`: .mp4 .mov .m4v .mkv .webm .avi .ts ...).
        model: detector weights (.pt or .onnx) for :func:`vigie.detect.load_detector`.
        detector: an already loaded detector (anything with ``names`` and ``predict``); used
            instead of ``model``.
        out: output folder: ``<video>.tracks.json``, ``.tracks.csv``, ``.mot.txt``, ``.mp4``.
        options: tracker, conf, min_frames, stride, start, end, line, batch, video (or give
            them as keyword arguments).
        backend, imgsz: detector backend ("onnx" or "torch") and input size.
        device: where the detector runs (see :func:`vigie.detect.load_detector`).
        catalog: where to record the run, the videos and their tracks (optional).
        db_url: study database to write one ``yolo_video_detection`` row per track.
        force: analyse videos again even if the catalog says they are done.
        progress: called with (video name, frames analysed, frames expected or None).
        ray: a Ray cluster address (or the ``ray`` settings): one video per task there
            (:mod:`vigie.track.pipeline.on_ray`); the detector must then be given by ``model``.

    Returns:
        a :class:`TrackRun` with one :class:`VideoResult` per video.

    Raises:
        ConfigError: bad options; SourceError: missing sources;
        ModelError / DependencyError: the detector cannot be loaded;
        DatabaseError: the study database cannot be reached.
    """
    opts = options or TrackOptions()
    if option_overrides:
        unknown = sorted(set(option_overrides) - set(opts.__dict__))
        if unknown:
            raise ConfigError(
                f"unknown option(s) for track(): {', '.join(unknown)}",
                hint=f"use {', '.join(opts.__dict__)}",
            )
        opts = TrackOptions(**{**opts.__dict__, **option_overrides})
    _check(opts)
    srcs = [sources] if isinstance(sources, str | Path) else list(sources)
    videos = find_videos(srcs)
    if detector is None:
        if model is None:
            raise ConfigError("no model given", hint="pass --model weights.pt (or .onnx)")
        from vigie.detect import load_detector

        detector = load_detector(
            model,
            backend=backend,  # type: ignore[arg-type]
            conf=opts.conf,
            imgsz=imgsz,
            device=device,
            catalog=catalog,  # a registered model name resolves as in `vigie detect`
        )
    model_name = _model_name(model, detector)
    out_dir = output_dir(out)
    sweep_parts(out_dir)
    make_tracker(opts.tracker, **_tracker_params(opts, None))  # fail fast on a bad tracker
    engine = None
    if db_url:
        from vigie.studydb import connect, create_schema

        engine = connect(db_url)
        if engine.dialect.name == "sqlite":
            create_schema(engine)
    run_id = catalog.start_run("track", {"model": model_name, **opts.__dict__}) if catalog else None
    counts = RunCounts()
    results: list[VideoResult] = []
    stems: dict[str, int] = {}

    def collect(res: VideoResult) -> None:
        results.append(res)
        if res.status == "failed":
            counts.failed += 1
        elif res.status == "skipped":
            counts.skipped += 1
        else:
            counts.done += 1
        counts.extra["tracks"] = counts.extra.get("tracks", 0) + len(res.tracks)
        counts.extra["partial"] = counts.extra.get("partial", 0) + (res.status == "partial")

    ctx = _Context(detector, model_name, opts, out_dir, catalog, run_id, engine, progress)
    try:
        if ray:  # one video per Ray task; the loop below then has nothing left to do
            from vigie.track.pipeline.on_ray import Steps, track_on_ray

            steps = Steps(_Context, _Pending, _analyse, _finish)
            track_on_ray(ray, videos, ctx, force, model, collect, steps)
            videos = []
        # The outputs of a video (drawing and encoding the annotated MP4, files, catalog and DB
        # rows) are made in a background thread while the next video is being analysed.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vigie-outputs") as pool:
            future: Future[VideoResult] | None = None
            for path in videos:
                n = stems.get(path.stem, 0)
                stems[path.stem] = n + 1
                stem = path.stem if n == 0 else f"{path.stem}-{n + 1}"
                pending = _start(path, stem, ctx, force)
                if future is not None:
                    collect(future.result())
                future = pool.submit(_finish, pending, ctx)
            if future is not None:
                collect(future.result())
    except BaseException as exc:
        if catalog is not None and run_id is not None:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            catalog.finish_run(run_id, status, counts, error=str(exc)[:2000])
        raise
    finally:
        if engine is not None:
            engine.dispose()
    if catalog is not None and run_id is not None:
        catalog.finish_run(run_id, "done", counts)
    return TrackRun(results, counts, run_id)


def _model_name(model: str | Path | None, detector: Detector) -> str:
    """The model's name in catalog rows: a registered name, else the weights' file name."""
    label = getattr(detector, "label", None)
    if isinstance(label, str) and label:
        return label
    return Path(str(model)).name if model is not None else type(detector).__name__


def _check(opts: TrackOptions) -> None:
    if opts.stride < 1:
        raise ConfigError("--stride must be 1 or more")
    if opts.min_frames < 1:
        raise ConfigError("--min-frames must be 1 or more")
    if not 0.0 <= opts.conf <= 1.0:
        raise ConfigError("--conf must be between 0 and 1")
    if opts.start is not None and opts.end is not None and opts.end <= opts.start:
        raise ConfigError("--end must be after --start")
    if opts.batch < 1:
        raise ConfigError("--batch must be 1 or more")


def _tracker_params(opts: TrackOptions, info: VideoInfo | None) -> dict[str, Any]:
    params = dict(opts.tracker_params)
    if opts.tracker == "vigie":
        if info is not None:
            params.setdefault("image_size", info.display_size)
        if opts.conf < _VIGIE_REF_CONF:
            # Vigie's confidence thresholds are tuned for detections kept at >= 0.35; a lower
            # --conf (a weak or young model) scales them down in proportion.
            import inspect

            from vigie.track.trackers.vigie_tracker import VigieTracker

            defaults = inspect.signature(VigieTracker).parameters
            scale = opts.conf / _VIGIE_REF_CONF
            for key in ("high_thresh", "low_thresh", "new_thresh", "min_mean_conf"):
                params.setdefault(key, float(defaults[key].default) * scale)
    return params


@dataclass
class _Context:
    detector: Detector
    model_name: str
    opts: TrackOptions
    out_dir: Path
    catalog: Catalog | None
    run_id: int | None
    engine: Engine | None
    progress: Progress | None
    written: dict[tuple[int, str, str], Path] = field(default_factory=dict)  # study DB media


@dataclass
class _Pending:
    """A video analysed, its outputs still to write (``write`` is None when there are none)."""

    path: Path
    res: VideoResult
    info: VideoInfo | None
    write: Callable[[], dict[str, Path]] | None
    started: float
    record: bool = True


def _start(path: Path, stem: str, ctx: _Context, force: bool) -> _Pending:
    """Decode, detect and track one video (or find it done already)."""
    t0 = time.perf_counter()
    skipped = skip(ctx.catalog, path, ctx.model_name, ctx.opts, force)
    if skipped is not None:
        log.info("%s: already tracked with these settings, skipped", path.name)
        return _Pending(path, skipped, None, None, t0, record=False)
    try:
        info, index = scan(path)
    except MediaError as exc:
        log.warning("%s: %s", path.name, exc.message)
        return _Pending(path, VideoResult(path, "failed", error=exc.message), None, None, t0)
    res, write = _analyse(path, stem, info, index, ctx)
    return _Pending(path, res, info, write, t0)


def _finish(p: _Pending, ctx: _Context) -> VideoResult:
    """Write a video's outputs, then record it in the catalog and the study database."""
    res = p.res
    if not p.record:
        if ctx.engine is not None and res.status == "skipped":  # done before: rows rewritten
            write_db(ctx.engine, p.path, saved_tracks(res), ctx.catalog, ctx.written)
        return res
    if p.write is not None:
        try:
            res.outputs = p.write()
        except MediaError as exc:  # e.g. the disk filled up while encoding
            log.warning("%s: %s", p.path.name, exc.message)
            res.status, res.error = "failed", exc.message
    res.seconds = time.perf_counter() - p.started
    record(ctx.catalog, p.path, p.info, res, ctx.model_name, ctx.opts, ctx.run_id)
    if ctx.engine is not None and res.status in ("done", "partial"):
        tracks = [record_dict(r) for r in res.tracks]
        write_db(ctx.engine, p.path, tracks, ctx.catalog, ctx.written)
    if res.status != "failed":
        log.info(
            "%s: %d frames in %.1f s (%.1f ms per frame), %d tracks",
            p.path.name,
            res.frames_analysed,
            res.seconds,
            1000 * res.seconds / max(1, res.frames_analysed),
            len(res.tracks),
        )
    return res


def _analyse(
    path: Path, stem: str, info: VideoInfo, frame_index: FrameIndex, ctx: _Context
) -> tuple[VideoResult, Callable[[], dict[str, Path]] | None]:
    detector, opts, progress = ctx.detector, ctx.opts, ctx.progress
    tracker = make_tracker(opts.tracker, **_tracker_params(opts, info))
    # one decoding pass: with the annotated video, every frame of the range is delivered and
    # kept for drawing (the detector sees every stride-th); without it, only the analysed ones
    store = FrameStore() if opts.video else None
    every = 1 if store is not None else opts.stride
    select = selector(opts, every)
    reader = FrameReader(path, select, maxsize=2 * opts.batch, seek=opts.start, index=frame_index)
    index: list[int] = []
    times: list[float] = []
    total = info.expected_frames
    expected = -(-total // opts.stride) if total else None
    batch: list[Any] = []

    def flush() -> None:
        dets = detector.predict([f.image for f in batch])
        for f, d in zip(batch, dets, strict=True):
            arr = np.hstack(
                [
                    np.asarray(d.xyxy, dtype=np.float64).reshape(-1, 4),
                    np.asarray(d.confidence, dtype=np.float64).reshape(-1, 1),
                    np.asarray(d.class_id, dtype=np.float64).reshape(-1, 1),
                ]
            )
            tracker.update(arr[arr[:, 4] >= opts.conf])
            index.append(f.index)
            times.append(f.time)
        batch.clear()
        if progress is not None:
            progress(path.name, len(index), expected)

    for n, frame in enumerate(reader):
        if store is not None:
            store.add(frame)
            if n % opts.stride:
                continue
        batch.append(frame)
        if len(batch) >= opts.batch:
            flush()
    if batch:
        flush()
    warning = None
    if reader.error:
        warning = f"decoding stopped after {reader.decoded} frames ({reader.error})"
    elif total and opts.end is None and reader.decoded < 0.98 * total:
        warning = f"the video ends after {reader.decoded} of {total} frames (truncated?)"
    if warning:
        log.warning("%s: %s; results cover the frames decoded", path.name, warning)
    if not index:
        msg = warning or "no frame decoded in the requested range"
        if reader.error is None and reader.decoded > 0:  # the range was empty: not a failure
            return VideoResult(path, "done", fps=info.fps, warning=msg), None
        log.warning("%s: %s", path.name, msg)
        return VideoResult(path, "failed", error=msg, frames_decoded=reader.decoded), None
    per_frame = tracker.finish()
    names = dict(detector.names)
    size = info.display_size
    records = summarise(per_frame, index, times, names, size, opts.min_frames, opts.conf)
    per_frame = keep_tracks(per_frame, records)
    res = VideoResult(
        path,
        "partial" if warning else "done",
        tracks=records,
        counts=counts_per_class(records),
        crossings=line_crossings(per_frame, opts.line, names) if opts.line else {},
        frames_decoded=reader.decoded,
        frames_analysed=len(index),
        fps=info.fps,
        warning=warning,
    )

    def write() -> dict[str, Path]:
        return write_outputs(
            res, stem, ctx.out_dir, per_frame, index, info, frame_index, names, opts, store
        )

    return res, write
