"""``vigie detect``: detect objects in a folder of images (registered by vigie.cli.app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigie.cli import common


def register(app: typer.Typer) -> None:
    """Add ``detect`` to the root app."""
    app.command("detect")(detect)


def detect(
    ctx: typer.Context,
    source: Annotated[
        list[str],
        typer.Argument(
            help="folders, images, globs ('imgs/**/*.jpg'), videos, http(s) image URLs; mixed"
        ),
    ],
    model: Annotated[
        str,
        typer.Option(
            "--model", "-m", help="weights .pt/.onnx, or a model name registered by `vigie train`"
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help=common.with_default("output folder", "detect.out")),
    ] = None,
    backend: Annotated[
        common.Backend | None,
        typer.Option(
            "--backend", help=common.with_default("onnx (fast CPU path) or torch", "detect.backend")
        ),
    ] = None,
    conf: common.ConfOption = None,
    iou: Annotated[
        float | None,
        typer.Option(
            "--iou", min=0.0, max=1.0, help=common.with_default("NMS IoU threshold", "detect.iou")
        ),
    ] = None,
    imgsz: Annotated[
        int | None,
        typer.Option(
            "--imgsz", min=32, help=common.with_default("network input size", "detect.imgsz")
        ),
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option("--classes", help="keep only these classes: ids or names, comma-separated"),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="also detect in sub-folders")
    ] = False,
    save_crops: Annotated[
        bool, typer.Option("--save-crops", help="write one image per box under crops/<class>/")
    ] = False,
    csv: Annotated[
        bool, typer.Option("--csv", help="write detections.csv, one row per box")
    ] = False,
    coco: Annotated[
        Path | None,
        typer.Option("--coco", help="also write the detections as a COCO results file"),
    ] = None,
    coco_gt: Annotated[
        Path | None,
        typer.Option(
            "--coco-gt", help="COCO dataset giving --coco its image and category ids", exists=True
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="study database URL: write rows into yolo_image_detection"),
    ] = None,
    device: common.DeviceOption = None,
    batch: Annotated[
        int | None,
        typer.Option(
            "--batch", min=1, help=common.with_default("images per inference call", "detect.batch")
        ),
    ] = None,
    no_images: Annotated[
        bool, typer.Option("--no-images", help="skip the annotated images")
    ] = False,
    every: Annotated[
        float,
        common.time_option(
            "--every",
            help="video sources: one frame every <time> (90, 1:30 or 0:01:30.5; 0 = every frame)"
            " [default: 1]",
            min=0.0,
        ),
    ] = 1.0,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="run on a Ray cluster: auto, HOST:PORT or ray://HOST:PORT"),
    ] = None,
) -> None:
    """Detect objects in every image of SOURCE: annotated images, JSON, catalog rows.

    Writes detections_images/ and detection_jsons/ (plus crops/ and detections.csv on request)
    under --out, records the images and boxes in the catalog, and with --db writes the rows
    into the study database's yolo_image_detection table (each image's media rows replaced).
    --coco FILE adds a COCO results file (ids from --coco-gt, else FILE.images.json beside it)
    that pycocotools' COCOeval scores. Exit code 3 when some images could not be read.

    Example: vigie detect images_53 --model traffic --csv --db mysql+pymysql://user@host/study
    Example: vigie detect clip.mp4 'shots/**/*.jpg' https://example.org/a.jpg --model traffic
    """
    from rich.table import Table

    from vigie.detect import detect as run_detect
    from vigie.detect.sources import estimate
    from vigie.frames import Selection

    cfg = common.settings(
        ctx,
        detect={
            "conf": conf,
            "iou": iou,
            "imgsz": imgsz,
            "backend": backend.value if backend is not None else None,
            "out": out,
            "batch": batch,
        },
        ray={"address": ray},
    )
    d = cfg.detect
    class_list: list[int | str] | None = (
        [c.strip() for c in classes.split(",") if c.strip()] if classes else None
    )
    total = estimate(source, recursive)
    catalog = common.open_catalog(cfg)
    try:
        with common.progress() as bar:
            task = bar.add_task("detect", total=total, rate="")
            result = run_detect(
                source,
                model=model,
                out=d.out,
                backend=d.backend,
                conf=d.conf,
                iou=d.iou,
                imgsz=d.imgsz,
                classes=class_list,
                device=common.run_device(device, d.backend, model),
                recursive=recursive,
                save_images=not no_images,
                save_crops=save_crops,
                csv=csv,
                coco=cfg.output_path(coco) if coco is not None else None,
                coco_gt=coco_gt,
                db_url=db,
                settings=cfg,
                catalog=catalog,
                batch=d.batch,
                on_progress=lambda n: bar.advance(task, n),
                frames=Selection("time", every) if every > 0 else Selection("all"),
                allow_private=cfg.allow_private_networks,
                ray=cfg.ray if cfg.ray.address else None,
            )
    finally:
        catalog.close()
    common.console.print(f"detections by {result.model} ({result.backend})", highlight=False)
    table = Table()
    table.add_column("class")
    table.add_column("boxes", justify="right")
    for name, count in result.per_class.most_common():
        table.add_row(name, str(count))
    table.add_row("[bold]all[/]", f"[bold]{result.detections}[/]")
    common.console.print(table)
    common.console.print(
        f"images: {result.images} (done {result.done}, failed {result.failed}) · "
        f"{result.ms_per_image:.1f} ms/image · outputs in {result.out}",
        highlight=False,
    )
    if result.csv is not None:
        common.console.print(f"csv: {result.csv}", highlight=False)
    if result.coco is not None:
        common.console.print(f"coco results: {result.coco}", highlight=False, soft_wrap=True)
    if db:
        common.console.print(f"study database: {result.study_rows} rows written", highlight=False)
    for path, error in result.failures:
        common.err_console.print(f"[yellow]skipped[/] {path}: {error}", highlight=False)
    common.exit_if_failed(result.failed, result.images, "images")
