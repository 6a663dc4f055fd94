"""Models: resolving ``--model`` and driving ultralytics, the one place detect, track, export,
train and the Label Studio predictions share (no stage borrows it from another).

- :mod:`vigie.models.resolve`: a weights file, a registry name, an architecture YAML or an
  official name (downloaded only when online) -> :class:`ResolvedModel`;
- :mod:`vigie.models.ultra`: :func:`load_yolo`, :func:`class_names`, :func:`predict_bgr`, and
  :func:`ultralytics_offline` / :func:`restore_pillow_open` around every ultralytics call.

Part of the floor: imports ``vigie.errors`` (and the catalog's model registry lazily), no stage.
"""

from vigie.models.resolve import (
    ResolvedModel,
    download_weights,
    network_available,
    resolve_model,
    trained_weights,
)
from vigie.models.ultra import (
    class_names,
    load_yolo,
    model_load_error,
    predict_bgr,
    restore_pillow_open,
    ultralytics_offline,
)

__all__ = [
    "ResolvedModel",
    "class_names",
    "download_weights",
    "load_yolo",
    "model_load_error",
    "network_available",
    "predict_bgr",
    "resolve_model",
    "restore_pillow_open",
    "trained_weights",
    "ultralytics_offline",
]
