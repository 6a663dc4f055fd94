"""The state the demo's steps share (:class:`Ctx`), its sizes (:class:`DemoPlan`) and the helpers
the steps call; :mod:`vigie.demo.pipeline` runs the steps of :mod:`vigie.demo.steps` on it."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigie.catalog import Catalog
from vigie.config import Settings
from vigie.demo.scene import CLASSES, Scene, render_video, yolo_label_lines
from vigie.demo.servers import CameraServer, MediaServer
from vigie.demo.study import DemoStudy, build_study, s3_template, study_db_url

log = logging.getLogger(__name__)

CAMERA_NAME = "demo-street"


class StepSkipped(Exception):
    """A step cannot run: its stage is missing, or an input from an earlier step is."""


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
class Ctx:
    """What the steps share: the workspace, settings, catalog, servers and earlier outputs."""

    out: Path
    plan: DemoPlan
    settings: Settings
    catalog: Catalog
    scene: Scene
    labelstudio_url: str | None
    labelstudio_token: str | None
    device: str = "cpu"  # where the models run (`vigie demo --device`)
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


# -- helpers shared by the steps -----------------------------------------------------------------
def start_media(ctx: Ctx) -> MediaServer:
    if ctx.media is None:
        ctx.media = MediaServer(ctx.out / "media-server").start()  # type: ignore[assignment]
        assert ctx.media is not None
    return ctx.media


def write_study(ctx: Ctx) -> DemoStudy:
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


def camera(ctx: Ctx) -> CameraServer:
    return CameraServer(ctx.scene, refresh=ctx.plan.camera_refresh)


def training_clips(ctx: Ctx) -> list[Path]:
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


def label_frames(ctx: Ctx, clip: str, frames: list[Any], labels_dir: Path) -> int:
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
