"""CLI commands of the track stage: ``vigie track`` and ``vigie eval-track``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from vigie.cli import common


class TrackerName(StrEnum):
    """The trackers of vigie.track.TRACKERS (a test keeps the two in step)."""

    vigie = "vigie"
    sort = "sort"
    bytetrack = "bytetrack"
    botsort = "botsort"
    ocsort = "ocsort"


def register(app: typer.Typer) -> None:
    """Add ``track`` and ``eval-track`` to the root app."""
    app.command("track")(track)
    app.command("eval-track")(eval_track)


def _line(value: str | None) -> tuple[float, float, float, float] | None:
    from vigie.errors import ConfigError

    if value is None:
        return None
    try:
        x1, y1, x2, y2 = (float(v) for v in value.split(","))
    except ValueError:
        raise ConfigError(
            f"--line {value!r} is not x1,y1,x2,y2", hint="e.g. --line 0,360,1280,360"
        ) from None
    if (x1, y1) == (x2, y2):
        raise ConfigError("--line needs two different points")
    return x1, y1, x2, y2


def track(
    ctx: typer.Context,
    sources: Annotated[list[Path], typer.Argument(help="videos, or folders of videos")],
    model: Annotated[
        str,
        typer.Option(
            "--model", "-m", help="weights .pt/.onnx, or a model name registered by `vigie train`"
        ),
    ],
    tracker: Annotated[
        TrackerName | None,
        typer.Option(help=common.with_default("tracking algorithm", "track.tracker")),
    ] = None,
    conf: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help=common.with_default("minimum detection confidence", "track.conf")
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help=common.with_default("output folder", "track.out")),
    ] = None,
    min_frames: Annotated[
        int | None,
        typer.Option(
            help=common.with_default("drop tracks seen in fewer frames", "track.min_frames")
        ),
    ] = None,
    stride: Annotated[
        int | None,
        typer.Option(help=common.with_default("analyse every Nth frame", "track.stride")),
    ] = None,
    start: Annotated[
        float | None, common.time_option("--start", help=f"start time: {common.TIME_FORMS}")
    ] = None,
    end: Annotated[
        float | None, common.time_option("--end", help=f"end time: {common.TIME_FORMS}")
    ] = None,
    line: Annotated[
        str | None, typer.Option(help="counting line x1,y1,x2,y2 (pixels): crossings per class")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="study database URL: write yolo_video_detection")
    ] = None,
    backend: Annotated[
        common.Backend | None,
        typer.Option(help=common.with_default("detector backend", "detect.backend")),
    ] = None,
    imgsz: Annotated[
        int | None,
        typer.Option(min=32, help=common.with_default("detector input size", "detect.imgsz")),
    ] = None,
    batch: Annotated[
        int | None,
        typer.Option(min=1, help=common.with_default("frames per detector call", "track.batch")),
    ] = None,
    video: Annotated[
        bool | None,
        typer.Option(
            "--video/--no-video", help=common.with_default("write the annotated MP4", "track.video")
        ),
    ] = None,
    device: common.DeviceOption = None,
    force: Annotated[bool, typer.Option(help="analyse again videos already done")] = False,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="run on a Ray cluster: auto, HOST:PORT or ray://HOST:PORT"),
    ] = None,
) -> None:
    """Detect and track objects in videos: annotated MP4, per-track JSON/CSV, MOT text, counts.

    With --db, each video's yolo_video_detection rows are replaced (one row per track).
    Exit code 3 when some videos failed.

    Example: vigie track videos/ --model best.pt --tracker vigie --line 0,360,1280,360
    """
    cfg = common.settings(
        ctx,
        track={
            "tracker": tracker.value if tracker is not None else None,
            "conf": conf,
            "min_frames": min_frames,
            "stride": stride,
            "batch": batch,
            "video": video,
            "out": out,
        },
        detect={"backend": backend.value if backend is not None else None, "imgsz": imgsz},
        ray={"address": ray},
    )
    from vigie.track import track as run_track

    counting_line = _line(line)
    catalog = common.open_catalog(cfg)
    try:
        with common.progress() as bar:
            tasks: dict[str, Any] = {}

            def report(name: str, done: int, total: int | None) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=total, rate="")
                bar.update(tasks[name], completed=done)

            result = run_track(
                sources,
                model=model,
                start=start,
                end=end,
                line=counting_line,
                device=common.run_device(device, cfg.detect.backend, model),
                settings=cfg,
                catalog=catalog,
                db_url=db,
                force=force,
                progress=report,
                ray=cfg.ray if cfg.ray.address else None,
            )
    finally:
        catalog.close()
    _summary(result)
    common.exit_if_failed(result.counts.failed, len(result.results), "videos")


def _summary(result: Any) -> None:
    from rich.table import Table

    table = Table(title="vigie track")
    for col in ("video", "status", "frames", "frames/s", "tracks", "counts", "crossings", "note"):
        table.add_column(col)
    for r in result.results:
        counts = ", ".join(f"{k}={v}" for k, v in r.counts.items())
        crossings = ", ".join(
            f"{k} in={v.get('in', 0)} out={v.get('out', 0)}" for k, v in r.crossings.items()
        )
        table.add_row(
            r.video.name,
            r.status,
            str(r.frames_analysed),
            f"{r.frames_analysed / r.seconds:.1f}" if r.seconds > 0 else "-",
            str(len(r.tracks)) if r.status != "skipped" else "-",
            counts,
            crossings,
            r.error or r.warning or "",
        )
    common.console.print(table)
    c = result.counts
    common.console.print(
        f"done {c.done}, skipped {c.skipped}, failed {c.failed}, tracks {c.extra.get('tracks', 0)}"
    )


def eval_track(
    gt: Annotated[
        Path, typer.Option("--gt", help="ground truth, MOT format", exists=True, dir_okay=False)
    ],
    pred: Annotated[
        Path, typer.Option("--pred", help="tracker output, MOT format", exists=True, dir_okay=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print the metrics as JSON")] = False,
) -> None:
    """HOTA, MOTA and IDF1 of a tracker's output against ground truth (MOT text files).

    Example: vigie eval-track --gt gt.txt --pred tracks/clip.mot.txt
    """
    import json

    from rich.table import Table

    from vigie.track import evaluate

    metrics = evaluate(_read_mot(gt, "--gt"), _read_mot(pred, "--pred"))
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
        return
    table = Table(title=f"{pred.name} vs {gt.name}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    order = ("hota", "mota", "idf1", "deta", "assa", "loca", "motp")
    for key in (*order, *(k for k in metrics if k not in order)):
        value = metrics[key]
        counted = key.startswith("num_") or key.startswith("mostly_")
        text = str(int(value)) if counted and value == value else f"{value:.4f}"
        table.add_row(key.upper() if key in order[:3] else key, text)
    common.console.print(table)


def _read_mot(path: Path, flag: str) -> str:
    """The text of a MOT file, or a SourceError saying it is not one."""
    from vigie.errors import SourceError

    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceError(
            f"{flag} {path} is not a text file",
            hint="give a MOT text file: frame,id,left,top,width,height[,conf,class,...]",
        ) from None
    except OSError as exc:
        raise SourceError(f"cannot read {flag} {path}: {exc.strerror or exc}") from None
