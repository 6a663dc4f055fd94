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

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigie.catalog import Catalog
from vigie.config import Settings, load_settings
from vigie.demo.scene import CLASSES, Scene, render_video, yolo_label_lines
from vigie.demo.servers import CameraServer, MediaServer
from vigie.demo.study import DemoStudy, build_study, s3_template, study_db_url
from vigie.errors import VigieError, output_dir

log = logging.getLogger(__name__)

CAMERA_NAME = "demo-street"


class StepSkipped(Exception):
    """A step cannot run: its stage is missing, or an input from an earlier step is."""


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


@dataclass
class DemoPlan:
    """Sizes of the demo; ``quick`` trades realism for a run of a couple of minutes."""

    capture_seconds: int = 60
    capture_every: float = 1.0
    camera_refresh: float = 2.0
    study_images: int = 9
    study_videos: int = 2
    video_frames: int = 80
    train_clips: int = 5  # training videos; the dataset keeps each clip on one side of the split
    clip_frames: int = 120
    train_step: int = 4  # every n-th frame of a clip is labelled
    epochs: int = 15
    batch: int = 4
    imgsz: int = 224
    detect_conf: float = 0.1
    # From scratch on a CPU, a few epochs learn something only without warm-up and mosaic and
    # with a brisk AdamW: mAP50 ~0.2 after 8 epochs on 150 frames (0 with the defaults).
    train_overrides: dict[str, Any] = field(
        default_factory=lambda: {
            "optimizer": "AdamW",
            "lr0": 0.002,
            "warmup_epochs": 0,
            "mosaic": 0.0,
        }
    )

    @classmethod
    def quick(cls) -> DemoPlan:
        return cls(
            capture_seconds=8,
            study_images=6,
            study_videos=2,
            video_frames=40,
            train_clips=3,
            clip_frames=40,
            train_step=4,
            epochs=2,
            detect_conf=0.02,
            train_overrides={
                "optimizer": "AdamW",
                "lr0": 0.002,
                "warmup_epochs": 0,
                "mosaic": 0.0,
                "val": False,  # ultralytics still validates after the last epoch
            },
        )


@dataclass
class _Ctx:
    out: Path
    plan: DemoPlan
    settings: Settings
    catalog: Catalog
    scene: Scene
    labelstudio_url: str | None
    labelstudio_token: str | None
    media: MediaServer | None = None
    study: DemoStudy | None = None
    links: Any = None
    downloaded: list[Path] = field(default_factory=list)
    videos: list[Path] = field(default_factory=list)
    clips: dict[str, int] = field(default_factory=dict)  # training clip stem -> first frame
    labelled: Path | None = None
    data_yaml: Path | None = None
    model_name: str | None = None
    weights: Path | None = None


def stage_api(stage: str, name: str) -> Any:
    """``vigie.<stage>.<name>`` from the stage's public API, or StepSkipped if it is missing."""
    try:
        module = importlib.import_module(f"vigie.{stage}")
        return getattr(module, name)
    except (ImportError, AttributeError) as exc:
        log.debug("stage %s unavailable: %s", stage, exc)
        raise StepSkipped(f"{stage} not available") from None


def run_demo(
    out: Path | str,
    *,
    quick: bool = False,
    seed: int = 0,
    plan: DemoPlan | None = None,
    labelstudio_url: str | None = None,
    labelstudio_token: str | None = None,
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
        on_step: called with each step's result as soon as it finishes.

    Returns:
        DemoResult with one StepResult per step and the report's index.html.
    """
    root = Path(out).resolve()
    output_dir(root)
    chosen = plan or (DemoPlan.quick() if quick else DemoPlan())
    settings = _demo_settings(root, chosen)
    catalog = Catalog.from_settings(settings)
    ctx = _Ctx(
        out=root,
        plan=chosen,
        settings=settings,
        catalog=catalog,
        scene=Scene(seed=seed, width=320, height=240, fps=10.0),
        labelstudio_url=labelstudio_url,
        labelstudio_token=labelstudio_token,
    )
    from vigie.demo import steps

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


def _run_step(name: str, fn: Callable[[_Ctx], str], ctx: _Ctx) -> StepResult:
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


# -- helpers shared by the steps -----------------------------------------------------------------
def start_media(ctx: _Ctx) -> MediaServer:
    if ctx.media is None:
        ctx.media = MediaServer(ctx.out / "media-server").start()  # type: ignore[assignment]
        assert ctx.media is not None
    return ctx.media


def write_study(ctx: _Ctx) -> DemoStudy:
    media = start_media(ctx)
    media.root.mkdir(parents=True, exist_ok=True)
    ctx.settings.links.s3_url_template = s3_template(media)
    ctx.study = build_study(
        ctx.scene,
        media,
        study_db_url(ctx.out),
        images=ctx.plan.study_images,
        videos=ctx.plan.study_videos,
        video_frames=ctx.plan.video_frames,
    )
    return ctx.study


def camera(ctx: _Ctx) -> CameraServer:
    return CameraServer(ctx.scene, refresh=ctx.plan.camera_refresh)


def training_clips(ctx: _Ctx) -> list[Path]:
    """Short street videos the training frames come from, each with its MOT ground truth."""
    clips = []
    gap = ctx.plan.clip_frames + 150  # different traffic in every clip
    for i in range(ctx.plan.train_clips):
        start = i * gap
        path = render_video(
            ctx.scene, ctx.out / "scene" / f"clip{i:02d}.mp4", ctx.plan.clip_frames, start
        )
        ctx.clips[path.stem] = start
        clips.append(path)
    return clips


def label_frames(ctx: _Ctx, clip: str, frames: list[Any], labels_dir: Path) -> int:
    """Write the YOLO ground truth of a clip's extracted frames (``FrameRef``) as label files."""
    written = 0
    labels_dir.mkdir(parents=True, exist_ok=True)
    start = ctx.clips[clip]
    for ref in frames:
        if ref.path is None:
            continue
        text = "\n".join(yolo_label_lines(ctx.scene, start + int(ref.frame_index)))
        (labels_dir / f"{Path(ref.path).stem}.txt").write_text(text + "\n" if text else "")
        written += 1
    return written


def class_names() -> list[str]:
    return list(CLASSES)
