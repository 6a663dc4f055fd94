"""``vigie train`` and ``vigie models`` (registered by vigie.cli.app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigie.cli import common


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``models`` to the root app."""
    app.command("train")(train)
    app.command("models")(models)


def _parse_args(pairs: list[str] | None) -> dict[str, object]:
    import yaml

    from vigie.errors import ConfigError

    out: dict[str, object] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"bad --arg {pair!r}", hint="use --arg key=value, e.g. --arg lr0=0.01"
            )
        out[key.strip()] = yaml.safe_load(value)
    return out


def train(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", "-d", help="the dataset's data.yaml")],
    name: Annotated[
        str, typer.Option("--name", "-n", help="run folder and name in the model registry")
    ],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help=common.with_default(
                "base weights .pt, a registered name, or a YAML (from scratch)", "train.model"
            ),
        ),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option("--epochs", min=1, help=common.with_default("epochs", "train.epochs")),
    ] = None,
    imgsz: Annotated[
        int | None,
        typer.Option("--imgsz", min=32, help=common.with_default("input size", "train.imgsz")),
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option("--batch", min=1, help=common.with_default("images per batch", "train.batch")),
    ] = None,
    device: common.DeviceOption = None,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project", help=common.with_default("folder of training runs", "train.project")
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="continue the interrupted run --name")
    ] = False,
    workers: Annotated[int, typer.Option("--workers", min=0, help="data loader workers")] = 2,
    plots: Annotated[
        bool | None,
        typer.Option(
            "--plots/--no-plots",
            help=common.with_default(
                "keep results.png, the confusion matrix and PR curves (shown by `vigie report`)",
                "train.plots",
            ),
        ),
    ] = None,
    args: Annotated[
        list[str] | None,
        typer.Option("--arg", help="any other ultralytics argument, key=value (repeatable)"),
    ] = None,
) -> None:
    """Fine-tune YOLO on a dataset, validate the best weights, register the model.

    Prints precision, recall, mAP50 and mAP50-95 per class with start, end and duration; the
    model is then usable as `vigie detect --model NAME`.
    """
    from rich.table import Table

    from vigie.train import train as run_train

    cfg = common.settings(
        ctx,
        train={
            "model": model,
            "epochs": epochs,
            "imgsz": imgsz,
            "batch": batch,
            "device": device,
            "project": project,
            "plots": plots,
        },
    )
    t = cfg.train
    catalog = common.open_catalog(cfg)
    try:
        result = run_train(
            data,
            model=t.model,
            name=name,
            epochs=t.epochs,
            imgsz=t.imgsz,
            batch=t.batch,
            device=common.run_device(t.device, "torch"),
            project=t.project,
            resume=resume,
            workers=workers,
            plots=t.plots,
            overrides=_parse_args(args),
            catalog=catalog,
        )
    finally:
        catalog.close()
    table = Table(title=f"validation of {result.name} ({result.weights.name})")
    for col in ("class", "images", "instances", "precision", "recall", "mAP50", "mAP50-95"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for m in [result.overall, *result.per_class]:
        table.add_row(
            m.name,
            "-" if m.images is None else str(m.images),
            "-" if m.instances is None else str(m.instances),
            f"{m.precision:.3f}",
            f"{m.recall:.3f}",
            f"{m.map50:.3f}",
            f"{m.map50_95:.3f}",
        )
    common.console.print(table)
    common.console.print(
        f"start {result.started_at:%Y-%m-%d %H:%M:%S} · end {result.ended_at:%Y-%m-%d %H:%M:%S}"
        f" · duration {result.duration:.1f} s",
        highlight=False,
    )
    common.console.print(
        f"registered '{result.name}': {result.weights}", highlight=False, soft_wrap=True
    )
    if result.plots:
        common.console.print(
            f"plots: {', '.join(result.plots)} in {result.run_dir}", highlight=False, soft_wrap=True
        )


def models(ctx: typer.Context) -> None:
    """List the models registered by `vigie train` (name, weights, dataset, mAP50-95)."""
    from rich.table import Table

    from vigie.catalog.models import list_models

    cfg = common.settings(ctx)
    catalog = common.open_catalog(cfg)
    try:
        rows = list_models(catalog)
    finally:
        catalog.close()
    table = Table(title="registered models")
    for col in ("name", "mAP50-95", "classes", "weights", "created"):
        table.add_column(col)
    for r in rows:
        overall = (r.metrics or {}).get("all", {})
        score = overall.get("mAP50-95")
        table.add_row(
            r.name,
            "-" if score is None else f"{score:.3f}",
            str(len(r.classes or {})),
            r.weights,
            f"{r.created_at:%Y-%m-%d %H:%M}",
        )
    common.console.print(table)
