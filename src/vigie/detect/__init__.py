"""Detect stage: load a detector (torch or ONNX Runtime) and run it over image folders."""

import sys as _sys
import types as _types
from typing import Any as _Any

from vigie.detect.backends import OnnxDetector, TorchDetector, load_detector
from vigie.detect.pipeline import DetectResult, decode_image, detect, list_images

__all__ = [
    "DetectResult",
    "OnnxDetector",
    "TorchDetector",
    "decode_image",
    "detect",
    "list_images",
    "load_detector",
]


class _CallableModule(_types.ModuleType):
    """``vigie.detect(...)`` keeps working once the ``vigie.detect`` package is imported
    (the import makes the package shadow the public function of the same name)."""

    def __call__(self, *args: _Any, **kwargs: _Any) -> DetectResult:
        return detect(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
