"""``vigie frames`` (extract frames from a video or a folder) and ``vigie probe`` (inspect videos)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from vigie.cli import common


class Mode(StrEnum):
    all = "all"
    percentage = "percentage"
    step = "step"
    time = "time"


class Strategy(StrEnum):
    equal = "equal"
    random = "random"


class ImageFormat(StrEnum):
    jpg = "jpg"
    png = "png"


def register(app: typer.Typer) -> None:
    """Add ``frames`` and ``probe`` to the root app."""
    app.command("frames")(frames)
    app.command("probe")(probe)


def frames(
    ctx: typer.Context,
    source: Annotated[
        Path, typer.Argument(help="a video file, or a folder of videos", exists=True)
    ],
    mode: Annotated[
        Mode | None,
        typer.Option("--mode", help="how to pick frames (asked when omitted on a terminal)"),
    ] = None,
    value: Annotated[
        float | None,
        typer.Option("--value", help="percentage (0-100], step in frames, or interval in seconds"),
    ] = None,
    start: Annotated[
        float | None, common.time_option("--start", help=f"range start: {common.TIME_FORMS}")
    ] = None,
    end: Annotated[
        float | None, common.time_option("--end", help=f"range end: {common.TIME_FORMS}")
    ] = None,
    strategy: Annotated[
        Strategy, typer.Option("--strategy", help="percentage, or with --max")
    ] = Strategy.equal,
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same frames)")] = 0,
    max_count: Annotated[
        int | None, typer.Option("--max", help="at most this many frames per video", min=1)
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help=common.with_default("output folder", "frames.out")),
    ] = None,
    fmt: Annotated[
        ImageFormat | None,
        typer.Option("--format", "-f", help=common.with_default("image format", "frames.format")),
    ] = None,
    quality: Annotated[
        int | None,
        typer.Option(
            "--quality", min=1, max=100, help=common.with_default("JPEG quality", "frames.quality")
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help=common.with_default(
                "parallel processes for a folder (0 = CPUs)", "frames.workers"
            ),
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        common.time_option(
            "--timeout",
            help=common.with_default(
                "time before a stuck decoder is stopped (folders)", "frames.video_timeout"
            ),
        ),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="folders on a Ray cluster: auto, HOST:PORT, ray://HOST:PORT"),
    ] = None,
) -> None:
    """Extract frames from a video or from every video of a folder, exactly as asked.

    Examples:

      vigie frames clip.mp4 --mode step --value 10

      vigie frames clip.mp4 --mode time --value 2.5 --start 10 --end 60

      vigie frames clip.mp4 --mode percentage --value 5 --strategy random --seed 1

      vigie frames videos/ --mode time --value 10 --max 20 --format png
    """
    from vigie.errors import ConfigError, output_dir

    mode, value, start, end, strategy = _ask_missing(
        mode.value if mode is not None else None, value, start, end, strategy.value
    )
    cfg = common.settings(
        ctx,
        frames={
            "format": fmt.value if fmt is not None else None,
            "quality": quality,
            "out": out,
            "workers": workers,
            "video_timeout": timeout,
        },
        ray={"address": ray},
    )
    target = cfg.frames.out
    output_dir(target)
    if source.is_dir():
        _run_folder(cfg, source, target, mode, value, start, end, strategy, seed, max_count)
    elif source.is_file():
        if cfg.ray.address:
            common.err_console.print(
                "note: --ray spreads a folder's videos, one per task; one video runs here",
                highlight=False,
            )
        _run_video(cfg, source, target, mode, value, start, end, strategy, seed, max_count)
    else:
        raise ConfigError(f"{source} is neither a file nor a folder")


def _ask_missing(
    mode: str | None, value: float | None, start: float | None, end: float | None, strategy: str
) -> tuple[Any, float, float | None, float | None, Any]:
    """The seed's questions on a terminal; a clear error naming the flags otherwise."""
    from vigie.errors import ConfigError
    from vigie.frames import MODES, STRATEGIES

    needs_value = mode != "all"
    if mode is not None and (value is not None or not needs_value):
        return mode, 1.0 if value is None else value, start, end, strategy
    missing = " and ".join(
        f for f, gone in (("--mode", mode is None), ("--value", value is None)) if gone
    )
    if not common.is_interactive():
        raise ConfigError(
            f"missing {missing} (no terminal to ask on)",
            hint="e.g. --mode step --value 10; modes: " + ", ".join(MODES),
        )
    asked_all = mode is None
    if mode is None:
        mode = _choose("Extraction mode", MODES, "step")
    if value is None and mode != "all":
        question = {
            "percentage": "Percentage of the frames to keep (0-100]",
            "step": "Keep one frame every how many frames",
            "time": "Keep one frame every how many seconds",
        }[mode]
        value = typer.prompt(question, type=float)
    if asked_all:
        if start is None and end is None and typer.confirm("Limit to a time range?", default=False):
            start = common.time_value(typer.prompt("Start (90, 1:30 or 0:01:30.5)", default="0"))
            end_text = typer.prompt("End (empty = to the end)", default="", show_default=False)
            end = common.time_value(end_text) if end_text.strip() else None
        if mode == "percentage":
            strategy = _choose("Selection strategy", STRATEGIES, strategy)
    return mode, 1.0 if value is None else value, start, end, strategy


