"""ONNX export of ultralytics weights, done once and cached next to the weights.

The cache file is ``<stem>.<sha256[:12]>.<imgsz>.onnx`` beside the .pt (or in
``~/.cache/vigie/onnx`` when that folder is read-only), so new weights under the same name or
another input size get their own export. The export runs in a private temporary folder and the
result is moved into place atomically, so concurrent runs never read a half-written model.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from vigie.errors import ModelError
from vigie.media import sha256_file

log = logging.getLogger(__name__)


def weights_digest(path: Path) -> str:
    """First 12 hex digits of the SHA-256 of a file."""
    return sha256_file(path)[:12]


def model_load_error(source: str | Path, exc: BaseException) -> ModelError:
    """A one-line :class:`ModelError` for weights that ultralytics cannot load."""
    detail = " ".join(str(exc).split())
    if "not a loadable checkpoint" in detail or exc.__class__.__name__ == "UnpicklingError":
        detail = "not a loadable checkpoint (the file is empty, truncated or not a model)"
    return ModelError(
        f"cannot load the model {source}: {detail}",
        hint="pass the .pt written by `vigie train` (or its .onnx export), or a registered name",
    )


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
    from vigie.train import ultralytics_offline

    with ultralytics_offline():
        from ultralytics import YOLO

        try:
            model = YOLO(str(weights))
        except Exception as exc:
            raise model_load_error(weights.name, exc) from None
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
