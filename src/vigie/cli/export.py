"""``vigie export``: trained weights -> an ONNX file that detect/track run with ONNX Runtime alone.

vigie export --model traffic-v1 --imgsz 640 --out traffic-v1.onnx
vigie detect images/ --model traffic-v1.onnx      # on a machine with only vigie-cv[onnx]
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vigie.cli import common


class ExportFormat(StrEnum):
    onnx = "onnx"


def register(app: typer.Typer) -> None:
    """Add ``export`` to the root app."""
    app.command("export")(export)


def export(
    ctx: typer.Context,
    model: Annotated[
        str, typer.Option("--model", "-m", help="weights .pt or a registered model name")
    ],
    format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="export format")
    ] = ExportFormat.onnx,
    imgsz: Annotated[
        int | None,
        typer.Option("--imgsz", min=32, help=common.with_default("input size", "detect.imgsz")),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="the .onnx file (default: <weights>.onnx beside them)"),
    ] = None,
) -> None:
    """Export MODEL to ONNX (needs the yolo extra) and note it on its registry entry.

    The file carries the class names and runs with `vigie detect/track --model FILE.onnx` where
    only ONNX Runtime is installed (no torch, no ultralytics).
    """
    from vigie.detect import export_model

    cfg = common.settings(ctx, detect={"imgsz": imgsz})
    catalog = common.open_catalog(cfg)
    try:
        result = export_model(
            model,
            format=format.value,
            imgsz=cfg.detect.imgsz,
            out=cfg.output_path(out) if out is not None else None,
            catalog=catalog,
        )
    finally:
        catalog.close()
    common.console.print(
        f"exported {result.model} ({result.weights.name}, imgsz {result.imgsz}) -> {result.path}",
        highlight=False,
    )
    if result.registered:
        common.console.print(
            f"recorded on the registry entry '{result.registered}' (vigie models)", highlight=False
        )
