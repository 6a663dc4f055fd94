"""Ultralytics' trackers (ByteTrack, BoT-SORT, OC-SORT, ...) behind Vigie's Tracker interface.

Ultralytics' trackers take a ``Boxes``-like object (``conf``, ``cls``, ``xywh``, ``xyxy`` and
boolean indexing) and the frame; :class:`_Boxes` is that object built from a plain array, so no
model and no image are needed. Their parameters default to ultralytics' own YAML files.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from vigie.errors import DependencyError
from vigie.track.base import FloatArray, HistoryTracker, empty_tracks

# vigie name -> ultralytics tracker_type (all shipped by ultralytics 8.4)
ULTRALYTICS_TRACKERS = {
    "bytetrack": "bytetrack",
    "botsort": "botsort",
    "ocsort": "ocsort",
}


class _Boxes:
    """The part of ultralytics' ``Boxes`` API its trackers use, over an (N, 6) array."""

    def __init__(self, data: FloatArray) -> None:
        self.data = np.asarray(data, dtype=np.float32).reshape(-1, 6)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, idx: Any) -> _Boxes:
        return _Boxes(self.data[idx])

    @property
    def xyxy(self) -> np.ndarray:
        return self.data[:, :4]

    @property
    def xywh(self) -> np.ndarray:
        b = self.data[:, :4]
        return np.stack(
            [
                (b[:, 0] + b[:, 2]) / 2,
                (b[:, 1] + b[:, 3]) / 2,
                b[:, 2] - b[:, 0],
                b[:, 3] - b[:, 1],
            ],
            axis=1,
        )

    @property
    def conf(self) -> np.ndarray:
        return self.data[:, 4]

    @property
    def cls(self) -> np.ndarray:
        return self.data[:, 5]


def _default_args(tracker_type: str) -> dict[str, Any]:
    from ultralytics.utils import ROOT, YAML

    return dict(YAML.load(ROOT / "cfg" / "trackers" / f"{tracker_type}.yaml"))


class UltralyticsTracker(HistoryTracker):
    """An ultralytics tracker (by vigie name) with its YAML defaults overridden by ``params``.

    ``update`` also accepts ``image=`` (a BGR frame) for trackers that use it (BoT-SORT's camera
    motion compensation); without it they track from the boxes alone.

    Raises:
        DependencyError: ultralytics (or ``lap``) is not installed.
    """

    def __init__(self, name: str, **params: Any) -> None:
        super().__init__()
        try:
            import lap  # noqa: F401  (ultralytics' matching imports it lazily)
            from ultralytics.trackers.track import TRACKER_MAP
        except ImportError:
            raise DependencyError(
                f"the {name} tracker needs ultralytics and lap",
                hint="install them with: pip install 'vigie-cv[yolo]'",
            ) from None
        from vigie.train import restore_pillow_open

        restore_pillow_open()
        tracker_type = ULTRALYTICS_TRACKERS[name]
        args = _default_args(tracker_type)
        args.update(params)
        args.setdefault("device", "cpu")
        self.name = name
        self._args = args
        self._cls = TRACKER_MAP[tracker_type]
        self._image: np.ndarray | None = None
        self._reset()

    def _reset(self) -> None:
        self._tracker: Any = self._cls(args=SimpleNamespace(**self._args))

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in self._args.items() if k != "device"}

    def set_image(self, image: np.ndarray | None) -> None:
        """The BGR frame the next ``update`` goes with (optional)."""
        self._image = image

    def _step(self, dets: FloatArray) -> FloatArray:
        res = self._tracker.update(_Boxes(dets), self._image)
        self._image = None
        res = np.asarray(res, dtype=np.float64)
        if res.size == 0:
            return empty_tracks()
        # ultralytics rows: x1, y1, x2, y2, track_id, score, cls, det_index
        return res[:, :7].copy()
