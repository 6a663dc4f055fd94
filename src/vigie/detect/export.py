"""ONNX export of ultralytics weights: cached for ``--backend onnx``, or to a file of your choice.

The cache file is ``<stem>.<sha256[:12]>.<imgsz>.onnx`` beside the .pt (or in
``~/.cache/vigie/onnx`` when that folder is read-only), so new weights under the same name or
another input size get their own export. The export runs in a private temporary folder and the
result is moved into place atomically, so concurrent runs never read a half-written model.

:func:`export_model` (``vigie export``) writes the same export where asked, for a machine that
runs ``vigie detect/track --model m.onnx`` with ONNX Runtime alone (no torch, no ultralytics),
and records it on the model's registry entry.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vigie.errors import ConfigError, ModelError, require
from vigie.files import write_atomic
from vigie.media import sha256_file
from vigie.models import (
    download_weights,
    load_yolo,
    trained_weights,
    ultralytics_offline,
)

if TYPE_CHECKING:
    from vigie.catalog import Catalog

log = logging.getLogger(__name__)


def weights_digest(path: Path) -> str:
    """First 12 hex digits of the SHA-256 of a file."""
    return sha256_file(path)[:12]


def _cache_dir(weights: Path) -> Path:
    folder = weights.parent
    if os.access(folder, os.W_OK):
        return folder
    fallback = Path.home() / ".cache" / "vigie" / "onnx"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def onnx_path_for(weights: Path, imgsz: int) -> Path:
    """The cached ONNX export of ``weights`` at ``imgsz``, exporting it on first use.

    Raises:
        ModelError: the export fails.
    """
    weights = weights.resolve()
    target = _cache_dir(weights) / f"{weights.stem}.{weights_digest(weights)}.{imgsz}.onnx"
    if target.is_file():
        return target
    log.info("exporting %s to ONNX (imgsz %d), once", weights.name, imgsz)
    with tempfile.TemporaryDirectory(prefix=".vigie-export-", dir=target.parent) as tmp:
        copy = Path(tmp) / weights.name
        shutil.copy2(weights, copy)
        exported = _export(copy, imgsz)
        os.replace(exported, target)
    return target


def _export(weights: Path, imgsz: int) -> Path:
    model = load_yolo(weights)
    with ultralytics_offline():
        try:
            out = model.export(
                format="onnx", imgsz=imgsz, dynamic=True, simplify=True, device="cpu",
                verbose=False,
            )  # fmt: skip
        except Exception as exc:
            raise ModelError(
                f"cannot export {weights.name} to ONNX: {' '.join(str(exc).split())}",
                hint="use --backend torch, or check the onnx / onnxslim packages",
            ) from None
    path = Path(str(out))
    if not path.is_file():
        raise ModelError(f"the ONNX export of {weights.name} wrote no file")
    return path


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_model` wrote."""

    path: Path
    model: str  # the registry name, else the weights file name
    imgsz: int
    weights: Path
    registered: str | None = None  # the registry entry the export was recorded on


def export_model(
    model: str | Path,
    *,
    format: str = "onnx",
    imgsz: int = 640,
    out: str | Path | None = None,
    catalog: Catalog | None = None,
) -> ExportResult:
    """Export trained weights to ONNX (dynamic input size, class names in its metadata).

    Args:
        model: weights (.pt), a name from the catalog's model registry, or an official name.
        format: only "onnx".
        imgsz: the input size the export is made for (a dynamic-shape model either way).
        out: the .onnx file to write (default: ``<weights stem>.onnx`` beside the weights);
            the export is also kept in the ``--backend onnx`` cache (:func:`onnx_path_for`).
        catalog: to resolve registry names; the export is recorded on the model's entry.

    Raises:
        ConfigError: another format, or an ``out`` that is not a .onnx file.
        DependencyError: ultralytics or onnx missing (the ``yolo`` extra).
        ModelError: the model cannot be found, loaded or exported.
    """
    if format != "onnx":
        raise ConfigError(f"unknown export format {format!r}", hint="use --format onnx")
    require("ultralytics", "yolo")
    require("onnx", "yolo")
    resolved = trained_weights(model, catalog, "export")
    if resolved.path is None:
        resolved = download_weights(resolved.source)
    weights = Path(resolved.source).resolve()
    target = Path(out) if out is not None else weights.with_suffix(".onnx")
    if target.suffix.lower() != ".onnx":
        raise ConfigError(f"--out {target} is not a .onnx file", hint="e.g. --out model.onnx")
    target.parent.mkdir(parents=True, exist_ok=True)
    cached = onnx_path_for(weights, imgsz)  # the export --backend onnx uses, made once
    if cached.resolve() != target.resolve():
        write_atomic(target, cached.read_bytes())
    registered = _record(catalog, resolved.registry_name, weights, target, imgsz)
    return ExportResult(target.resolve(), resolved.label, imgsz, weights, registered)


def _record(
    catalog: Catalog | None, name: str | None, weights: Path, target: Path, imgsz: int
) -> str | None:
    if catalog is None:
        return None
    from vigie.catalog.models import find_model_by_weights, record_export

    if name is None:
        row = find_model_by_weights(catalog, weights)
        name = row.name if row is not None else None
    if name is not None:
        record_export(catalog, name, "onnx", target, imgsz)
    return name
