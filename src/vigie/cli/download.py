"""``vigie download``: fetch a study's media or any URL list (registered by vigie.cli.app)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigie.cli import common

if TYPE_CHECKING:
    from vigie.download import DownloadResult


class Purpose(StrEnum):
    dataset = "dataset"
    media_analysis = "media_analysis"


def register(app: typer.Typer) -> None:
    """Add ``download`` to the root app."""
    app.command("download")(download)


def download(
    ctx: typer.Context,
    study: Annotated[
        int | None, typer.Option("--study", help="study id (its links in the catalog)", min=0)
    ] = None,
    purpose: Annotated[
        Purpose | None,
        typer.Option(
            "--purpose",
            help="dataset (default with --study, as the seed): frames of short videos, long ones "
            "to videos_to_be_cut/; media_analysis (default for --urls alone): files only",
            show_default=False,
        ),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(
            "--manifest",
            help="manifest from `vigie links` (JSONL or CSV)",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    urls: Annotated[
        Path | None,
        typer.Option("--urls", help="file of URLs, one per line", exists=True, dir_okay=False),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help=common.with_default("target folder", "download.out")),
    ] = None,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed",
            help="retry only the failed items: the catalog's and those of errors_<study>.log "
            "in --out (.mp4 -> .jpg fallback)",
        ),
    ] = False,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            help=common.with_default("downloads at once", "download.concurrency"),
            min=1,
        ),
    ] = None,
    per_host: Annotated[
        int | None,
        typer.Option(
            "--per-host",
            help=common.with_default("downloads at once per host", "download.per_host"),
            min=1,
        ),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(
            "--retries",
            help=common.with_default("retries of transient errors", "download.retries"),
            min=0,
        ),
    ] = None,
    frame_threshold: Annotated[
        int | None,
        typer.Option(
            "--frame-threshold",
            help=common.with_default(
                "dataset: longest video cut into frames", "download.frame_threshold"
            ),
            min=1,
        ),
    ] = None,
    allow_private_networks: Annotated[
        bool | None,
        typer.Option(
            "--allow-private-networks",
            help=common.with_default(
                "allow loopback/private/link-local addresses (LAN mirrors, tests)",
                "allow_private_networks",
            ),
        ),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="run on a Ray cluster: auto, HOST:PORT or ray://HOST:PORT"),
    ] = None,
) -> None:
    """Download media concurrently, validated, resumably; failures are recorded, not fatal.

    Files are named from the manifest (<study>_<publication>_<platform>.<ext>) or, for a URL
    list, after the URL's last path segment. Each file is written as .part and renamed only once
    complete and decoded. A rerun skips what is done; --retry-failed retries only the failures,
    from the catalog or from the failure logs errors_<study>.log / errors_<study>.jsonl in --out
    (which list exactly what still fails). Exit code 3 when some items failed.

    Examples:

        vigie download --study 53 --purpose dataset --manifest links_53_links.jsonl --out data

        vigie download --study 53 --retry-failed --out data

        vigie download --urls urls.txt --out downloads
    """
    from vigie.download import download as run_download

    cfg = common.settings(
        ctx,
        allow_private_networks=True if allow_private_networks else None,
        download={
            "out": out,
            "concurrency": concurrency,
            "per_host": per_host,
            "retries": retries,
            "frame_threshold": frame_threshold,
        },
        ray={"address": ray},
    )
    cat = common.open_catalog(cfg)
    try:
        with common.progress() as bar:
            task = bar.add_task("download", total=None, rate="")
            done = [0]

            def on_total(n: int) -> None:
                bar.update(task, total=n)

            def on_item(item: Any) -> None:
                done[0] += 1
                elapsed = bar.elapsed(task)
                rate = f"{done[0] / elapsed:.0f} files/s" if elapsed > 0 else ""
                failed = int(str(getattr(item, "status", "")) == "failed")
                bar.update(task, advance=1, failed=failed, rate=rate)

            result = run_download(
                study=study,
                purpose=purpose.value if purpose is not None else None,
                manifest=manifest,
                urls=urls,
                retry_failed=retry_failed,
                settings=cfg,
                catalog=cat,
                on_item=on_item,
                on_total=on_total,
            )
    finally:
        cat.close()
    _summary(result)
    common.exit_if_failed(result.failed, result.total, "downloads")


def _summary(result: DownloadResult) -> None:
    from rich.table import Table

    table = Table(title=f"download {result.label}")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("input items", str(result.total))
    table.add_row("done", str(result.done))
    table.add_row("skipped (already done, duplicates)", str(result.skipped))
    table.add_row("failed", str(result.failed))
    for reason, n in result.failures.most_common():
        table.add_row(f"  failed: {reason}", str(n))
    table.add_row("bytes", f"{result.bytes:,}")
    table.add_row("files/s", f"{result.files_per_second:.1f}")
    if result.frames or result.videos_to_cut:
        table.add_row("frames of short videos", str(result.frames))
        table.add_row("videos moved to videos_to_be_cut", str(result.videos_to_cut))
    common.console.print(table)
    if result.failed:
        common.console.print(f"failures: {result.error_log} (retry with --retry-failed)")
