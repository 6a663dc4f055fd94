"""Vigie's default tracker: two-stage online association, then offline refinement.

Online (per frame), in the manner of ByteTrack: a constant-velocity Kalman filter on the box
centre, width and height with noise proportional to the box size; confident detections are matched
first to every live or recently lost track, then the weak ones (under ``high_thresh``) only to
tracks already followed, so a weak box can extend a track but never start one.

Offline (``finish()``, once the whole video is seen) -- videos are analysed after they are
recorded, so the tracker may use the future:

1. fragments are re-linked: a track that ends and one that starts later are joined when the
   motion of each, extrapolated across the gap, meets the other and their sizes agree
   (one Hungarian assignment over every end/start pair);
2. gaps are filled by interpolating the box between the observations around a missed detection;
3. short and weak tracks (fewer than ``min_len`` observations, or low mean confidence) are dropped
   as spurious;
4. boxes are smoothed over a few frames, which cancels part of the detector's jitter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vigie.track.trackers.base import FloatArray, as_detections, assign, empty_tracks, iou_matrix

_STD_POS, _STD_VEL = 1.0 / 20, 1.0 / 160
_F = np.eye(8) + np.eye(8, k=4)
_H = np.eye(4, 8)


def _xywh(box: FloatArray) -> FloatArray:
    return np.array(
        [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]]
    )


def _xyxy(m: FloatArray) -> FloatArray:
    w, h = max(float(m[2]), 1.0), max(float(m[3]), 1.0)
    return np.array([m[0] - w / 2, m[1] - h / 2, m[0] + w / 2, m[1] + h / 2])


@dataclass
class _Track:
    tid: int
    mean: FloatArray
    cov: FloatArray
    confirmed: bool = False
    lost_for: int = 0
    # observations: frame index -> (x1, y1, x2, y2, conf, cls)
    obs: dict[int, FloatArray] = field(default_factory=dict)

    @classmethod
    def start(cls, tid: int, det: FloatArray, frame: int) -> _Track:
        z = _xywh(det)
        mean = np.r_[z, np.zeros(4)]
        w, h = z[2], z[3]
        std = [2 * _STD_POS * w, 2 * _STD_POS * h, 2 * _STD_POS * w, 2 * _STD_POS * h]
        std += [10 * _STD_VEL * w, 10 * _STD_VEL * h, 10 * _STD_VEL * w, 10 * _STD_VEL * h]
        t = cls(tid, mean, np.diag(np.square(std)))
        t.obs[frame] = det.copy()
        return t

    def predict(self) -> None:
        w, h = self.mean[2], self.mean[3]
        std = [_STD_POS * w, _STD_POS * h, _STD_POS * w, _STD_POS * h]
        std += [_STD_VEL * w, _STD_VEL * h, _STD_VEL * w, _STD_VEL * h]
        if self.lost_for > 0:  # a lost track keeps moving, but its size stops changing
            self.mean[6:8] = 0.0
        self.mean = _F @ self.mean
        self.cov = _F @ self.cov @ _F.T + np.diag(np.square(std))

    def update(self, det: FloatArray, frame: int) -> None:
        z = _xywh(det)
        w, h = self.mean[2], self.mean[3]
        r = np.diag(np.square([_STD_POS * w, _STD_POS * h, _STD_POS * w, _STD_POS * h]))
        s = _H @ self.cov @ _H.T + r
        k = np.linalg.solve(s, (self.cov @ _H.T).T).T
        self.mean = self.mean + k @ (z - _H @ self.mean)
        self.cov = self.cov - k @ s @ k.T
        self.lost_for = 0
        self.obs[frame] = det.copy()

    @property
    def box(self) -> FloatArray:
        return _xyxy(self.mean)


class VigieTracker:
    """Vigie's tracker (see the module doc). Every parameter has a default tuned on simulated
    pedestrian and traffic scenes.

    Args:
        high_thresh: confidence of a detection that can start or lead a track.
        low_thresh: weakest detection still used to extend a followed track.
        new_thresh: confidence needed to start a track.
        match_iou: minimum IoU of a detection with a track's prediction (first stage).
        low_match_iou: the same for weak detections (second stage).
        max_lost: frames a lost track may still be found again online.
        link_gap: longest gap (frames) over which two fragments may be linked offline.
        interp_gap: longest gap (frames) filled by interpolation.
        min_len: tracks observed in fewer frames are dropped as spurious.
        min_mean_conf: tracks whose mean confidence is lower are dropped.
        smooth: half-width (frames) of the box smoothing window; 0 disables it.
        image_size: (width, height) of the frames; lets gap filling skip objects that left.
    """

    name = "vigie"

    def __init__(
        self,
        high_thresh: float = 0.5,
        low_thresh: float = 0.2,
        new_thresh: float = 0.6,
        match_iou: float = 0.2,
        low_match_iou: float = 0.5,
        max_lost: int = 30,
        link_gap: int = 90,
        interp_gap: int = 60,
        min_len: int = 5,
        min_mean_conf: float = 0.6,
        smooth: int = 2,
        image_size: tuple[int, int] | None = None,
    ) -> None:
        self.high_thresh, self.low_thresh, self.new_thresh = high_thresh, low_thresh, new_thresh
        self.match_iou, self.low_match_iou, self.max_lost = match_iou, low_match_iou, max_lost
        self.link_gap, self.interp_gap, self.min_len = link_gap, interp_gap, min_len
        self.min_mean_conf, self.smooth, self.image_size = min_mean_conf, smooth, image_size
        self.reset()

    def params(self) -> dict[str, Any]:
        keys = [
            "high_thresh",
            "low_thresh",
            "new_thresh",
            "match_iou",
            "low_match_iou",
            "max_lost",
            "link_gap",
            "interp_gap",
            "min_len",
            "min_mean_conf",
            "smooth",
        ]
        return {k: getattr(self, k) for k in keys}

    def reset(self) -> None:
        self.frame = -1
        self.active: list[_Track] = []
        self.finished: list[_Track] = []
        self._next_id = 1

    # -- online --------------------------------------------------------------------------------
    def update(self, detections: Any) -> FloatArray:
        """Feed one frame; return the tracks matched in it (online result)."""
        self.frame += 1
        dets = as_detections(detections)
        high = dets[dets[:, 4] >= self.high_thresh]
        low = dets[(dets[:, 4] >= self.low_thresh) & (dets[:, 4] < self.high_thresh)]
        for t in self.active:
            t.predict()
        confirmed = [t for t in self.active if t.confirmed]
        fresh = [t for t in self.active if not t.confirmed]
        matched: list[tuple[_Track, FloatArray]] = []

        # 1. confident detections against every confirmed track, followed or lost
        left_tracks, left_high = self._match(confirmed, high, self.match_iou, matched)
        # 2. weak detections only against tracks followed until the previous frame
        followed = [t for t in left_tracks if t.lost_for == 0]
        self._match(followed, low, self.low_match_iou, matched)
        # 3. tracks started on the previous frame against the confident detections left
        _, left_high = self._match(fresh, left_high, self.match_iou, matched)

        for t, det in matched:
            t.update(det, self.frame)
            t.confirmed = True
        done = {id(t) for t, _ in matched}
        keep = []
        for t in self.active:
            if id(t) not in done:
                t.lost_for += 1
                if not t.confirmed or t.lost_for > self.max_lost:
                    self.finished.append(t)
                    continue
            keep.append(t)
        self.active = keep
        for det in left_high:
            if det[4] >= self.new_thresh:
                t = _Track.start(self._next_id, det, self.frame)
                t.confirmed = self.frame == 0
                self._next_id += 1
                self.active.append(t)
        rows = [[*t.box, t.tid, d[4], d[5]] for t, d in matched]
        return np.array(rows, dtype=np.float64).reshape(-1, 7) if rows else empty_tracks()

    def _match(
        self,
        tracks: list[_Track],
        dets: FloatArray,
        min_iou: float,
        matched: list[tuple[_Track, FloatArray]],
    ) -> tuple[list[_Track], FloatArray]:
        if not tracks or len(dets) == 0:
            return tracks, dets
        iou = iou_matrix(np.array([t.box for t in tracks]), dets)
        pairs, rows, cols = assign(1.0 - iou, 1.0 - min_iou)
        matched.extend((tracks[r], dets[c]) for r, c in pairs)
        return [tracks[r] for r in rows], dets[cols]

    # -- offline -------------------------------------------------------------------------------
    def finish(self) -> list[FloatArray]:
        """The refined tracks of every frame (see the module doc); the tracker is left as is."""
        from vigie.track.trackers.offline import refine

        tracks = [t.obs for t in (*self.finished, *self.active) if t.confirmed and t.obs]
        return refine(
            tracks,
            frames=self.frame + 1,
            link_gap=self.link_gap,
            interp_gap=self.interp_gap,
            min_len=self.min_len,
            min_mean_conf=self.min_mean_conf,
            smooth=self.smooth,
            image_size=self.image_size,
        )
