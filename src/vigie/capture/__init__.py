"""Camera capture: poll snapshot URLs on a fixed schedule, keep each new picture once.

Public API:

- :func:`capture` - ``vigie capture``: the polling loop (several cameras at once);
- :func:`list_cameras` - ``vigie cameras list``: the Grand Lyon camera registry (URL or file);
- :func:`load_cameras` / :func:`select_cameras` - camera list files and selection by name.
"""

from vigie._api import make_stage_callable
from vigie.capture.core import CameraStats, CaptureResult, capture, last_kept_frame
from vigie.capture.registry import Camera, list_cameras, load_cameras, select_cameras

__all__ = [
    "Camera",
    "CameraStats",
    "CaptureResult",
    "capture",
    "last_kept_frame",
    "list_cameras",
    "load_cameras",
    "select_cameras",
]

make_stage_callable(__name__, capture)