def _choose(question: str, choices: tuple[str, ...], default: str) -> str:
    """Ask until the answer is one of ``choices``."""
    from vigie.errors import ConfigError

    for _ in range(5):
        answer = str(typer.prompt(f"{question} ({'/'.join(choices)})", default=default)).strip()
        if answer in choices:
            return answer
        common.err_console.print(f"please answer one of: {', '.join(choices)}")
    raise ConfigError(f"no valid answer to {question!r}", hint="give the flags instead")


def _run_video(
    cfg: Any,
    video: Path,
    out: Path,
    mode: Any,
    value: float,
    start: float | None,
    end: float | None,
    strategy: Any,
    seed: int,
    max_count: int | None,
) -> None:
    from vigie.frames import extract_frames
    from vigie.frames.write import safe_stem

    fs = cfg.frames
    cat = common.open_catalog(cfg)
    try:
        with common.progress() as bar:
            task = bar.add_task(video.name, total=None, rate="")
            result = extract_frames(
                video,
                mode=mode,
                value=value,
                start=start,
                end=end,
                strategy=strategy,
                seed=seed,
                max_count=max_count,
                out=out / safe_stem(video.stem),
                fmt=fs.format,
                quality=fs.quality,
                settings=cfg,
                catalog=cat,
                on_frame=lambda n: bar.advance(task, n),
            )
    finally:
        cat.close()
    _summary([result], [], result.seconds)
    common.exit_if_failed(len(result.missing), result.selected, "frames")


def _run_folder(
    cfg: Any,
    folder: Path,
    out: Path,
    mode: Any,
    value: float,
    start: float | None,
    end: float | None,
    strategy: Any,
    seed: int,
    max_count: int | None,
) -> None:
    from vigie.frames import extract_folder, find_videos

    fs = cfg.frames
    total = len(find_videos(folder))
    cat = common.open_catalog(cfg)
    try:
        with common.progress() as bar:
            task = bar.add_task(folder.name or str(folder), total=total, rate="")

            def on_video(video: Path, result: Any, error: str | None) -> None:
                bar.advance(task, 1, failed=int(result is None))

            res = extract_folder(
                folder,
                mode=mode,
                value=value,
                start=start,
                end=end,
                strategy=strategy,
                seed=seed,
                max_count=max_count,
                out=out,
                fmt=fs.format,
                quality=fs.quality,
                settings=cfg,
                catalog=cat,
                workers=fs.workers,
                timeout=fs.video_timeout,
                on_video=on_video,
                ray=cfg.ray.address,
            )
    finally:
        cat.close()
    _summary(res.results, res.failed, res.seconds)
    missing = sum(len(r.missing) for r in res.results)
    common.exit_if_failed(len(res.failed) + missing, None, "videos or frames")


def _summary(results: list[Any], failed: list[tuple[Path, str]], seconds: float) -> None:
    from rich.table import Table

    table = Table(title="frames")
    for col in ("video", "selected", "written", "kept", "missing", "warnings", "folder"):
        table.add_column(col)
    for r in results:
        folder = str(r.manifest.parent) if r.manifest else "-"
        table.add_row(
            r.video.name,
            str(r.selected),
            str(r.written),
            str(r.existing),
            str(len(r.missing)),
            str(len(r.warnings)),
            folder,
        )
    for video, message in failed:
        table.add_row(video.name, "-", "-", "-", "-", f"failed: {message}", "-")
    common.console.print(table)
    written = sum(r.written for r in results)
    rate = written / seconds if seconds > 0 else 0.0
    common.console.print(
        f"{written} frames written ({sum(r.existing for r in results)} already there) "
        f"from {len(results)} videos in {seconds:.2f} s, {rate:.1f} frames/s"
        + (f"; {len(failed)} videos skipped" if failed else "")
    )


def probe(
    ctx: typer.Context,
    videos: Annotated[list[Path], typer.Argument(help="video files", exists=True, dir_okay=False)],
) -> None:
    """Show what videos really hold (fps, frames, duration, size, rotation) and what their
    headers got wrong."""
    from rich.table import Table

    from vigie.errors import MediaError
    from vigie.frames import probe as probe_video

    table = Table(title="videos")
    for col in ("video", "codec", "size", "fps", "frames", "duration", "rotation", "problems"):
        table.add_column(col)
    failures = 0
    for path in videos:
        try:
            info = probe_video(path)
        except MediaError as exc:
            failures += 1
            table.add_row(path.name, "-", "-", "-", "-", "-", "-", exc.message)
            continue
        table.add_row(
            path.name,
            info.codec,
            f"{info.width}x{info.height}",
            f"{info.fps:.3f}",
            str(info.frame_count),
            f"{info.duration:.2f} s",
            f"{info.rotation}",
            "; ".join(info.problems) or "-",
        )
    common.console.print(table)
    common.exit_if_failed(failures, len(videos), "videos")
