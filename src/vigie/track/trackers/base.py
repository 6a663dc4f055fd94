"""The Tracker interface and helpers shared by every tracker.

A tracker consumes one frame of detections at a time, as an (N, 5) or (N, 6) array of x1, y1, x2,
y2, confidence[, class], and returns the tracks it reports for that frame as an (M, 7) array of
x1, y1, x2, y2, track id, confidence, class (see :data:`TRACK_COLUMNS`). ``finish()`` returns the
final per-frame tracks of the whole video: the online trackers return what ``update`` returned,
the offline ``vigie`` tracker returns its refined result (gaps filled, fragments linked, spurious
tracks removed).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

TRACK_COLUMNS = ("x1", "y1", "x2", "y2", "track_id", "confidence", "class_id")
FloatArray = NDArray[np.float64]


def empty_tracks() -> FloatArray:
    return np.zeros((0, 7), dtype=np.float64)


def as_detections(detections: ArrayLike | None) -> FloatArray:
    """Normalise detections to an (N, 6) float array (class 0 when the column is absent).

    Raises:
        ValueError: not an (N, 5) or (N, 6) array.
    """
    if detections is None:
        return np.zeros((0, 6), dtype=np.float64)
    arr = np.asarray(detections, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 6), dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] not in (5, 6):
        raise ValueError(f"detections must be (N, 5) or (N, 6), got shape {arr.shape}")
    if arr.shape[1] == 5:
        arr = np.hstack([arr, np.zeros((len(arr), 1))])
    ok = np.isfinite(arr).all(axis=1) & (arr[:, 2] > arr[:, 0]) & (arr[:, 3] > arr[:, 1])
    return arr[ok]


def iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """IoU of every box of ``a`` (K, 4+) with every box of ``b`` (N, 4+), x1 y1 x2 y2."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    a, b = a[:, None, :4], b[None, :, :4]
    iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = iw * ih
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return np.asarray(inter / np.maximum(area_a + area_b - inter, 1e-9), dtype=np.float64)


def assign(cost: FloatArray, max_cost: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Hungarian assignment keeping pairs with cost <= ``max_cost``.

    Returns (matches as (row, col), unmatched rows, unmatched cols).
    """
    from scipy.optimize import linear_sum_assignment

    rows_n, cols_n = cost.shape
    if rows_n == 0 or cols_n == 0:
        return [], list(range(rows_n)), list(range(cols_n))
    big = max_cost + 1e5
    rows, cols = linear_sum_assignment(np.where(cost <= max_cost, cost, big))
    matches = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] <= max_cost]
    mr = {r for r, _ in matches}
    mc = {c for _, c in matches}
    return (
        matches,
        [r for r in range(rows_n) if r not in mr],
        [c for c in range(cols_n) if c not in mc],
    )


@runtime_checkable
class Tracker(Protocol):
    """What :func:`vigie.track.make_tracker` returns."""

    name: str

    def update(self, detections: ArrayLike | None) -> FloatArray:
        """Feed one frame; return its (M, 7) tracks (see :data:`TRACK_COLUMNS`)."""
        ...

    def finish(self) -> list[FloatArray]:
        """The final tracks of every frame fed so far, one (M, 7) array per frame."""
        ...

    def reset(self) -> None:
        """Forget every track (a new video)."""
        ...


class HistoryTracker:
    """Base of the online trackers: remembers what ``update`` returned, per frame."""

    name = "base"

    def __init__(self) -> None:
        self.history: list[FloatArray] = []

    def update(self, detections: ArrayLike | None) -> FloatArray:
        out = self._step(as_detections(detections))
        self.history.append(out)
        return out

    def _step(self, dets: FloatArray) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def finish(self) -> list[FloatArray]:
        return [h.copy() for h in self.history]

    def reset(self) -> None:
        self.history = []
        self._reset()

    def _reset(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {}
