"""``detect --ray``: image batches through a pool of Ray actors, the model loaded once per actor.

The driver loads the detector first (an ONNX export is made once, next to the weights, on shared
storage), then starts the actors: one per cluster CPU, or with GPUs one per ``num_gpus`` of GPU
(fractions allowed: ``ray.num_gpus = 0.5`` puts two actors on each GPU). Each call gets one batch
of image paths with their media identities (looked up on the driver); the actor decodes, detects
and writes the annotated image, JSON and crops, and returns the detections. The driver consumes
the results in input order and records them (catalog, study DB, CSV, COCO) as on one machine.

An actor whose node dies is dropped and its batches are sent again to the other actors (a new
one is started when none is left); outputs are written atomically, so a replayed batch rewrites
the same bytes, and its rows reach the stores once, from the driver.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vigie.cluster.units import detector_spec, ray_settings
from vigie.config import RaySettings
from vigie.detect.steps import decode, relative, write_outputs

log = logging.getLogger(__name__)
IN_FLIGHT_PER_ACTOR = 2
Outcome = tuple[Path, Any, "str | None"]  # (image, Detections or None, error)


class DetectWorker:
    """A Ray actor: one detector, loaded once; each call is one batch of images."""

    def __init__(self, spec: dict[str, Any], opts: Any) -> None:
        import ray

        from vigie.detect.backends import load_detector

        spec = dict(spec)
        if ray.get_gpu_ids():  # Ray set CUDA_VISIBLE_DEVICES to this actor's GPU
            spec["device"] = "0"
        self.detector = load_detector(spec.pop("model"), **spec)
        self.opts = opts

    def run(self, batch: list[tuple[Path, Any]]) -> list[Outcome]:
        decoded = [(decode(path), ident) for path, ident in batch]
        good = [(d, ident) for d, ident in decoded if d.image is not None]
        found = self.detector.predict([d.image for d, _ in good]) if good else []
        for (dec, ident), dets in zip(good, found, strict=True):
            assert dec.image is not None
            write_outputs(self.opts, dec.path, dec.image, dets, ident)
        by_path = {dec.path: dets for (dec, _), dets in zip(good, found, strict=True)}
        return [(d.path, by_path.get(d.path), d.error) for d, _ in decoded]


def _actor_count(settings: RaySettings, cpus: float, gpus: float) -> tuple[int, float]:
    """Actors to start and GPUs per actor."""
    per_gpu = settings.num_gpus or (1.0 if gpus else 0.0)
    if settings.workers:
        return settings.workers, per_gpu
    if per_gpu and gpus:
        return max(1, int(gpus / per_gpu)), per_gpu
    return max(1, int(cpus)), 0.0


def detect_on_ray(
    ray_arg: str | RaySettings,
    paths: list[Path],
    detector: Any,
    model: str | Path,
    device: str | None,
    opts: Any,
    recorder: Any,
    result: Any,
    csv_rows: list[dict[str, Any]],
    batch: int,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Run the images of ``paths`` through the actor pool; account and record as ``_run``."""
    from vigie.cluster.connect import connect
    from vigie.cluster.paths import check_visible

    settings = ray_settings(ray_arg)
    assert settings.address is not None
    info = connect(settings.address)
    spec = detector_spec(detector, model, device)
    check_visible([*{p.parent for p in paths}, opts.out, spec["model"]])
    import ray

    n_actors, per_gpu = _actor_count(settings, info.cpus, info.gpus)
    worker_opts = dataclasses.replace(opts, coco=None)  # COCO results are kept by the driver
    pool = _Pool(ray, spec, worker_opts, n_actors, per_gpu)
    log.info("detect on Ray: %d actors, %g GPU each", n_actors, per_gpu)
    batches = (paths[i : i + batch] for i in range(0, len(paths), batch))
    pending: deque[tuple[Any, Any, list[tuple[Path, Any]]]] = deque()

    def submit() -> bool:
        chunk = next(batches, None)
        if chunk is None:
            return False
        items = [(p, recorder.identity(p)) for p in chunk]
        pending.append((*pool.call(items), items))
        return True

    try:
        while len(pending) < IN_FLIGHT_PER_ACTOR * n_actors and submit():
            pass
        while pending:
            ref, actor, items = pending.popleft()
            try:
                outcomes = ray.get(ref)
            except ray.exceptions.RayActorError:  # its node died: the batch goes to another
                pool.lost(actor)
                pending.appendleft((*pool.call(items), items))
                continue
            _account(outcomes, dict(items), opts, recorder, result, csv_rows)
            if on_progress is not None:
                on_progress(len(items))
            submit()
    finally:
        pool.close()


class _Pool:
    """The detect actors, round robin. An actor that died (its node went away) is dropped and
    its batches are sent again to the others; a new one is started only when none is left
    (restarting each in place could wait forever for a node the cluster no longer has)."""

    def __init__(self, ray: Any, spec: dict[str, Any], opts: Any, n: int, gpus: float) -> None:
        self.ray = ray
        self.make: Any = lambda: ray.remote(num_cpus=1, num_gpus=gpus, max_restarts=0)(
            DetectWorker
        ).remote(spec, opts)
        self.actors: list[Any] = [self.make() for _ in range(n)]
        self.turn = 0

    def call(self, items: list[tuple[Path, Any]]) -> tuple[Any, Any]:
        if not self.actors:
            self.actors.append(self.make())
        actor = self.actors[self.turn % len(self.actors)]
        self.turn += 1
        return actor.run.remote(items), actor

    def lost(self, actor: Any) -> None:
        if actor in self.actors:
            log.warning("a detect actor was lost (node failure?): its batches go to the others")
            self.actors.remove(actor)

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)


def _account(
    outcomes: list[Outcome],
    idents: dict[Path, Any],
    opts: Any,
    recorder: Any,
    result: Any,
    csv_rows: list[dict[str, Any]],
) -> None:
    """One batch's results into the run's counts, CSV and COCO rows, and the stores."""
    from vigie.detect import outputs

    items, failed = [], []
    for path, dets, error in outcomes:
        if dets is None:
            log.warning("skipped %s: %s", path, error or "cannot decode")
            failed.append((path, error or "cannot decode"))
            continue
        ident = idents[path]
        items.append((path, dets, ident))
        result.detections += len(dets)
        result.per_class.update(dets.names.get(int(c), str(int(c))) for c in dets.class_id)
        csv_rows.extend(outputs.csv_rows(path, dets, ident))
        if opts.coco is not None:
            opts.coco.add(relative(path, opts.root), dets)
    result.failures.extend(failed)
    result.failed += len(failed)
    result.done += len(items)
    result.images += len(outcomes)
    recorder.record([], items, failed)
