"""``track --ray``: one video per Ray task (a long one cut in time segments); recorded here.

A task decodes, detects and tracks its video and writes its files (JSON, CSV, MOT text, the
annotated MP4) on shared storage, then returns the :class:`VideoResult` (tracks and counts:
small). The driver checks what is done already (catalog) before sending a video, and records
each finished video in the catalog and the study database, as on one machine. Each worker
process loads the detector once and keeps it for the next videos it gets.

A video longer than ``track.segment_seconds`` is cut into segments sharing
``track.segment_overlap`` seconds (:func:`vigie.track.pipeline.stitch.cut`), one task each; a
segment task decodes from its start (a seek to the keyframe before it) and returns every track
of its frames (:class:`~vigie.track.pipeline.stitch.Piece`). When all the segments of a video
are back, the driver stitches their tracks (:func:`~vigie.track.pipeline.stitch.stitch`), then
makes and writes the video's records and files itself, as for an uncut video. Its annotated MP4
is drawn by the workers in parts, one per segment, which the driver joins without decoding
(:mod:`vigie.track.pipeline.parts`); a part that fails is drawn on the driver instead. A segment
that fails fails its video.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from vigie.cluster.units import detector_spec, ray_settings, units_on_ray
from vigie.config import RaySettings
from vigie.errors import ConfigError, MediaError
from vigie.track.pipeline.options import VideoResult
from vigie.track.pipeline.outputs import write_outputs
from vigie.track.pipeline.parts import (
    Part,
    PartJob,
    draw_part,
    join_parts,
    part_job,
    plan_parts,
    remove_parts,
)
from vigie.track.pipeline.persist import skip
from vigie.track.pipeline.records import video_result
from vigie.track.pipeline.render import FrameStore
from vigie.track.pipeline.stitch import Piece, cut, stitch

log = logging.getLogger(__name__)

SEGMENT_SECONDS, SEGMENT_OVERLAP = 600.0, 2.0  # the defaults of the track settings
DRAW_IN_PARTS = True  # False: the driver draws a cut video's annotated MP4 (the benchmark's before)


class Steps(NamedTuple):
    """The per-video steps of :mod:`vigie.track.pipeline.core` (given by it: no import cycle)."""

    context: Any  # _Context
    pending: Any  # _Pending
    analyse: Callable[..., Any]
    finish: Callable[..., Any]


_DETECTORS: dict[tuple[Any, ...], Any] = {}  # per worker process: spec -> loaded detector


def _detector(spec: dict[str, Any]) -> Any:
    key = tuple(sorted((k, str(v)) for k, v in spec.items()))
    if key not in _DETECTORS:
        from vigie.detect import load_detector

        args = dict(spec)
        _DETECTORS[key] = load_detector(args.pop("model"), **args)
    return _DETECTORS[key]


def track_video(
    path: Path,
    stem: str,
    spec: dict[str, Any],
    model_name: str,
    opts: Any,
    out_dir: Path,
    steps: Steps,
) -> tuple[Any, Any]:
    """On a worker: analyse one video and write its outputs; ``(VideoResult, VideoInfo)``."""
    from vigie.errors import MediaError
    from vigie.media import scan

    ctx = steps.context(_detector(spec), model_name, opts, out_dir, None, None, None, None)
    try:
        info, index = scan(path)
    except MediaError as exc:
        return VideoResult(path, "failed", error=exc.message), None
    res, write = steps.analyse(path, stem, info, index, ctx)
    if write is not None:
        try:
            res.outputs = write()
        except MediaError as exc:  # e.g. the disk filled up while encoding
            res.status, res.error = "failed", exc.message
    return res, info


class _Unit(NamedTuple):
    """A video, or segment ``part`` of it (then ``opts`` gives the segment's time range)."""

    path: Path
    stem: str
    part: int | None = None
    opts: Any = None


@dataclass
class _Cut:
    """A segmented video whose segments are coming back."""

    stem: str
    info: Any  # VideoInfo
    index: Any  # FrameIndex
    ranges: list[tuple[int, int]]  # the segments' frames (first, last)
    pieces: list[Piece | None]
    results: list[VideoResult | None]


def track_segment(
    path: Path, spec: dict[str, Any], model_name: str, opts: Any, steps: Steps
) -> tuple[Piece | None, VideoResult]:
    """On a worker: track the frames of ``opts.start``..``opts.end``; every track comes back."""
    from vigie.errors import MediaError
    from vigie.media import scan

    ctx = steps.context(_detector(spec), model_name, opts, Path(), None, None, None, None)
    try:
        info, index = scan(path)
    except MediaError as exc:
        return None, VideoResult(path, "failed", error=exc.message)
    pieces: list[Piece] = []
    res, _ = steps.analyse(path, "", info, index, ctx, pieces)
    return (pieces[0] if pieces else Piece()), res


def _work(
    unit: _Unit, spec: dict[str, Any], model_name: str, opts: Any, out_dir: Path, steps: Steps
) -> Any:
    if unit.part is None:
        return track_video(unit.path, unit.stem, spec, model_name, opts, out_dir, steps)
    return track_segment(unit.path, spec, model_name, unit.opts, steps)


def _plan(path: Path, stem: str, opts: Any, seconds: float, overlap: float) -> list[_Unit] | _Cut:
    """The units of a video: itself, or its segments (then the :class:`_Cut` to gather them)."""
    from vigie.errors import MediaError
    from vigie.media import scan

    if seconds <= 0:
        return [_Unit(path, stem)]
    try:
        info, index = scan(path)
    except MediaError:  # the worker reports it, as for any video
        return [_Unit(path, stem)]
    ranges = cut(index.times, opts.start, opts.end, seconds, overlap, opts.stride)
    if len(ranges) < 2:
        return [_Unit(path, stem)]
    return _Cut(stem, info, index, ranges, [None] * len(ranges), [None] * len(ranges))


def _segments(path: Path, c: _Cut, opts: Any) -> list[_Unit]:
    times = c.index.times
    return [
        _Unit(path, c.stem, n, dataclasses.replace(opts, start=times[a], end=times[b], video=False))
        for n, (a, b) in enumerate(c.ranges)
    ]


def _stitched(
    path: Path, c: _Cut, ctx: Any, steps: Steps, started: float
) -> tuple[Any, _Drawing | None]:
    """The ``_Pending`` of a segmented video (its segments' tracks stitched, files to write),
    and its annotated video's parts to draw (None: no video, or nothing to draw)."""
    opts, info, results = ctx.opts, c.info, [r for r in c.results if r is not None]
    for n, r in enumerate(results):
        if r.status == "failed":
            why = f"segment {n + 1} of {len(results)}: {r.error}"
            return steps.pending(path, VideoResult(path, "failed", error=why), info, None,
                                 started), None  # fmt: skip
    piece = stitch([p for p in c.pieces if p is not None])
    decoded = max(r.frames_decoded for r in results)
    warning = next((r.warning for r in results if r.warning), None)
    total = info.expected_frames
    if warning is None and total and opts.end is None and decoded < 0.98 * total:
        warning = f"the video ends after {decoded} of {total} frames (truncated?)"
    if not piece.index:
        res = VideoResult(
            path, "failed", error=warning or "no frame decoded in the requested range"
        )
        return steps.pending(path, res, info, None, started), None
    names = dict(ctx.detector.names)
    res = VideoResult(path, "done", frames_decoded=decoded, fps=info.fps, warning=warning)
    per_frame = video_result(res, piece.per_frame, piece.index, piece.times, names,
                             info.display_size, opts)  # fmt: skip
    drawing = None
    if (
        opts.video and DRAW_IN_PARTS
    ):  # drawn in parts by the workers, then joined here (vigie.track.pipeline.parts)
        parts = plan_parts(path, c.stem, ctx.out_dir, c.ranges)
        jobs = [part_job(p, info, c.index, per_frame, piece.index, names, opts) for p in parts]
        drawing = _Drawing(parts, jobs, {})

    def write() -> dict[str, Path]:
        if drawing is not None and drawing.drawn.get("ok"):
            try:
                video = join_parts(drawing.parts, ctx.out_dir / f"{c.stem}.mp4")
            except MediaError as exc:
                log.warning("%s: joining the drawn parts failed (%s): drawn here", path.name, exc)
            else:
                files = write_outputs(res, c.stem, ctx.out_dir, per_frame, piece.index, info,
                                      c.index, names, dataclasses.replace(opts, video=False))  # fmt: skip
                return {"video": video, **files}
        if drawing is not None:
            remove_parts(drawing.parts)
        store = None
        if opts.video:  # drawn here: the range decoded once more, from its first frame
            store = FrameStore(0)
            store.missing = piece.index[0]
        return write_outputs(res, c.stem, ctx.out_dir, per_frame, piece.index, info, c.index,
                             names, opts, store)  # fmt: skip

    return steps.pending(path, res, info, write, started), drawing


class _Drawing(NamedTuple):
    """The annotated video of a segmented video, to draw in ``parts`` (``jobs``: each one's)."""

    parts: list[Part]
    jobs: list[PartJob]
    drawn: dict[str, bool]  # "ok": every part was drawn


def _draw_in_parts(
    address: str, later: list[tuple[Any, _Drawing]], ctx: Any, steps: Steps,
    collect: Callable[[Any], None],
) -> None:  # fmt: skip
    """Draw the parts of the ``later`` videos on the cluster, then finish each video."""
    units = [(k, n) for k, (_, d) in enumerate(later) for n in range(len(d.parts))]
    left = [len(d.parts) for _, d in later]
    ok = [True] * len(later)

    def done(unit: tuple[int, int], drawn: bool) -> None:
        k = unit[0]
        left[k] -= 1
        ok[k] = ok[k] and drawn
        if left[k] == 0:
            pending, drawing = later[k]
            drawing.drawn["ok"] = ok[k]
            collect(steps.finish(pending, ctx))

    def fail(unit: tuple[int, int], why: str) -> None:
        part = later[unit[0]][1].parts[unit[1]]
        log.warning("%s: part %d of the annotated video failed (%s): drawn on the driver",
                    part.path.name, part.n + 1, why)  # fmt: skip
        done(unit, False)

    units_on_ray(address, units, lambda u: (later[u[0]][1].jobs[u[1]],), draw_part,
                 lambda u, _: done(u, True), fail, [ctx.out_dir])  # fmt: skip


def track_on_ray(
    ray_arg: str | RaySettings,
    videos: list[Path],
    ctx: Any,
    force: bool,
    model: str | Path | None,
    collect: Callable[[Any], None],
    steps: Steps,
    segments: tuple[float, float] | None = None,
) -> None:
    """Track every video of ``videos`` on the cluster; ``collect`` each recorded result.

    ``segments``: ``(seconds, overlap)``: a video longer than ``seconds`` is cut into segments
    sharing ``overlap`` seconds, one task each (0 seconds: never cut).
    """
    settings = ray_settings(ray_arg)
    assert settings.address is not None
    seconds, overlap = segments or (SEGMENT_SECONDS, SEGMENT_OVERLAP)
    if seconds > 0 and not 0 < overlap < seconds:
        raise ConfigError(
            f"track.segment_overlap ({overlap:g} s) must be above 0 and under "
            f"track.segment_seconds ({seconds:g} s)"
        )
    spec = detector_spec(ctx.detector, model or "", None)
    if not spec["model"]:
        raise ConfigError(
            "track on Ray needs the detector as a file", hint="pass model= (weights or .onnx)"
        )
    stems: dict[str, int] = {}
    todo: list[_Unit] = []
    cuts: dict[Path, _Cut] = {}
    for path in videos:
        n = stems.get(path.stem, 0)
        stems[path.stem] = n + 1
        stem = path.stem if n == 0 else f"{path.stem}-{n + 1}"
        skipped = skip(ctx.catalog, path, ctx.model_name, ctx.opts, force, ctx.out_dir)
        if skipped is not None:
            collect(
                steps.finish(
                    steps.pending(path, skipped, None, None, time.perf_counter(), False), ctx
                )
            )
            continue
        planned = _plan(path, stem, ctx.opts, seconds, overlap)
        if isinstance(planned, _Cut):
            cuts[path] = planned
            planned = _segments(path, planned, ctx.opts)
        todo.extend(planned)
    if not todo:
        return
    started = time.perf_counter()

    later: list[tuple[Any, _Drawing]] = []  # stitched videos whose annotated MP4 is drawn next

    def finish(unit: _Unit, outcome: Any) -> None:
        if unit.part is None:
            res, info = outcome
            collect(steps.finish(steps.pending(unit.path, res, info, None, started), ctx))
            return
        c = cuts[unit.path]
        c.pieces[unit.part], c.results[unit.part] = outcome
        if all(r is not None for r in c.results):
            pending, drawing = _stitched(unit.path, c, ctx, steps, started)
            if drawing is None:
                collect(steps.finish(pending, ctx))
            else:
                later.append((pending, drawing))

    def fail(unit: _Unit, why: str) -> None:
        if unit.part is not None:
            finish(unit, (None, VideoResult(unit.path, "failed", error=why)))
            return
        collect(steps.finish(steps.pending(unit.path, VideoResult(unit.path, "failed", error=why),
                                 None, None, started), ctx))  # fmt: skip

    units_on_ray(
        settings.address,
        todo,
        lambda u: (u, spec, ctx.model_name, ctx.opts, ctx.out_dir, steps),
        _work,
        finish,
        fail,
        [*{u.path.parent for u in todo}, ctx.out_dir, spec["model"]],
    )
    if later:
        _draw_in_parts(settings.address, later, ctx, steps, collect)
