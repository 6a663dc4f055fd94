"""``run_demo``: every stage, for real, on generated data, offline, in one workspace.

Steps, in order: render the scene, serve it as a camera and ``capture`` it, write a study database
and serve its media, ``links``, ``download``, ``frames``, a YOLO dataset from the ground truth
(the Label Studio round trip too when a server and token are configured), ``train``, ``detect``,
``track`` and ``report``. Each step calls the stage's public API, and reports one
:class:`StepResult` (through ``on_step`` as it finishes, and in the returned :class:`DemoResult`).
A stage that is not installed is reported as skipped; a step whose input is missing because an
earlier step failed is skipped too; the demo goes on either way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vigie.catalog import Catalog
from vigie.config import Settings, load_settings
from vigie.demo import steps
from vigie.demo.context import Ctx, DemoPlan, StepSkipped, stage_api
from vigie.demo.scene import Scene
from vigie.errors import VigieError, output_dir

__all__ = ["DemoPlan", "DemoResult", "StepResult", "StepSkipped", "run_demo", "stage_api"]

log = logging.getLogger(__name__)


@dataclass
class StepResult:
    """What one demo step did."""

    name: str
    status: str  # done | skipped | failed
    summary: str
    seconds: float = 0.0


@dataclass
class DemoResult:
    """The demo workspace and every step's result."""

    out: Path
    steps: list[StepResult]
    report: Path | None = None

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.steps)

    def step(self, name: str) -> StepResult | None:
        return next((s for s in self.steps if s.name == name), None)


def run_demo(
    out: Path | str,
    *,
    quick: bool = False,
    seed: int = 0,
    plan: DemoPlan | None = None,
    labelstudio_url: str | None = None,
    labelstudio_token: str | None = None,
    device: str = "cpu",
    on_step: Callable[[StepResult], None] | None = None,
) -> DemoResult:
    """Run every stage on a generated street scene into the workspace ``out``.

    Args:
        out: the demo workspace (created); its catalog is ``out/vigie.db``.
        quick: a short run (a few seconds of capture, 2 epochs) for tests and a first look.
        seed: the scene's seed; the same seed gives the same media and ground truth.
        plan: explicit sizes (overrides ``quick``).
        labelstudio_url, labelstudio_token: a Label Studio server for the push/pull round trip;
            without both, that step is skipped.
        device: where train, detect and track run (cpu, cuda, cuda:N, mps, auto); a GPU the
            backend cannot use is a warning and a CPU run (:mod:`vigie.devices`).
        on_step: called with each step's result as soon as it finishes.

    Returns:
        DemoResult with one StepResult per step and the report's index.html.
    """
    root = Path(out).resolve()
    output_dir(root)
    chosen = plan or (DemoPlan.quick() if quick else DemoPlan())
    settings = _demo_settings(root, chosen)
    catalog = Catalog.from_settings(settings)
    ctx = Ctx(
        out=root,
        plan=chosen,
        settings=settings,
        catalog=catalog,
        scene=Scene(seed=seed, width=320, height=240, fps=10.0),
        labelstudio_url=labelstudio_url,
        labelstudio_token=labelstudio_token,
        device=device,
    )
    result = DemoResult(root, [])
    try:
        for name, fn in steps.STEPS:
            step = _run_step(name, fn, ctx)
            result.steps.append(step)
            if on_step is not None:
                on_step(step)
    finally:
        if ctx.media is not None:
            ctx.media.stop()
        catalog.close()
    index = root / "report" / "index.html"
    result.report = index if index.is_file() else None
    return result


def _run_step(name: str, fn: Callable[[Ctx], str], ctx: Ctx) -> StepResult:
    t0 = time.monotonic()
    try:
        summary, status = fn(ctx), "done"
    except StepSkipped as exc:
        summary, status = f"skipped: {exc}", "skipped"
    except VigieError as exc:
        summary, status = f"failed: {exc}", "failed"
        log.warning("demo step %s failed: %s", name, exc)
    except Exception as exc:  # a bug in a stage must not hide what the other stages do
        summary, status = f"failed: {exc.__class__.__name__}: {exc}", "failed"
        log.warning("demo step %s failed", name, exc_info=True)
    step = StepResult(name, status, summary, time.monotonic() - t0)
    log.debug("demo %s: %s (%.1f s)", name, summary, step.seconds)
    return step


def _demo_settings(root: Path, plan: DemoPlan) -> Settings:
    return load_settings(
        workspace=root,
        catalog_url=f"sqlite:///{root / 'vigie.db'}",
        allow_private_networks=True,  # the demo's servers are on 127.0.0.1
        capture={"every": plan.capture_every, "out": root / "captures"},
        download={"concurrency": 8, "per_host": 8, "retries": 1, "out": root / "study"},
        frames={"out": root / "frames", "workers": 1},
        train={
            "model": "yolo11n.yaml",
            "epochs": plan.epochs,
            "imgsz": plan.imgsz,
            "batch": plan.batch,
            "device": "cpu",
            "project": root / "runs" / "train",
        },
        detect={
            "conf": plan.detect_conf,
            "imgsz": plan.imgsz,
            "backend": "onnx",
            "out": root / "detections",
        },
        track={"out": root / "tracks", "conf": plan.detect_conf},
    )
