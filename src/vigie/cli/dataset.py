"""``vigie dataset``: build a YOLO dataset from pulled annotations, and check one.

Examples::

    vigie dataset build labelled/ --out dataset/ --val 0.2 --seed 0
    vigie dataset check dataset/
    vigie dataset check labelled/ --warn-only
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigie.cli.common import console, open_catalog, settings


def register(app: typer.Typer) -> None:
    """Add the ``dataset`` group."""
    group = typer.Typer(help="YOLO datasets: build train/val with a group-aware split, check.")
    group.command("build")(build)
    group.command("check")(check)
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
    out: Annotated[Path, typer.Option("--out", help="dataset folder to write")] = Path("dataset"),
    val: Annotated[
        float | None, typer.Option("--val", min=0.0, max=0.99, help="fraction of images in val")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="split seed")] = None,
    dedup_threshold: Annotated[
        int | None,
        typer.Option("--dedup-threshold", help="hamming distance of near-duplicates; -1 = off"),
    ] = None,
    names: Annotated[
        str | None, typer.Option("--names", help="class names in order (default: classes.txt)")
    ] = None,
    manifest: Annotated[
        list[Path] | None,
        typer.Option("--frames-manifest", help="frame manifest(s) of `vigie frames` (repeatable)"),
    ] = None,
    hash_method: Annotated[
        str | None,
        typer.Option("--hash", help="near-duplicate hash: ahash | phash | dhash [default: phash]"),
    ] = None,
    copy: Annotated[bool, typer.Option("--copy", help="copy images instead of hard links")] = False,
) -> None:
    """Split SOURCE into train/val (near-duplicates and frames of one video stay together)."""
    from rich.table import Table

    from vigie.dataset import build_dataset
    from vigie.errors import ConfigError

    if hash_method not in (None, "ahash", "phash", "dhash"):
        raise ConfigError(f"unknown --hash {hash_method!r}", hint="use ahash, phash or dhash")
    cfg = settings(
        ctx,
        dataset={
            "val_fraction": val,
            "seed": seed,
            "dedup_threshold": dedup_threshold,
            "hash_method": hash_method,
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
