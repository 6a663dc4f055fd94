"""``vigie labelstudio`` (alias ``vigie ls``): setup, push, pull.

Examples::

    vigie labelstudio setup --title "Lyon traffic" --labels Car,Pedestrian,Truck,Bus
    vigie ls push captures/CWL9018 --project 3 --max 500 --batch 50
    vigie ls push frames/ --project 3 --storage local-files --predictions best.pt
    vigie ls pull --project 3 --out labelled/
    vigie ls pull --export export.json --out labelled/ --no-download
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vigie.cli import common
from vigie.cli.common import console, exit_if_failed, open_catalog, progress, settings

URL_OPT = typer.Option("--url", help=common.with_default("Label Studio URL", "labelstudio.url"))


class Storage(StrEnum):
    upload = "upload"
    local_files = "local-files"


def register(app: typer.Typer) -> None:
    """Add the ``labelstudio`` group and its ``ls`` alias."""
    group = typer.Typer(
        help="Label Studio round trip: create a project, push images, pull YOLO labels.",
        no_args_is_help=True,
    )
    group.command("setup")(setup)
    group.command("push")(push)
    group.command("pull")(pull)
    app.add_typer(group, name="labelstudio")
    app.add_typer(group, name="ls", help="Alias of `vigie labelstudio`.")


def _labels(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [name.strip() for name in value.split(",")]


def setup(
    ctx: typer.Context,
    title: Annotated[str | None, typer.Option("--title", help="project title")] = None,
    labels: Annotated[
        str | None,
        typer.Option(
            "--labels",
            help=common.with_default(
                "comma-separated class names, in YOLO id order", "labelstudio.labels"
            ),
        ),
    ] = None,
    project: Annotated[int | None, typer.Option("--project", help="reuse this project id")] = None,
    url: Annotated[str | None, URL_OPT] = None,
) -> None:
    """Create a RectangleLabels project, or reuse the one with this id or title (idempotent)."""
    from vigie.errors import ConfigError
    from vigie.labelstudio import connect, setup_project

    if title is None and project is None:
        raise ConfigError("give --title or --project", hint="e.g. --title 'Lyon traffic'")
    cfg = settings(ctx, labelstudio={"url": url, "labels": _labels(labels)})
    with connect(cfg) as client:
        info = setup_project(client, title=title, labels=cfg.labelstudio.labels, project_id=project)
    state = "created" if info.created else ("updated" if info.updated else "reused")
    console.print(
        f"project [bold]{info.id}[/] ({info.title}) {state}: {len(info.config.labels)} labels: "
        + ", ".join(info.config.labels),
        highlight=False,
    )


def push(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="folder of images", exists=True, file_okay=False)],
    project: Annotated[int, typer.Option("--project", help="target project id")],
    max_items: Annotated[
        int | None, typer.Option("--max", min=1, help="import at most N new images this run")
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option(
            "--batch",
            min=1,
            help=common.with_default("images per import request", "labelstudio.batch"),
        ),
    ] = None,
    storage: Annotated[
        Storage, typer.Option("--storage", help="how Label Studio gets the images")
    ] = Storage.upload,
    predictions: Annotated[
        str | None,
        typer.Option(
            "--predictions",
            help="model (.pt, or a name registered by `vigie train`) whose boxes become "
            "pre-annotations",
        ),
    ] = None,
    conf: common.ConfOption = None,
    device: common.DeviceOption = None,
    document_root: Annotated[
        Path | None,
        typer.Option("--document-root", help="LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT"),
    ] = None,
    url: Annotated[str | None, URL_OPT] = None,
) -> None:
    """Import the images of FOLDER as tasks, each image once (tracked in the catalog)."""
    from rich.table import Table

    from vigie.labelstudio import Predictor, connect
    from vigie.labelstudio import push as do_push

    cfg = settings(
        ctx,
        labelstudio={"url": url, "batch": batch, "local_files_document_root": document_root},
        detect={"conf": conf},
    )
    cat = open_catalog(cfg)
    try:
        predictor = (
            Predictor.from_model(
                predictions,
                conf=cfg.detect.conf,
                catalog=cat,
                device=common.run_device(device, "torch"),
            )
            if predictions
            else None
        )
        with connect(cfg) as client, progress() as bar:
            task = bar.add_task("push", total=None, rate="")

            def advance(n: int) -> None:
                bar.advance(task, n)

            result = do_push(
                client,
                cat,
                folder,
                project,
                storage=storage.value,
                max_items=max_items,
                predictor=predictor,
                settings=cfg,
                on_progress=advance,
            )
    finally:
        cat.close()
    table = Table(title=f"push to project {project} ({storage})")
    for col in ("found", "imported", "already there", "failed", "reconciled", "predictions"):
        table.add_column(col, justify="right")
    table.add_row(
        str(result.found),
        str(result.imported),
        str(result.skipped),
        str(result.failed),
        str(result.reconciled),
        str(result.predictions),
    )
    console.print(table)
    if result.left_for_later:
        console.print(f"{result.left_for_later} images left for a later run (--max)")
    for path, why in result.failures[:20]:
        console.print(f"failed: {path}: {why}", highlight=False)
    exit_if_failed(result.failed, result.found, "images")


def pull(
    ctx: typer.Context,
    project: Annotated[int | None, typer.Option("--project", help="project id")] = None,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export", help="a JSON or JSON_MIN export file", exists=True, dir_okay=False
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help=common.with_default(
                "folder of images/ and labels/ (the seed's: images_labels)", "labelstudio.pull_out"
            ),
        ),
    ] = None,
    images_dir: Annotated[
        str | None,
        typer.Option(
            "--images-dir",
            help=common.with_default(
                "sub-folder of the images; '.' puts them in --out itself, as the seed's "
                "images_labels/",
                "labelstudio.pull_images_dir",
            ),
        ),
    ] = None,
    download: Annotated[
        bool, typer.Option("--download/--no-download", help="also get the images")
    ] = True,
    snapshot: Annotated[
        bool, typer.Option("--snapshot", help="read the project through an export snapshot")
    ] = False,
    labels: Annotated[
        str | None,
        typer.Option("--labels", help="class names in order (default: the project's config)"),
    ] = None,
    document_root: Annotated[
        Path | None,
        typer.Option("--document-root", help="read local-files images from this folder"),
    ] = None,
    media_root: Annotated[
        Path | None,
        typer.Option(
            "--media-root",
            help=common.with_default(
                "Label Studio's media folder (<its data dir>/media) when the server runs on "
                "this machine: uploaded images are read from it, not over HTTP",
                "labelstudio.media_root",
            ),
        ),
    ] = None,
    url: Annotated[str | None, URL_OPT] = None,
) -> None:
    """Write annotated images to OUT/images and one YOLO label file each to OUT/labels."""
    from rich.table import Table

    from vigie.errors import ConfigError
    from vigie.labelstudio import LabelStudioClient, connect
    from vigie.labelstudio import pull as do_pull

    if (project is None) == (export is None):
        raise ConfigError("give exactly one of --project and --export")
    cfg = settings(
        ctx,
        labelstudio={
            "url": url,
            "local_files_document_root": document_root,
            "media_root": media_root,
            "pull_out": out,
            "pull_images_dir": images_dir,
        },
    )
    out = cfg.labelstudio.pull_out
    names = _labels(labels) or (cfg.labelstudio.labels if export is not None else None)
    need_server = project is not None or (download and cfg.labelstudio_token is not None)
    client: LabelStudioClient | None = connect(cfg) if need_server else None
    cat = open_catalog(cfg)
    try:
        with progress() as bar:
            task = bar.add_task("pull", total=None, rate="")
            result = do_pull(
                out,
                client=client,
                project_id=project,
                export_file=export,
                labels=names,
                download=download,
                snapshot=snapshot,
                settings=cfg,
                catalog=cat,
                on_total=lambda n: bar.update(task, total=n),
                on_progress=lambda n: bar.advance(task, n),
            )
    finally:
        cat.close()
        if client is not None:
            client.close()
    table = Table(title=f"pull -> {out}")
    for col in ("tasks", "labelled", "labels", "downloaded", "present", "failed", "malformed"):
        table.add_column(col, justify="right")
    table.add_row(
        str(result.tasks),
        str(result.labelled),
        str(result.labels_written),
        str(result.downloaded),
        str(result.present),
        str(result.failed),
        str(len(result.malformed)),
    )
    console.print(table)
    if client is not None and result.downloaded and cfg.labelstudio.media_root is None:
        from vigie.labelstudio.pull import local_media_root

        found = local_media_root(client.url)
        if found is not None:
            console.print(
                f"hint: Label Studio runs on this machine: --media-root {found} reads its "
                "images from disk, without one request each",
                highlight=False,
            )
    if result.unannotated or result.cancelled:
        console.print(
            f"not annotated: {result.unannotated}, only cancelled annotations: {result.cancelled}"
        )
    for where, why in result.malformed[:20]:
        console.print(f"malformed: {where}: {why}", highlight=False)
    if download and result.failed:
        console.print(
            f"images not downloaded: {result.failed}/{result.labelled} "
            f"({result.labelled - result.failed}/{result.labelled} ok)",
            highlight=False,
        )
        for name, why in result.failures[:20]:
            console.print(f"failed: {name}: {why}", highlight=False)
    exit_if_failed(result.failed + len(result.malformed), result.tasks, "tasks")
