"""Detect stage: load a detector (torch or ONNX Runtime), run it over image folders, export ONNX."""

from vigie._api import make_stage_callable
from vigie.detect.backends import OnnxDetector, TorchDetector, load_detector
from vigie.detect.export import ExportResult, export_model
from vigie.detect.pipeline import DetectResult, detect, list_images
from vigie.media import decode_image  # a public name of this stage, now on the floor

__all__ = [
    "DetectResult",
    "ExportResult",
    "OnnxDetector",
    "TorchDetector",
    "decode_image",
    "detect",
    "export_model",
    "list_images",
    "load_detector",
]


make_stage_callable(__name__, detect)
