"""``vigie demo``: run every stage offline on a generated street scene."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vigie.cli.common import console, device_value, global_options, settings

if TYPE_CHECKING:
    from vigie.demo import StepResult

_MARKS = {"done": "[green]✓[/]", "skipped": "[yellow]-[/]", "failed": "[red]✗[/]"}


def register(app: typer.Typer) -> None:
    """Add ``vigie demo`` to the root app."""
    app.command("demo")(demo)


def demo(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="demo workspace folder (created)")
    ] = Path("demo-workspace"),
    quick: Annotated[
        bool, typer.Option("--quick", help="a short run: 8 s of capture, 2 epochs (~1-3 min)")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="seed of the generated street scene")] = 0,
    device: Annotated[
        str,
        typer.Option(
            "--device",
            parser=device_value,
            metavar="<device>",
            help="where train, detect and track run: cpu, cuda, cuda:N, mps or auto",
        ),
    ] = "cpu",
) -> None:
    """Run the whole pipeline offline on a generated street scene, printing each step.

    A street (cars, buses, trucks, bikes, pedestrians) with ground truth is served as a camera and a study media host on 127.0.0.1; then capture, links, download, frames, dataset, train (from yolo11n.yaml), detect, track and report run for real. The Label Studio round trip runs only when a token is configured (VIGIE_LABELSTUDIO_TOKEN, with labelstudio.url).

    Example: vigie demo --out demo-workspace, then open demo-workspace/report/index.html
    """
    from rich.table import Table

    from vigie.demo import run_demo

    cfg = settings(ctx)
    out = cfg.output_path(out)
    quiet_stages = not global_options(ctx).verbose
    vigie_log, level = logging.getLogger("vigie"), logging.getLogger("vigie").level
    yolo_env = "YOLO_VERBOSE" not in os.environ
    if quiet_stages:
        # one line per step is the demo's output; the stages' own progress lines are for -v
        vigie_log.setLevel(logging.WARNING)
        if yolo_env:
            os.environ["YOLO_VERBOSE"] = "False"
    token = cfg.labelstudio_token.get_secret_value() if cfg.labelstudio_token else None
    console.print(f"[bold]vigie demo[/] into {out} ({'quick' if quick else 'full'} run)")

    def show(step: StepResult) -> None:
        console.print(
            f"{_MARKS.get(step.status, '?')} [bold]{step.name}[/] ({step.seconds:.1f} s) "
            f"{step.summary}",
            highlight=False,
        )

    try:
        result = run_demo(
            out,
            quick=quick,
            seed=seed,
            labelstudio_url=cfg.labelstudio.url if token else None,
            labelstudio_token=token,
            device=device,
            on_step=show,
        )
    finally:
        vigie_log.setLevel(level)
        if quiet_stages and yolo_env:
            os.environ.pop("YOLO_VERBOSE", None)
    table = Table(title="demo summary")
    for col in ("step", "status", "seconds"):
        table.add_column(col)
    for step in result.steps:
        table.add_row(step.name, step.status, f"{step.seconds:.1f}")
    console.print(table)
    if result.report is not None:
        console.print(f"report: {result.report}")
    if not result.ok:
        failed = ", ".join(s.name for s in result.steps if s.status == "failed")
        console.print(f"[red]some steps failed:[/] {failed}")
        raise typer.Exit(1)
