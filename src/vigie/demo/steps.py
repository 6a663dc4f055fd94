"""The demo's steps: each calls one stage's public API and returns a one-line summary.

A step raises :class:`~vigie.demo.context.StepSkipped` when its stage is not installed or an
input it needs was not produced by an earlier step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from vigie.demo.context import (
    CAMERA_NAME,
    Ctx,
    StepSkipped,
    camera,
    class_names,
    label_frames,
    stage_api,
    training_clips,
    write_study,
)
from vigie.demo.scene import jpeg_bytes
from vigie.demo.study import study_db_url
from vigie.devices import resolve_device
from vigie.media import kind_of, list_media
from vigie.types import MediaKind


def scene(ctx: Ctx) -> str:
    clips = training_clips(ctx)
    preview = ctx.out / "scene" / "preview.jpg"
    preview.write_bytes(jpeg_bytes(ctx.scene.render(0)))
    last = max(ctx.clips.values(), default=0) + ctx.plan.clip_frames
    counts = ctx.scene.class_counts(last)
    objects = ", ".join(f"{n} {c.lower()}" for c, n in counts.items())
    return (
        f"street scene (seed {ctx.scene.seed}, {ctx.scene.width}x{ctx.scene.height}): "
        f"{len(clips)} clips of {ctx.plan.clip_frames} frames with MOT ground truth in scene/; "
        f"{objects}"
    )


def capture(ctx: Ctx) -> str:
    run = stage_api("capture", "capture")
    count = max(1, round(ctx.plan.capture_seconds / ctx.plan.capture_every))
    with camera(ctx) as cam:
        url = cam.url("/camera.jpg")
        res = run(
            urls=[url],
            names=[CAMERA_NAME],
            every=ctx.plan.capture_every,
            count=count,
            out=ctx.out / "captures",
            settings=ctx.settings,
            catalog=ctx.catalog,
        )
    return (
        f"camera {url} polled {res.polls} times every {ctx.plan.capture_every:g} s: "
        f"{res.kept} kept, {res.duplicates} duplicates dropped, {res.failed} failed"
    )


def study_db(ctx: Ctx) -> str:
    study = write_study(ctx)
    assert ctx.media is not None
    return (
        f"SQLite study database {study_db_url(ctx.out).split('///')[-1]}: study "
        f"{study.study_id} with {study.selected + study.excluded} publications "
        f"({study.images} images, {study.videos} videos, {study.broken} broken links, "
        f"{study.excluded} outside the selection); media served at {ctx.media.url('/')}"
    )


def links(ctx: Ctx) -> str:
    build = stage_api("links", "build_links")
    if ctx.study is None:
        raise StepSkipped("no study database")
    res = build(
        ctx.study.study_id,
        ctx.study.start,
        ctx.study.end,
        db_url=study_db_url(ctx.out),
        out=ctx.out / "study",
        settings=ctx.settings,
        catalog=ctx.catalog,
    )
    ctx.links = res
    return (
        f"{len(res.links)} links for study {ctx.study.study_id} ({res.images} images, "
        f"{res.videos} videos) -> {_rel(ctx, res.manifest)}"
    )


def download(ctx: Ctx) -> str:
    run = stage_api("download", "download")
    if ctx.links is None or getattr(ctx.links, "manifest", None) is None:
        raise StepSkipped("no links")
    res = run(
        study=ctx.study.study_id if ctx.study else None,
        purpose="media_analysis",  # the demo analyses the files (`dataset` is the CLI default)
        manifest=ctx.links.manifest,
        out=ctx.out / "study",
        settings=ctx.settings,
        catalog=ctx.catalog,
        allow_private_networks=True,
    )
    # what is on disk now, this run's downloads and an earlier run's alike (the catalog knows)
    kept = ctx.catalog.items(study_id=ctx.study.study_id if ctx.study else None, status="done")
    files = [
        Path(r.path)
        for r in kept
        if r.kind in ("image", "video") and r.path and Path(r.path).is_file()
    ]
    ctx.downloaded = [p for p in files if kind_of(p) is MediaKind.IMAGE]
    ctx.videos = [p for p in files if kind_of(p) is MediaKind.VIDEO]
    reasons = ", ".join(f"{n} {r}" for r, n in res.failures.most_common()) or "none"
    earlier = f", {res.skipped} already there" if res.skipped else ""
    return (
        f"{res.done} of {res.total} downloaded ({res.bytes / 1e6:.1f} MB{earlier}): "
        f"{len(ctx.downloaded)} images and {len(ctx.videos)} videos on disk; "
        f"{res.failed} failed: {reasons}"
    )


def frames(ctx: Ctx) -> str:
    extract = stage_api("frames", "extract_frames")
    written, per_video = 0, []
    for video in ctx.videos:
        res = extract(
            video,
            mode="time",
            value=1.0,
            out=ctx.out / "frames" / video.stem,
            settings=ctx.settings,
            catalog=ctx.catalog,
        )
        written += len(res.frames)
        per_video.append(f"{video.name}: {len(res.frames)}")
    # the training frames: every n-th frame of each scene clip, labelled from the ground truth
    if not ctx.clips:
        raise StepSkipped("no scene clips")
    images, labels = ctx.out / "labelled" / "images", ctx.out / "labelled" / "labels"
    train_frames = 0
    for clip in ctx.clips:
        res = extract(
            ctx.out / "scene" / f"{clip}.mp4",
            mode="step",
            value=ctx.plan.train_step,
            out=images,
            settings=ctx.settings,
            catalog=ctx.catalog,
        )
        train_frames += label_frames(ctx, clip, list(res.frames), labels)
    ctx.labelled = ctx.out / "labelled"
    study = f"{written} frames of the study videos ({', '.join(per_video)}); " if per_video else ""
    return (
        f"{study}{train_frames} training frames of {len(ctx.clips)} scene clips, labelled from "
        "the ground truth in labelled/"
    )


def labelstudio(ctx: Ctx) -> str:
    if not (ctx.labelstudio_url and ctx.labelstudio_token):
        raise StepSkipped("no Label Studio URL and token configured (the round trip is optional)")
    if ctx.labelled is None:
        raise StepSkipped("no labelled frames")
    connect = stage_api("labelstudio", "connect")
    setup_project = stage_api("labelstudio", "setup_project")
    push = stage_api("labelstudio", "push")
    pull = stage_api("labelstudio", "pull")
    ls_settings = ctx.settings.model_copy(
        update={"labelstudio_token": SecretStr(ctx.labelstudio_token)}
    )
    client = connect(ls_settings, url=ctx.labelstudio_url)
    project = setup_project(client, title="Vigie demo street", labels=class_names())
    pushed = push(
        client,
        ctx.catalog,
        ctx.labelled / "images",
        project.id,
        max_items=20,
        settings=ls_settings,
    )
    pulled = pull(
        ctx.out / "labelstudio",
        client=client,
        project_id=project.id,
        allow_private=True,
        settings=ls_settings,
        catalog=ctx.catalog,
    )
    return (
        f"Label Studio project {project.id} at {ctx.labelstudio_url}: {pushed.imported} images "
        f"imported ({pushed.skipped} already there); pulled {pulled.labelled} annotated tasks of "
        f"{pulled.tasks} into labelstudio/ (the dataset below uses the ground truth)"
    )


def dataset(ctx: Ctx) -> str:
    build = stage_api("dataset", "build_dataset")
    if ctx.labelled is None:
        raise StepSkipped("no labelled frames")
    res = build(
        ctx.labelled,
        ctx.out / "dataset",
        names=class_names(),
        # a fixed camera: every picture is within a few bits by ahash; phash tells them apart
        hash_method="phash",
        settings=ctx.settings,
        catalog=ctx.catalog,
    )
    ctx.data_yaml = Path(res.data_yaml)
    return (
        f"YOLO dataset {_rel(ctx, res.data_yaml)}: {res.train} train / {res.val} val images in "
        f"{res.groups} groups (frames of one clip stay on one side), classes {', '.join(res.names)}"
    )


def train(ctx: Ctx) -> str:
    run = stage_api("train", "train")
    if ctx.data_yaml is None or not ctx.data_yaml.is_file():
        raise StepSkipped("no dataset")
    res = run(
        ctx.data_yaml,
        model="yolo11n.yaml",
        name="demo",
        epochs=ctx.plan.epochs,
        imgsz=ctx.plan.imgsz,
        batch=ctx.plan.batch,
        device=resolve_device(ctx.device, "torch").torch,
        project=ctx.out / "runs" / "train",
        workers=0,
        overrides=ctx.plan.train_overrides,
        settings=ctx.settings,
        catalog=ctx.catalog,
    )
    ctx.model_name, ctx.weights = str(res.name), Path(res.weights)
    m = res.overall
    return (
        f"model {res.name} trained {ctx.plan.epochs} epochs from yolo11n.yaml at "
        f"{ctx.plan.imgsz} px: mAP50 {m.map50:.3f}, mAP50-95 {m.map50_95:.3f}, precision "
        f"{m.precision:.3f}, recall {m.recall:.3f} -> {_rel(ctx, res.weights)}"
    )


def detect(ctx: Ctx) -> str:
    run = stage_api("detect", "detect")
    model = _model(ctx)
    sources = [  # (folder, what, write rows into the study database)
        (ctx.out / "captures", "camera snapshots", False),
        (ctx.out / "study", "study images", True),
        (ctx.out / "frames", "study video frames", True),
    ]
    parts, total, study_rows = [], Counter[str](), 0
    for folder, label, to_study in sources:
        if not list_media(folder, "image", recursive=True, allow_empty=True):
            continue
        res = run(
            folder,
            model=ctx.model_name or model,  # the registry name, so rows say which model
            out=ctx.out / "detections" / folder.name,
            conf=ctx.plan.detect_conf,
            imgsz=ctx.plan.imgsz,
            recursive=True,
            device=str(resolve_device(ctx.device, "onnx")),
            db_url=study_db_url(ctx.out) if to_study else None,
            settings=ctx.settings,
            catalog=ctx.catalog,
        )
        total.update(res.per_class)
        study_rows += int(getattr(res, "study_rows", 0) or 0)
        parts.append(f"{res.images} {label}: {res.detections} objects")
    if not parts:
        raise StepSkipped("no images to detect on")
    classes = ", ".join(f"{n} {c}" for c, n in total.most_common()) or "nothing found"
    return f"{'; '.join(parts)} ({classes}); {study_rows} rows in yolo_image_detection"


def track(ctx: Ctx) -> str:
    run = stage_api("track", "track")
    model = _model(ctx)
    if not ctx.videos:
        raise StepSkipped("no downloaded videos")
    res = run(
        ctx.videos,
        model=model,
        out=ctx.out / "tracks",
        imgsz=ctx.plan.imgsz,
        conf=ctx.plan.detect_conf,
        device=str(resolve_device(ctx.device, "onnx")),
        settings=ctx.settings,
        catalog=ctx.catalog,
        db_url=study_db_url(ctx.out),
    )
    per_class: Counter[str] = Counter()
    for video in res.results:
        per_class.update(Counter(t.class_name for t in video.tracks))
    tracks = sum(per_class.values())
    classes = ", ".join(f"{n} {c}" for c, n in per_class.most_common()) or "none"
    statuses = Counter(v.status for v in res.results)
    done = ", ".join(f"{n} {s}" for s, n in statuses.items())
    rows = _count_rows(study_db_url(ctx.out), "yolo_video_detection")
    return (
        f"{len(res.results)} videos ({done}): {tracks} tracks ({classes}); "
        f"{rows} rows in yolo_video_detection"
    )


def _count_rows(db_url: str, table_name: str) -> int:
    """Rows of one table of the study database (0 when it cannot be read)."""
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.exc import SQLAlchemyError

    from vigie.studydb import study_metadata

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            t = study_metadata.tables[table_name]
            return int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
    except SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


def _model(ctx: Ctx) -> Path:
    if ctx.weights is None or not ctx.weights.is_file():
        raise StepSkipped("no trained model")
    return ctx.weights


def report(ctx: Ctx) -> str:
    build = stage_api("report", "build_report")
    index = build(
        ctx.catalog,
        ctx.out / "report",
        title="Vigie demo",
        study_db_url=study_db_url(ctx.out),
        settings=ctx.settings,
    )
    images = len(list((index.parent / "img").glob("*.jpg")))
    html = index.read_text(encoding="utf-8")
    charts, empty = html.count('<svg class="chart"'), html.count('class="empty"')
    return (
        f"{_rel(ctx, index)}: {charts} charts, {images} annotated images, "
        f"{empty} sections without data"
    )


def _rel(ctx: Ctx, path: Path | str | None) -> str:
    if path is None:
        return "-"
    p = Path(path)
    try:
        return str(p.relative_to(ctx.out))
    except ValueError:
        return str(p)


def _describe(res: Any) -> str:
    """A short text of a stage result: its counters, whatever the result type."""
    if res is None:
        return "done"
    if isinstance(res, int | float | str):
        return str(res)
    parts = []
    for name in ("total", "done", "images", "detections", "tracks", "videos", "train", "val",
                 "skipped", "failed", "best_fitness"):  # fmt: skip
        value = getattr(res, name, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            parts.append(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}")
        elif isinstance(value, list | dict):
            parts.append(f"{name}={len(value)}")
    return ", ".join(parts) or type(res).__name__


STEPS: list[tuple[str, Callable[[Ctx], str]]] = [
    ("scene", scene),
    ("capture", capture),
    ("study-db", study_db),
    ("links", links),
    ("download", download),
    ("frames", frames),
    ("labelstudio", labelstudio),
    ("dataset", dataset),
    ("train", train),
    ("detect", detect),
    ("track", track),
    ("report", report),
]

__all__ = ["STEPS"]
