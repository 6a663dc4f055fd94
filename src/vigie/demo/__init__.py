"""``vigie demo``: every stage, for real, offline, on a generated street scene.

Public API: :func:`run_demo` (the whole pipeline), :class:`Scene` and the writers
(:func:`render_video`, :func:`write_snapshots`) for generated media with ground truth, and the
demo servers (:class:`CameraServer`, :class:`MediaServer`).
"""

from vigie.demo.pipeline import DemoPlan, DemoResult, StepResult, run_demo
from vigie.demo.scene import (
    CLASSES,
    GroundTruthBox,
    Scene,
    mot_lines,
    render_video,
    write_snapshots,
    yolo_label_lines,
)
from vigie.demo.servers import CameraServer, MediaServer

__all__ = [
    "CLASSES",
    "CameraServer",
    "DemoPlan",
    "DemoResult",
    "GroundTruthBox",
    "MediaServer",
    "Scene",
    "StepResult",
    "mot_lines",
    "render_video",
    "run_demo",
    "write_snapshots",
    "yolo_label_lines",
]
