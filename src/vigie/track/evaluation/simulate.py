"""Scene simulator: known trajectories and a simulated detector, to measure trackers offline.

Two kinds of scene, both seeded and deterministic:

- ``pedestrian``: people walking across a 1280x720 view at 25 fps, crossing each other, passing
  behind a pillar (an occluder), hiding behind each other, and some leaving and re-entering;
- ``traffic``: cars, trucks and buses in lanes of both directions plus a crossing road, passing
  each other (mutual occlusion), with a bridge pillar.

The simulated detector misses a share of the visible objects (``miss_rate``), always misses the
objects mostly hidden, jitters boxes by ``jitter`` of their size, adds about ``fp_per_frame``
false boxes per frame, and gives confidences in 0.5-1.0 to true boxes and 0.35-0.6 to false ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

SCENE_KINDS = ("pedestrian", "traffic")
PEDESTRIAN_NAMES = {0: "Pedestrian", 1: "Bicycle"}
TRAFFIC_NAMES = {0: "Car", 1: "Truck", 2: "Bus"}


@dataclass(frozen=True)
class SimulatedScene:
    """A scene: per-frame ground truth and simulated detections.

    gt[i]: (K, 6) float array of id, x1, y1, x2, y2, class for frame i (0-based).
    detections[i]: (N, 6) float array of x1, y1, x2, y2, confidence, class.
    """

    kind: str
    seed: int
    width: int
    height: int
    fps: float
    names: dict[int, str]
    gt: list[NDArray[np.float64]] = field(repr=False)
    detections: list[NDArray[np.float64]] = field(repr=False)

    @property
    def frames(self) -> int:
        return len(self.gt)

    def gt_mot(self) -> str:
        """The ground truth as MOT text (frame from 1, id, left, top, width, height, 1, class, 1)."""
        lines = []
        for i, rows in enumerate(self.gt):
            for tid, x1, y1, x2, y2, cls in rows:
                lines.append(
                    f"{i + 1},{int(tid)},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},1,{int(cls)},1"
                )
        return "\n".join(lines) + "\n"


@dataclass
class _Object:
    oid: int
    cls: int
    w: float
    h: float
    # piecewise trajectory: list of (frame, cx, cy) keypoints; the object exists between them
    keys: list[tuple[int, float, float]]
    wobble: float = 0.0  # amplitude of a slow sideways sway (pixels)
    phase: float = 0.0

    def position(self, frame: int) -> tuple[float, float] | None:
        for (f0, x0, y0), (f1, x1, y1) in zip(self.keys, self.keys[1:], strict=False):
            if f0 <= frame <= f1:
                t = (frame - f0) / max(1, f1 - f0)
                sway = self.wobble * math.sin(self.phase + frame / 23.0)
                return x0 + t * (x1 - x0), y0 + t * (y1 - y0) + sway
        return None


def _pedestrians(rng: np.random.Generator, frames: int, w: int, h: int) -> list[_Object]:
    objs: list[_Object] = []
    for oid in range(1, 15):
        height = float(rng.uniform(90, 150))
        width = height * float(rng.uniform(0.35, 0.45))
        cls = 1 if rng.random() < 0.15 else 0
        speed = float(rng.uniform(1.5, 3.5)) * (2.0 if cls == 1 else 1.0)
        y = float(rng.uniform(0.35, 0.85) * h)
        start = int(rng.integers(-250, int(frames * 0.6)))  # some are already in view
        sign = 1.0 if rng.random() < 0.5 else -1.0
        x0 = -width / 2 + 2 if sign > 0 else w + width / 2 - 2
        if rng.random() < 0.7:  # crosses the view
            x1 = w + width / 2 - 2 if sign > 0 else -width / 2 + 2
            dur = int(abs(x1 - x0) / speed)
            dy = float(rng.uniform(-0.2, 0.2)) * h
            keys = [(start, x0, y), (start + dur, x1, y + dy)]
        else:  # walks in, turns back, leaves, and comes in again a moment later
            walk = int(rng.integers(60, 200))
            tx = x0 + sign * speed * walk
            out_at = start + 2 * walk
            back = out_at + int(rng.integers(20, 60))
            walk2 = int(rng.integers(60, 200))
            keys = [
                (start, x0, y),
                (start + walk, tx, y),
                (out_at, x0, y),
                (back, x0, y),
                (back + walk2, x0 + sign * speed * walk2, y),
            ]
        objs.append(
            _Object(
                oid, cls, width, height, keys, float(rng.uniform(0, 6)), float(rng.uniform(0, 6))
            )
        )
    return objs


def _traffic(rng: np.random.Generator, frames: int, w: int, h: int) -> list[_Object]:
    objs: list[_Object] = []
    lanes = [(0.40, 1), (0.52, 1), (0.66, -1), (0.80, -1)]  # (y as share of h, direction)
    oid = 0
    for lane_y, direction in lanes:
        t = int(rng.integers(0, 30))
        while t < frames - 10:
            oid += 1
            cls = int(rng.choice([0, 0, 0, 0, 1, 2]))
            bw, bh = {0: (130.0, 75.0), 1: (230.0, 115.0), 2: (260.0, 120.0)}[cls]
            scale = float(rng.uniform(0.85, 1.15))
            bw, bh = bw * scale, bh * scale
            speed = float(rng.uniform(5.0, 12.0))
            x0, x1 = (-bw / 2 + 2, w + bw / 2 - 2)
            if direction < 0:
                x0, x1 = x1, x0
            y = lane_y * h
            dur = int(abs(x1 - x0) / speed)
            objs.append(_Object(oid, cls, bw, bh, [(t, x0, y), (t + dur, x1, y)]))
            t += int(bw / speed) + int(rng.integers(15, 70))
    # a crossing road: vehicles moving down or up through the lanes
    t = int(rng.integers(0, 40))
    while t < frames - 10:
        oid += 1
        bw, bh = 90.0, 110.0
        speed = float(rng.uniform(4.0, 8.0))
        cx = float(rng.uniform(0.25, 0.32) * w)
        y0, y1 = (-bh / 2 + 2, h + bh / 2 - 2)
        if rng.random() < 0.5:
            y0, y1 = y1, y0
        dur = int(abs(y1 - y0) / speed)
        objs.append(_Object(oid, 0, bw, bh, [(t, cx, y0), (t + dur, cx, y1)]))
        t += int(rng.integers(60, 140))
    return objs


def _visible_boxes(
    objs: list[_Object], frame: int, w: int, h: int
) -> list[tuple[int, int, NDArray[np.float64]]]:
    out = []
    for o in objs:
        pos = o.position(frame)
        if pos is None:
            continue
        cx, cy = pos
        box = np.array([cx - o.w / 2, cy - o.h / 2, cx + o.w / 2, cy + o.h / 2])
        clipped = np.clip(box, [0, 0, 0, 0], [w, h, w, h])
        inside = (clipped[2] - clipped[0]) * (clipped[3] - clipped[1]) / (o.w * o.h)
        if inside >= 0.5:
            out.append((o.oid, o.cls, clipped))
    return out


def _covered(box: NDArray[np.float64], others: list[NDArray[np.float64]]) -> float:
    """Share of ``box`` covered by the union of ``others`` (sampled on a grid)."""
    if not others:
        return 0.0
    xs = np.linspace(box[0], box[2], 12)
    ys = np.linspace(box[1], box[3], 12)
    gx, gy = np.meshgrid(xs, ys)
    hidden = np.zeros(gx.shape, dtype=bool)
    for o in others:
        hidden |= (gx >= o[0]) & (gx <= o[2]) & (gy >= o[1]) & (gy <= o[3])
    return float(hidden.mean())


def simulate(
    kind: str = "pedestrian",
    frames: int = 400,
    seed: int = 0,
    miss_rate: float = 0.15,
    jitter: float = 0.05,
    fp_per_frame: float = 0.5,
) -> SimulatedScene:
    """Generate a scene with known trajectories and simulated detections.

    Args:
        kind: ``"pedestrian"`` or ``"traffic"``.
        frames: number of frames (25 fps).
        seed: random seed; the same arguments always give the same scene.
        miss_rate: share of visible objects the detector misses at random.
        jitter: box noise, as a share of the box size (standard deviation).
        fp_per_frame: mean number of false boxes per frame.

    Raises:
        ValueError: unknown ``kind``.
    """
    if kind not in SCENE_KINDS:
        raise ValueError(f"unknown scene kind {kind!r}; use one of {', '.join(SCENE_KINDS)}")
    rng = np.random.default_rng([seed, SCENE_KINDS.index(kind)])
    w, h, fps = 1280, 720, 25.0
    if kind == "pedestrian":
        objs, names = _pedestrians(rng, frames, w, h), PEDESTRIAN_NAMES
        occluders = [np.array([600.0, 0.0, 680.0, h])]
        fp_size = (30.0, 130.0)
    else:
        objs, names = _traffic(rng, frames, w, h), TRAFFIC_NAMES
        occluders = [np.array([880.0, 0.0, 950.0, h])]
        fp_size = (60.0, 160.0)
    gts: list[NDArray[np.float64]] = []
    dets: list[NDArray[np.float64]] = []
    for f in range(frames):
        vis = _visible_boxes(objs, f, w, h)
        gts.append(
            np.array([[oid, *box, cls] for oid, cls, box in vis], dtype=np.float64).reshape(-1, 6)
        )
        rows = []
        for oid, cls, box in vis:
            # nearer objects (lower bottom edge on screen) hide farther ones
            nearer = [b for o2, _, b in vis if o2 != oid and b[3] > box[3]]
            if _covered(box, nearer + occluders) > 0.6 or rng.random() < miss_rate:
                continue
            bw, bh = box[2] - box[0], box[3] - box[1]
            cx = (box[0] + box[2]) / 2 + rng.normal(0, jitter * bw)
            cy = (box[1] + box[3]) / 2 + rng.normal(0, jitter * bh)
            nw = bw * (1 + rng.normal(0, jitter))
            nh = bh * (1 + rng.normal(0, jitter))
            conf = rng.uniform(0.5, 1.0)
            rows.append([cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2, conf, cls])
        for _ in range(int(rng.poisson(fp_per_frame))):
            fh = rng.uniform(*fp_size)
            fw = fh * rng.uniform(0.4, 1.6)
            x = rng.uniform(0, w - fw)
            y = rng.uniform(0, h - fh)
            cls = int(rng.choice(list(names)))
            rows.append([x, y, x + fw, y + fh, rng.uniform(0.35, 0.6), cls])
        arr = np.array(rows, dtype=np.float64).reshape(-1, 6)
        dets.append(arr[rng.permutation(len(arr))] if len(arr) else arr)
    return SimulatedScene(kind, seed, w, h, fps, dict(names), gts, dets)
