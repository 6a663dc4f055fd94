"""Driving ultralytics: the glue that detect, track, export and train share.

Loading a model by path or resolved name (:func:`load_yolo`), its class names, the device, the
predict call convention (BGR arrays, no saving, no logging, inference mode), and keeping
ultralytics offline and its global patches undone. Ultralytics and torch are imported inside the
functions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vigie.errors import ModelError


def model_load_error(source: str | Path, exc: BaseException) -> ModelError:
    """A one-line :class:`ModelError` for weights that ultralytics cannot load."""
    detail = " ".join(str(exc).split())
    if "not a loadable checkpoint" in detail or exc.__class__.__name__ == "UnpicklingError":
        detail = "not a loadable checkpoint (the file is empty, truncated or not a model)"
    return ModelError(
        f"cannot load the model {source}: {detail}",
        hint="pass the .pt written by `vigie train` (or its .onnx export), or a registered name",
    )


def load_yolo(source: str | Path) -> Any:
    """``ultralytics.YOLO(source)`` offline, a load failure as one :class:`ModelError`.

    ``source`` is what :func:`vigie.models.resolve_model` gives (``ResolvedModel.source``): a
    weights file, an architecture YAML or a downloaded official name.
    """
    with ultralytics_offline():
        from ultralytics import YOLO

        try:
            return YOLO(str(source))
        except Exception as exc:
            raise model_load_error(source, exc) from None


def class_names(model: Any) -> dict[int, str]:
    """A loaded model's class names as ``{id: name}`` (ultralytics gives a dict or a list)."""
    names = model.names
    items = names.items() if isinstance(names, dict) else enumerate(names)
    return {int(k): str(v) for k, v in items}


def predict_bgr(
    model: Any,
    images: list[Any],
    *,
    conf: float,
    iou: float,
    imgsz: int,
    classes: list[int] | None = None,
    device: str | None = None,
) -> list[Any]:
    """``model.predict`` the way Vigie calls it: BGR arrays of one shape in, ultralytics'
    ``Results`` out, no files, no logging, under ``torch.inference_mode``."""
    import torch

    with torch.inference_mode():
        return list(
            model.predict(
                images,
                conf=conf,
                iou=iou,
                imgsz=imgsz,
                classes=classes,
                device=device,
                verbose=False,
                save=False,
            )
        )


def restore_pillow_open() -> None:
    """Undo ultralytics' global ``PIL.Image.open`` patch (call after importing ultralytics).

    On a file Pillow cannot identify, the patched ``Image.open`` tries to pip-install a HEIF
    plugin and raises ``ModuleNotFoundError`` offline instead of ``UnidentifiedImageError``,
    which would turn every "not an image" verdict of Vigie's validators into a crash.
    """
    try:
        from PIL import Image
        from ultralytics.utils import patches
    except ImportError:  # pragma: no cover - ultralytics missing or reorganised
        return
    original = getattr(patches, "_image_open", None)
    if original is not None and getattr(Image.open, "__module__", "") == patches.__name__:
        Image.open = original


@contextmanager
def ultralytics_offline() -> Iterator[None]:
    """Keep ultralytics from reaching the network while Vigie drives it.

    Sets ``YOLO_OFFLINE`` (no telemetry, no update checks) and replaces the font check that
    ``check_det_dataset`` runs (it downloads Arial.ttf) with a no-op; both are restored after.
    """
    previous = os.environ.get("YOLO_OFFLINE")
    os.environ["YOLO_OFFLINE"] = "1"
    patched: list[tuple[Any, str, Any]] = []
    try:
        import ultralytics.data.utils as data_utils

        original = data_utils.check_font
        data_utils.check_font = lambda *a, **k: None
        patched.append((data_utils, "check_font", original))
    except (ImportError, AttributeError):  # pragma: no cover - other ultralytics versions
        pass
    restore_pillow_open()
    try:
        yield
    finally:
        for module, name, value in patched:
            setattr(module, name, value)
        if previous is None:
            os.environ.pop("YOLO_OFFLINE", None)
        else:
            os.environ["YOLO_OFFLINE"] = previous
