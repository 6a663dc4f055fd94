"""Train stage: fine-tune YOLO models and keep a registry of them in the catalog."""

import sys as _sys
import types as _types
from typing import Any as _Any

from vigie.train.core import ClassMetrics, TrainResult, train, validate
from vigie.train.models import (
    ResolvedModel,
    network_available,
    resolve_model,
    ultralytics_offline,
)

__all__ = [
    "ClassMetrics",
    "ResolvedModel",
    "TrainResult",
    "network_available",
    "resolve_model",
    "train",
    "ultralytics_offline",
    "validate",
]


class _CallableModule(_types.ModuleType):
    """``vigie.train(...)`` keeps working once the ``vigie.train`` package is imported
    (the import makes the package shadow the public function of the same name)."""

    def __call__(self, *args: _Any, **kwargs: _Any) -> TrainResult:
        return train(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
