"""CLI commands of the capture stage: ``vigie capture``, ``vigie cameras list``, ``vigie dedup``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vigie.cli import common
from vigie.cli.common import HashMethod
from vigie.cli.serve import dashboard_beside


class Clock(StrEnum):
    utc = "utc"
    local = "local"


class SourceKind(StrEnum):
    auto = "auto"
    snapshot = "snapshot"
    hls = "hls"
    rtsp = "rtsp"
    mjpeg = "mjpeg"


def register(app: typer.Typer) -> None:
    """Add ``capture``, the ``cameras`` group and ``dedup`` to the root app."""
    app.command("capture")(capture)
    cameras = typer.Typer(help="The camera registry (Grand Lyon CRITER open data).")
    cameras.command("list")(cameras_list)
    app.add_typer(cameras, name="cameras")
    app.command("dedup")(dedup)


def capture(
    ctx: typer.Context,
    url: Annotated[
        list[str] | None,
        typer.Option(
            "--url",
            help="snapshot, HLS (.m3u8), MJPEG or rtsp:// URL (repeat for several cameras); default IMAGE_URL",
        ),
    ] = None,
    camera: Annotated[
        list[str] | None,
        typer.Option(
            "--camera",
            help="folder name of the --url (repeat, same order), or a camera to pick from --cameras",
        ),
    ] = None,
    cameras: Annotated[
        str | None,
        typer.Option(
            "--cameras",
            help="camera list: a text/CSV file (NAME URL per line) or the Grand Lyon GeoJSON (file or URL)",
        ),
    ] = None,
    every: Annotated[
        float | None,
        common.time_option(
            "--every",
            help=common.with_default("time between polls: 60, 1:00 or 0:01:00", "capture.every"),
            min=0.001,
        ),
    ] = None,
    count: Annotated[
        int | None,
        typer.Option(
            "--count",
            help=common.with_default("polls per camera, 0 = until stopped", "capture.count"),
            min=0,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help=common.with_default("folder of camera folders", "capture.out")
        ),
    ] = None,
    camera_folders: Annotated[
        bool | None,
        typer.Option(
            "--camera-folders/--no-camera-folders",
            help=common.with_default(
                "one sub-folder per camera; --no-camera-folders writes one camera's files "
                "straight into --out, as the seed's images/",
                "capture.camera_folders",
            ),
        ),
    ] = None,
    hash_method: Annotated[
        HashMethod | None,
        typer.Option("--hash", help=common.with_default("perceptual hash", "capture.hash")),
    ] = None,
    threshold: Annotated[
        int | None,
        typer.Option(
            "--threshold",
            help=common.with_default("max hash distance of 'same picture'", "capture.threshold"),
            min=0,
        ),
    ] = None,
    timezone: Annotated[
        Clock | None,
        typer.Option(
            "--timezone", help=common.with_default("clock of the file names", "capture.timezone")
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        common.time_option(
            "--timeout", help=common.with_default("time per request", "capture.timeout"), min=0.001
        ),
    ] = None,
    kind: Annotated[
        SourceKind | None,
        typer.Option(
            "--kind",
            help=common.with_default(
                "what the URLs serve; auto: rtsp://, .m3u8, else the Content-Type", "capture.kind"
            ),
        ),
    ] = None,
    serve: Annotated[
        int | None,
        typer.Option(
            "--serve", help="also serve the dashboard (vigie serve) on this port", min=0, max=65535
        ),
    ] = None,
) -> None:
    """Poll camera snapshot URLs or live streams on a fixed schedule; keep each new picture once.

    Files are named YYYYmmddHHMMSS.jpg (UTC unless --timezone local) in OUT/<camera>/ (in OUT
    itself with --no-camera-folders). A frame identical to the previous one (same bytes, or hash
    distance <= --threshold) is not kept. Ctrl-C or SIGTERM stops cleanly; a rerun continues
    after the last kept frame. Exit code 3 when some polls failed.
    A stream (HLS, RTSP, MJPEG) gives its latest frame at each tick; a dropped stream is
    reopened with backoff and never stops the run.

    Examples:

        vigie capture --url http://192.168.1.20/snapshot.jpg --camera gate --every 60 --count 50

        vigie capture --cameras cameras.geojson --camera CWL9018 --every 60 --count 0

        vigie capture --url rtsp://192.168.1.30/stream1 --camera yard --every 10

    With --serve PORT the dashboard (vigie serve) runs beside the capture until it stops.
    """
    from vigie.capture import capture as run_capture
    from vigie.capture import load_cameras, select_cameras

    cfg = common.settings(
        ctx,
        capture={
            "every": every,
            "count": count,
            "out": out,
            "camera_folders": camera_folders,
            "hash": hash_method.value if hash_method else None,
            "threshold": threshold,
            "timezone": timezone.value if timezone else None,
            "timeout": timeout,
            "kind": kind.value if kind else None,
        },
    )
    names = list(camera or [])
    registry = []
    if cameras:
        registry = load_cameras(cameras, timeout=cfg.capture.timeout)
        if names and not url:
            registry = select_cameras(registry, names)
            names = []
    cat = common.open_catalog(cfg)
    total = cfg.capture.count * (len(registry) + len(url or []) or 1) or None
    dashboard = None
    try:
        dashboard = dashboard_beside(cfg, serve)
        with common.progress() as bar:
            task = bar.add_task("capture", total=total, rate="")

            def on_poll(stats: object, outcome: str) -> None:
                bar.update(task, advance=1, failed=int(outcome == "failed"), rate=outcome)

            result = run_capture(
                list(url or []),
                names=names,
                cameras=registry,
                settings=cfg,
                catalog=cat,
                on_poll=on_poll,
            )
    finally:
        cat.close()
        if dashboard is not None:
            dashboard.stop()
    _print_capture_summary(result)
    polls = sum(c.polls for c in result.cameras)
    common.exit_if_failed(sum(c.failed for c in result.cameras), polls, "polls")


def _print_capture_summary(result: object) -> None:
    from rich.table import Table

    from vigie.capture import CaptureResult

    assert isinstance(result, CaptureResult)
    table = Table(
        title=f"capture run {result.run_id}" + (" (stopped)" if result.interrupted else "")
    )
    for col in ("camera", "polls", "kept", "duplicates", "failed", "failures", "folder"):
        table.add_column(col)
    for c in result.cameras:
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(c.failures.items())) or "-"
        reasons += f" ({c.kind}, reopened {c.reopens}x)" if c.reopens else ""
        table.add_row(
            c.name,
            str(c.polls),
            str(c.kept),
            str(c.duplicates),
            str(c.failed),
            reasons,
            str(c.folder),
        )
    common.console.print(table)


def cameras_list(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Option("--source", help="feed URL or file (default Grand Lyon CRITER open data)"),
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", help="keep cameras whose name or place contains it")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """List the traffic cameras of the Grand Lyon open-data feed (or another camera list).

    Examples:

        vigie cameras list --search "Croix Rousse"

        vigie cameras list --source grandlyon-criter-cameras.geojson --json
    """
    import json

    from vigie.capture import list_cameras

    cfg = common.settings(ctx)
    cams = list_cameras(source or cfg.capture.cameras_source, search, timeout=30.0)
    if as_json:
        typer.echo(json.dumps([c.as_dict() for c in cams], ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"{len(cams)} cameras")
    for col in ("name", "label", "place", "direction", "lon", "lat", "url"):
        table.add_column(col, overflow="fold")
    for c in cams:
        table.add_row(
            c.name,
            c.label or "-",
            c.description or "-",
            c.observation or "-",
            f"{c.lon:.5f}" if c.lon is not None else "-",
            f"{c.lat:.5f}" if c.lat is not None else "-",
            c.url,
        )
    common.console.print(table)


def dedup(
    ctx: typer.Context,
    folder: Annotated[
        Path, typer.Argument(help="folder of images", exists=True, file_okay=False, dir_okay=True)
    ],
    threshold: Annotated[
        int, typer.Option("--threshold", help="max hash distance of 'same picture'", min=0)
    ] = 0,
    move_to: Annotated[
        Path | None,
        typer.Option("--move-to", help="move duplicates there (nothing is ever deleted)"),
    ] = None,
    hash_method: Annotated[
        HashMethod, typer.Option("--hash", help="perceptual hash")
    ] = HashMethod.ahash,
    recursive: Annotated[
        bool, typer.Option("--recursive/--no-recursive", "-r", help="scan sub-folders")
    ] = True,
    consecutive: Annotated[
        bool,
        typer.Option(
            "--consecutive",
            help="compare each frame only with the last kept one, in name order (capture rule)",
        ),
    ] = False,
    show: Annotated[int, typer.Option("--show", help="groups to list in the table", min=0)] = 20,
) -> None:
    """Group near-duplicate images across a whole folder; optionally move duplicates aside.

    The oldest image of each group is kept in place. Without --move-to nothing is changed.
    With --consecutive, frames are taken in name order and a frame is a duplicate of the last
    kept frame of its folder, as `vigie capture` decides (e.g. to clean a seed capture folder).

    Examples:

        vigie dedup captures/CWL9018 --threshold 2

        vigie dedup captures/CWL9018 --threshold 2 --move-to duplicates

        vigie dedup images --consecutive --move-to images-duplicates
    """
    from rich.table import Table

    from vigie.dedup import find_duplicates, list_images

    cfg = common.settings(ctx)
    cat = common.open_catalog(cfg)
    try:
        with cat.run("dedup", {**cfg.safe_dump(), "folder": str(folder)}) as run:
            total = len(list_images(folder, recursive, exclude=move_to))
            with common.progress() as bar:
                task = bar.add_task("hashing", total=total, rate="")
                report = find_duplicates(
                    folder,
                    threshold=threshold,
                    method=hash_method.value,
                    move_to=move_to,
                    recursive=recursive,
                    on_progress=lambda n: bar.update(task, advance=n),
                    consecutive=consecutive,
                )
            run.counts.done = report.scanned - len(report.failures)
            run.counts.duplicates = report.duplicate_count
            run.counts.failed = len(report.failures)
            run.counts.extra = {"groups": len(report.groups), "moved": len(report.moved)}
    finally:
        cat.close()
    rule = "consecutive, " if consecutive else ""
    table = Table(
        title=f"near-duplicate groups in {folder} ({rule}{hash_method.value} <= {threshold})"
    )
    for col in ("kept", "duplicates", "max distance", "examples"):
        table.add_column(col, overflow="fold")
    for g in report.groups[:show]:
        examples = ", ".join(str(p.relative_to(folder)) for p in g.duplicates[:3])
        more = f" (+{len(g.duplicates) - 3})" if len(g.duplicates) > 3 else ""
        table.add_row(
            str(g.keep.relative_to(folder)),
            str(len(g.duplicates)),
            str(g.max_distance),
            examples + more,
        )
    common.console.print(table)
    moved = f", moved {len(report.moved)} to {move_to}" if move_to else ""
    common.console.print(
        f"{report.scanned} images, {len(report.groups)} groups, {report.duplicate_count} duplicates"
        f", {len(report.failures)} unreadable{moved}"
    )
    common.exit_if_failed(len(report.failures), report.scanned, "images")
