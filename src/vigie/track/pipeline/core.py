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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from vigie.catalog import stage_run
from vigie.config import Settings, load_settings, stage_options
from vigie.errors import ConfigError, MediaError, output_dir
from vigie.files import sweep_parts
from vigie.media import FrameIndex, FrameReader, VideoInfo, list_media, scan
from vigie.track.pipeline.options import (
    Line,
    TrackOptions,
    TrackRun,
    VideoResult,
    selector,
    track_options,
    tracker_kwargs,
)
from vigie.track.pipeline.outputs import write_outputs
from vigie.track.pipeline.persist import record, saved_tracks, skip, write_db
from vigie.track.pipeline.records import record_dict, video_result
from vigie.track.pipeline.render import FrameStore
from vigie.track.pipeline.stitch import Piece
from vigie.track.trackers import make_tracker
from vigie.types import Detector

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vigie.catalog import Catalog, RunHandle
    from vigie.config import RaySettings

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]


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
    out: str | Path | None = None,
    tracker: str | None = None,
    conf: float | None = None,
    min_frames: int | None = None,
    stride: int | None = None,
    batch: int | None = None,
    video: bool | None = None,
    start: float | None = None,
    end: float | None = None,
    line: Line | None = None,
    tracker_params: Mapping[str, Any] | None = None,
    backend: Literal["torch", "onnx"] | None = None,
    imgsz: int | None = None,
    device: str | None = None,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    db_url: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    ray: str | RaySettings | None = None,
) -> TrackRun:
    """Detect and track objects in videos; write per-video outputs into ``out``.

    Args:
        sources: video files and/or folders (searched recursively for the video suffixes of
            :data:`vigie.media.VIDEO_SUFFIXES`: .mp4 .mov .m4v .mkv .webm .avi .ts ...).
        model: detector weights (.pt or .onnx) for :func:`vigie.detect.load_detector`.
        detector: an already loaded detector (anything with ``names`` and ``predict``); used
            instead of ``model``.
        out: output folder: ``<video>.tracks.json``, ``.tracks.csv``, ``.mot.txt``, ``.mp4``
            (a relative one lies in the workspace).
        tracker, conf, min_frames, stride, batch, video: the tracking options; ``None``: the
            setting (``settings.track``).
        start, end: the time range analysed (seconds; default: the whole video).
        line: a counting line x1, y1, x2, y2 (pixels): crossings per class.
        tracker_params: the tracker's own parameters (SORT's default to ``settings.track``).
        backend, imgsz: detector backend ("onnx" or "torch") and input size; ``None``:
            ``settings.detect``.
        device: where the detector runs (see :func:`vigie.detect.load_detector`).
        settings: the settings (default :func:`vigie.config.load_settings`).
        catalog: records the run (``track``), the videos and their tracks; default: the one of
            ``settings``.
        db_url: study database to write one ``yolo_video_detection`` row per track.
        force: analyse videos again even if the catalog says they are done.
        progress: called with (video name, frames analysed, frames expected or None).
        ray: a Ray cluster address (or the ``ray`` settings): one video per task there
            (:mod:`vigie.track.pipeline.on_ray`; a video longer than ``track.segment_seconds``:
            one time segment per task); the detector must then be given by ``model``.

    Returns:
        a :class:`TrackRun` with one :class:`VideoResult` per video.

    Raises:
        ConfigError: bad options; SourceError: missing sources;
        ModelError / DependencyError: the detector cannot be loaded;
        DatabaseError: the study database cannot be reached.
    """
    cfg = settings or load_settings()
    section = stage_options(
        cfg.track, "track", tracker=tracker, conf=conf, min_frames=min_frames, stride=stride,
        batch=batch, video=video, out=out,
    )  # fmt: skip
    opts = track_options(section, start=start, end=end, line=line, tracker_params=tracker_params)
    make_tracker(opts.tracker, **tracker_kwargs(opts, None))  # fail fast on a bad tracker
    if detector is None and model is None:
        raise ConfigError("no model given", hint="pass --model weights.pt (or .onnx)")
    srcs = [sources] if isinstance(sources, str | Path) else list(sources)
    videos = find_videos(srcs)
    model_name = _model_name(model, detector)
    run_options = {"model": model_name, "out": str(section.out), **opts.__dict__}
    with stage_run("track", cfg, catalog, run_options) as (cat, run):
        if detector is None:
            from vigie.detect import load_detector

            assert model is not None
            det = stage_options(cfg.detect, "detect", backend=backend, imgsz=imgsz)
            detector = load_detector(
                model, backend=det.backend, conf=opts.conf, iou=det.iou, imgsz=det.imgsz,
                device=device, catalog=cat,  # a registered model name resolves as in `vigie detect`
            )  # fmt: skip
            model_name = _model_name(model, detector)
        out_dir = output_dir(cfg.output_path(section.out))
        sweep_parts(out_dir)
        results = _track_videos(
            videos, detector, model_name, opts, out_dir, cat, run, db_url, force, progress,
            model, ray, (cfg.track.segment_seconds, cfg.track.segment_overlap),
        )  # fmt: skip
    return TrackRun(results, run.counts, run.id)


