"""``vigie dataset``: build a YOLO dataset from pulled annotations, check, export and import one.

Examples::

    vigie dataset build labelled/ --out dataset/ --val 0.2 --seed 0
    vigie dataset check dataset/
    vigie dataset check labelled/ --warn-only
    vigie dataset export dataset/ --format coco --out dataset-coco/
    vigie dataset import cvat-export/ --format voc --out dataset-from-voc/
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vigie.cli import common
from vigie.cli.common import console, err_console, open_catalog, settings

if TYPE_CHECKING:
    from vigie.dataset import ConvertResult


class Format(StrEnum):
    coco = "coco"
    voc = "voc"
    yolo = "yolo"


def register(app: typer.Typer) -> None:
    """Add the ``dataset`` group."""
    group = typer.Typer(
        help="YOLO datasets: build train/val with a group-aware split, check, export to and "
        "import from COCO / Pascal VOC."
    )
    group.command("build")(build)
    group.command("check")(check)
    group.command("export")(export)
    group.command("import")(import_)
    app.add_typer(group, name="dataset", no_args_is_help=True)


def build(
    ctx: typer.Context,
    source: Annotated[
        Path,
        typer.Argument(
            help="folder with images/ and labels/ (from `vigie ls pull`)",
            exists=True,
            file_okay=False,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="dataset folder to write")] = Path(
        "dataset"
    ),
    val: Annotated[
        float | None,
        typer.Option(
            "--val",
            min=0.0,
            max=0.99,
            help=common.with_default("fraction of images in val", "dataset.val_fraction"),
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help=common.with_default("split seed", "dataset.seed"))
    ] = None,
    dedup_threshold: Annotated[
        int | None,
        typer.Option(
            "--dedup-threshold",
            help=common.with_default(
                "hamming distance of near-duplicates; -1 = off", "dataset.dedup_threshold"
            ),
        ),
    ] = None,
    names: Annotated[
        str | None, typer.Option("--names", help="class names in order (default: classes.txt)")
    ] = None,
    manifest: Annotated[
        list[Path] | None,
        typer.Option("--frames-manifest", help="frame manifest(s) of `vigie frames` (repeatable)"),
    ] = None,
    hash_method: Annotated[
        common.HashMethod | None,
        typer.Option(
            "--hash", help=common.with_default("near-duplicate hash", "dataset.hash_method")
        ),
    ] = None,
    copy: Annotated[bool, typer.Option("--copy", help="copy images instead of hard links")] = False,
) -> None:
    """Split SOURCE into train/val (near-duplicates and frames of one video stay together)."""
    from rich.table import Table

    from vigie.dataset import build_dataset

    cfg = settings(
        ctx,
        dataset={
            "val_fraction": val,
            "seed": seed,
            "dedup_threshold": dedup_threshold,
            "hash_method": hash_method.value if hash_method is not None else None,
        },
    )
    cat = open_catalog(cfg)
    try:
        with cat.run("dataset build", cfg.safe_dump()) as run:
            result = build_dataset(
                source,
                cfg.output_path(out),
                names=[n.strip() for n in names.split(",")] if names else None,
                val_fraction=cfg.dataset.val_fraction,
                seed=cfg.dataset.seed,
                dedup_threshold=cfg.dataset.dedup_threshold,
                hash_method=cfg.dataset.hash_method,
                frame_manifests=manifest or [],
                catalog=cat,
                link=not copy,
            )
            run.counts.done = result.train + result.val
            run.counts.skipped = len(result.unlabelled)
            run.counts.failed = len(result.unreadable)
    finally:
        cat.close()
    table = Table(title=f"dataset {out}")
    for col in (
        "train",
        "val",
        "groups",
        "grouped images",
        "unlabelled (left out)",
        "orphan labels",
        "unreadable (left out)",
    ):
        table.add_column(col, justify="right")
    table.add_row(
        str(result.train),
        str(result.val),
        str(result.groups),
        str(result.grouped_images),
        str(len(result.unlabelled)),
        str(len(result.orphan_labels)),
        str(len(result.unreadable)),
    )
    console.print(table)
    for name, why in result.unreadable[:10]:
        console.print(f"unreadable: {name}: {why}", highlight=False, markup=False)
    console.print(f"classes: {', '.join(result.names)}; data.yaml: {result.data_yaml}")


def check(
    ctx: typer.Context,
    root: Annotated[
        Path,
        typer.Argument(help="dataset folder (train/val or flat)", exists=True, file_okay=False),
    ],
    names: Annotated[
        str | None, typer.Option("--names", help="class names (default: data.yaml/classes.txt)")
    ] = None,
    warn_only: Annotated[
        bool, typer.Option("--warn-only", help="exit 0 even when errors are found")
    ] = False,
    show: Annotated[int, typer.Option("--show", help="problems to list")] = 20,
) -> None:
    """Report missing or orphan labels, empty labels, bad boxes and class counts per split.

    Exit code 1 when an error is found (unless --warn-only); warnings never fail.
    """
    from rich.table import Table

    from vigie.dataset import check_dataset

    report = check_dataset(root, [n.strip() for n in names.split(",")] if names else None)
    splits = list(report.class_counts)
    counts = Table(title=f"boxes per class in {root}")
    counts.add_column("class")
    for split in splits:
        counts.add_column(split, justify="right")
    ids = sorted(
        {c for s in splits for c in report.class_counts[s]} | set(range(len(report.names)))
    )
    for cid in ids:
        label = report.names[cid] if cid < len(report.names) else f"#{cid}"
        counts.add_row(label, *(str(report.class_counts[s][cid]) for s in splits))
    counts.add_row("[bold]images[/]", *(str(report.images[s]) for s in splits))
    console.print(counts)
    summary = Table(title="problems")
    summary.add_column("problem")
    summary.add_column("count", justify="right")
    for kind in (
        "image without label",
        "label without image",
        "empty label",
        "box out of bounds",
        "malformed",
        "unknown class",
    ):
        summary.add_row(kind, str(report.count(kind)))
    console.print(summary)
    for issue in report.issues[:show]:
        console.print(
            f"{issue.severity}: {issue.split}/{issue.file}: {issue.message}", highlight=False
        )
    console.print(f"{len(report.errors)} errors, {len(report.warnings)} warnings")
    if report.errors and not warn_only:
        raise typer.Exit(1)


def _names(names: str | None) -> list[str] | None:
    return [n.strip() for n in names.split(",") if n.strip()] if names else None


def _summary(result: ConvertResult, show: int) -> None:
    splits = ", ".join(f"{k} {v}" for k, v in result.splits.items())
    console.print(
        f"{result.format}: {result.images} images ({splits}), {result.boxes} boxes, "
        f"{len(result.names)} classes -> {result.out}",
        highlight=False,
    )
    for file in result.files[:3]:
        console.print(f"  {file}", highlight=False, markup=False)
    for problem in result.problems[:show]:
        err_console.print(f"warning: {problem}", highlight=False, markup=False)
    if len(result.problems) > show:
        err_console.print(f"... and {len(result.problems) - show} more warnings", highlight=False)


def export(
    ctx: typer.Context,
    source: Annotated[
        Path,
        typer.Argument(help="a YOLO dataset (built or pulled)", exists=True, file_okay=False),
    ],
    format: Annotated[Format, typer.Option("--format", "-f", help="format to write")],
    out: Annotated[Path, typer.Option("--out", "-o", help="folder to write")],
    names: Annotated[
        str | None, typer.Option("--names", help="class names in id order (default: data.yaml)")
    ] = None,
    copy: Annotated[bool, typer.Option("--copy", help="copy images instead of hard links")] = False,
    show: Annotated[int, typer.Option("--show", help="warnings to list")] = 20,
) -> None:
    """Write the YOLO dataset SOURCE as COCO JSON, Pascal VOC XML or YOLO, class ids kept.

    coco: annotations/instances_<split>.json + images/<split>/; voc: Annotations/, JPEGImages/,
    ImageSets/Main/<split>.txt, classes.txt; yolo: images/, labels/, data.yaml.
    """
    from vigie.dataset import export_dataset

    target = settings(ctx).output_path(out)  # the output rule: a relative --out in the workspace
    result = export_dataset(source, target, format=format.value, names=_names(names), link=not copy)
    _summary(result, show)


def import_(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="COCO JSON file or folder, VOC folder, YOLO folder", exists=True)
    ],
    format: Annotated[Format, typer.Option("--format", "-f", help="format of PATH")],
    out: Annotated[Path, typer.Option("--out", "-o", help="YOLO dataset folder to write")],
    images: Annotated[
        Path | None,
        typer.Option("--images", help="COCO: folder of the images (default: found near the JSON)"),
    ] = None,
    names: Annotated[
        str | None,
        typer.Option("--names", help="VOC/YOLO class names in id order (default: classes.txt)"),
    ] = None,
    renumber: Annotated[
        bool,
        typer.Option("--renumber", help="number classes 0..n-1 (COCO ids 1..n or with gaps)"),
    ] = False,
    copy: Annotated[bool, typer.Option("--copy", help="copy images instead of hard links")] = False,
    show: Annotated[int, typer.Option("--show", help="warnings to list")] = 20,
) -> None:
    """Turn a COCO, Pascal VOC or YOLO dataset at PATH into a YOLO dataset under --out.

    Class ids are kept (COCO category ids, VOC classes.txt order); items that cannot be used
    (missing image, unknown category, box out of the image) are warnings, not failures.
    """
    from vigie.dataset import import_dataset

    result = import_dataset(
        path,
        settings(ctx).output_path(out),
        format=format.value,
        names=_names(names),
        images=images,
        renumber_ids=renumber,
        link=not copy,
    )
    _summary(result, show)
