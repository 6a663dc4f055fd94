"""SORT (Bewley et al. 2016), as the seed script uses it.

A constant-velocity Kalman filter on the box centre, area and aspect ratio (u, v, s, r), Hungarian
matching on IoU, and the original bookkeeping: a track is reported on frames where it was matched
and after ``min_hits`` consecutive hits, and forgotten after ``max_age`` frames without a match.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vigie.track.trackers.base import FloatArray, HistoryTracker, assign, empty_tracks, iou_matrix


def _to_z(box: FloatArray) -> FloatArray:
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] + w / 2, box[1] + h / 2, w * h, w / max(h, 1e-9)])


def _to_box(x: FloatArray) -> FloatArray:
    s, r = max(float(x[2]), 1e-9), max(float(x[3]), 1e-9)
    w = np.sqrt(s * r)
    h = s / w
    return np.array([x[0] - w / 2, x[1] - h / 2, x[0] + w / 2, x[1] + h / 2])


class _SortTrack:
    # state x = [u, v, s, r, du, dv, ds]; the constants are SORT's
    F = np.eye(7) + np.eye(7, k=4)
    H = np.eye(4, 7)
    R = np.diag([1.0, 1.0, 10.0, 10.0])
    Q = np.diag([1.0, 1.0, 1.0, 1.0, 0.01, 0.01, 0.0001])

    def __init__(self, det: FloatArray, track_id: int) -> None:
        self.x: FloatArray = np.zeros(7)
        self.x[:4] = _to_z(det[:4])
        self.P: FloatArray = np.diag([10.0, 10.0, 10.0, 10.0, 10000.0, 10000.0, 10000.0])
        self.id = track_id
        self.time_since_update = 0
        self.hits = 0
        self.hit_streak = 0
        self.age = 0
        self.conf = float(det[4])
        self.cls = float(det[5])

    def predict(self) -> FloatArray:
        if self.x[6] + self.x[2] <= 0:
            self.x[6] = 0.0
        self.x = self.F @ self.x
        self.P = self.F @ self.P @ self.F.T + self.Q
        self.age += 1
        if self.time_since_update > 0:
            self.hit_streak = 0
        self.time_since_update += 1
        return _to_box(self.x)

    def update(self, det: FloatArray) -> None:
        self.time_since_update = 0
        self.hits += 1
        self.hit_streak += 1
        z = _to_z(det[:4])
        y = z - self.H @ self.x
        S = self.H @ self.P @ self.H.T + self.R
        K = self.P @ self.H.T @ np.linalg.inv(S)
        self.x = self.x + K @ y
        self.P = (np.eye(7) - K @ self.H) @ self.P
        self.conf, self.cls = float(det[4]), float(det[5])


class SortTracker(HistoryTracker):
    """SORT with the seed's parameters by default (max_age 20, min_hits 2, IoU 0.3).

    Args:
        max_age: frames a track survives without a match.
        min_hits: consecutive matches before a track is reported.
        iou_threshold: minimum IoU of a detection with a track's prediction to match.
    """

    name = "sort"

    def __init__(self, max_age: int = 20, min_hits: int = 2, iou_threshold: float = 0.3) -> None:
        super().__init__()
        self.max_age, self.min_hits, self.iou_threshold = max_age, min_hits, iou_threshold
        self._reset()

    def _reset(self) -> None:
        self.tracks: list[_SortTrack] = []
        self.frame_count = 0
        self._next_id = 1

    def params(self) -> dict[str, Any]:
        return {
            "max_age": self.max_age,
            "min_hits": self.min_hits,
            "iou_threshold": self.iou_threshold,
        }

    def _step(self, dets: FloatArray) -> FloatArray:
        self.frame_count += 1
        preds = []
        kept = []
        for t in self.tracks:
            box = t.predict()
            if np.isfinite(box).all():
                preds.append(box)
                kept.append(t)
        self.tracks = kept
        pred = np.array(preds).reshape(-1, 4)
        iou = iou_matrix(pred, dets)
        matches, _, unmatched = assign(1.0 - iou, 1.0 - self.iou_threshold)
        for r, c in matches:
            self.tracks[r].update(dets[c])
        for c in unmatched:
            self.tracks.append(_SortTrack(dets[c], self._next_id))
            self._next_id += 1
        out = []
        for t in self.tracks:
            if t.time_since_update < 1 and (
                t.hit_streak >= self.min_hits or self.frame_count <= self.min_hits
            ):
                out.append([*_to_box(t.x), t.id, t.conf, t.cls])
        self.tracks = [t for t in self.tracks if t.time_since_update <= self.max_age]
        return np.array(out, dtype=np.float64).reshape(-1, 7) if out else empty_tracks()