def _track_videos(
    videos: list[Path],
    detector: Detector,
    model_name: str,
    opts: TrackOptions,
    out_dir: Path,
    catalog: Catalog,
    run: RunHandle,
    db_url: str | None,
    force: bool,
    progress: Progress | None,
    model: str | Path | None = None,
    ray: str | RaySettings | None = None,
    segments: tuple[float, float] | None = None,
) -> list[VideoResult]:
    """Each video in turn, its outputs written while the next one is analysed."""
    engine = None
    if db_url:
        from vigie.studydb import connect, create_schema

        engine = connect(db_url)
        if engine.dialect.name == "sqlite":
            create_schema(engine)
    counts = run.counts
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

    ctx = _Context(detector, model_name, opts, out_dir, catalog, run.id, engine, progress)
    try:
        if ray:  # one video per Ray task; the loop below then has nothing left to do
            from vigie.track.pipeline.on_ray import Steps, track_on_ray

            steps = Steps(_Context, _Pending, _analyse, _finish)
            track_on_ray(ray, videos, ctx, force, model, collect, steps, segments)
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
    finally:
        if engine is not None:
            engine.dispose()
    return results


def _model_name(model: str | Path | None, detector: Detector | None) -> str:
    """The model's name in catalog rows: a registered name, else the weights' file name."""
    label = getattr(detector, "label", None)
    if isinstance(label, str) and label:
        return label
    return Path(str(model)).name if model is not None else type(detector).__name__


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
    skipped = skip(ctx.catalog, path, ctx.model_name, ctx.opts, force, ctx.out_dir)
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
    path: Path,
    stem: str,
    info: VideoInfo,
    frame_index: FrameIndex,
    ctx: _Context,
    pieces: list[Piece] | None = None,
) -> tuple[VideoResult, Callable[[], dict[str, Path]] | None]:
    detector, opts, progress = ctx.detector, ctx.opts, ctx.progress
    tracker = make_tracker(opts.tracker, **tracker_kwargs(opts, info))
    # one decoding pass: with the annotated video, every frame of the range is delivered and
    # kept for drawing (the detector sees every stride-th); without it, only the analysed ones
    store = FrameStore() if opts.video else None
    every = 1 if store is not None else opts.stride
    select = selector(opts, every)
    reader = FrameReader(
        path, select, maxsize=2 * opts.batch, seek=opts.start, index=frame_index,
        yuv=store is not None,  # the annotated video is drawn on and encoded from yuv420p
    )  # fmt: skip
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
    if pieces is not None:  # a segment on Ray: all its tracks go back to be stitched
        pieces.append(Piece(index, times, per_frame))
    names = dict(detector.names)
    res = VideoResult(path, "done", frames_decoded=reader.decoded, fps=info.fps, warning=warning)
    per_frame = video_result(res, per_frame, index, times, names, info.display_size, opts)

    def write() -> dict[str, Path]:
        return write_outputs(
            res, stem, ctx.out_dir, per_frame, index, info, frame_index, names, opts, store
        )

    return res, write
