"""Train stage: fine-tune YOLO models and keep a registry of them in the catalog."""

from vigie._api import make_stage_callable
from vigie.models import (
    ResolvedModel,
    network_available,
    resolve_model,
    restore_pillow_open,
    ultralytics_offline,
)
from vigie.train.core import ClassMetrics, TrainResult, train, validate

__all__ = [
    "ClassMetrics",
    "ResolvedModel",
    "TrainResult",
    "network_available",
    "resolve_model",
    "restore_pillow_open",
    "train",
    "ultralytics_offline",
    "validate",
]


make_stage_callable(__name__, train)
