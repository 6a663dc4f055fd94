"""``track --ray``: one video per Ray task; outputs written by the worker, recorded here.

A task decodes, detects and tracks its video and writes its files (JSON, CSV, MOT text, the
annotated MP4) on shared storage, then returns the :class:`VideoResult` (tracks and counts:
small). The driver checks what is done already (catalog) before sending a video, and records
each finished video in the catalog and the study database, as on one machine. Each worker
process loads the detector once and keeps it for the next videos it gets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from vigie.cluster.units import detector_spec, ray_settings, units_on_ray
from vigie.config import RaySettings
from vigie.errors import ConfigError
from vigie.track.pipeline.options import VideoResult
from vigie.track.pipeline.persist import skip


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


def track_on_ray(
    ray_arg: str | RaySettings,
    videos: list[Path],
    ctx: Any,
    force: bool,
    model: str | Path | None,
    collect: Callable[[Any], None],
    steps: Steps,
) -> None:
    """Track every video of ``videos`` on the cluster; ``collect`` each recorded result."""
    settings = ray_settings(ray_arg)
    assert settings.address is not None
    spec = detector_spec(ctx.detector, model or "", None)
    if not spec["model"]:
        raise ConfigError(
            "track on Ray needs the detector as a file", hint="pass model= (weights or .onnx)"
        )
    stems: dict[str, int] = {}
    todo: list[tuple[Path, str]] = []
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
        else:
            todo.append((path, stem))
    if not todo:
        return
    started = time.perf_counter()

    def finish(unit: tuple[Path, str], outcome: tuple[Any, Any]) -> None:
        res, info = outcome
        collect(steps.finish(steps.pending(unit[0], res, info, None, started), ctx))

    def fail(unit: tuple[Path, str], why: str) -> None:
        collect(steps.finish(steps.pending(unit[0], VideoResult(unit[0], "failed", error=why), None,
                                 None, started), ctx))  # fmt: skip

    units_on_ray(
        settings.address,
        todo,
        lambda u: (u[0], u[1], spec, ctx.model_name, ctx.opts, ctx.out_dir, steps),
        track_video,
        finish,
        fail,
        [*{p.parent for p, _ in todo}, ctx.out_dir, spec["model"]],
    )
