"""Offline refinement of tracks over a whole video: link fragments, fill gaps, drop spurious tracks.

Pure functions on observations (frame -> x1, y1, x2, y2, conf, cls); used by the ``vigie`` tracker.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from vigie.track.trackers.base import FloatArray, assign

_FIT = 10  # observations used to estimate the motion at each end of a fragment
_BORDER = 4.0  # pixels: a box this close to the frame edge is leaving or entering


@dataclass
class _Fragment:
    frames: np.ndarray  # (K,) int, increasing
    obs: FloatArray  # (K, 6)

    @property
    def first(self) -> int:
        return int(self.frames[0])

    @property
    def last(self) -> int:
        return int(self.frames[-1])

    def centres(self) -> FloatArray:
        b = self.obs[:, :4]
        return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], axis=1)

    def size(self, head: bool) -> FloatArray:
        b = self.obs[:_FIT] if head else self.obs[-_FIT:]
        return np.median(np.stack([b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], axis=1), axis=0)

    def end_state(self, head: bool) -> tuple[FloatArray, FloatArray]:
        """(centre, velocity per frame) fitted at the start (head) or the end of the fragment."""
        sl = slice(0, _FIT) if head else slice(-_FIT, None)
        f = self.frames[sl].astype(float)
        c = self.centres()[sl]
        if len(f) < 3 or f[-1] == f[0]:
            return c[0 if head else -1], np.zeros(2)
        coef = np.polyfit(f - f[0], c, 1)  # (2, 2): slope, intercept per axis
        at = 0.0 if head else f[-1] - f[0]
        return coef[1] + coef[0] * at, coef[0]

    def klass(self) -> int:
        return Counter(int(c) for c in self.obs[:, 5]).most_common(1)[0][0]


def _link_cost(a: _Fragment, b: _Fragment, link_gap: int) -> float:
    gap = b.first - a.last
    if gap < 1 or gap > link_gap or a.klass() != b.klass():
        return np.inf
    sa, sb = a.size(head=False), b.size(head=True)
    if np.abs(np.log(np.maximum(sa, 1.0) / np.maximum(sb, 1.0))).max() > 0.35:
        return np.inf
    ca, va = a.end_state(head=False)
    cb, vb = b.end_state(head=True)
    scale = float(np.sqrt(sa[0] * sa[1]))
    err_fwd = np.linalg.norm(ca + va * gap - cb)
    err_bwd = np.linalg.norm(cb - vb * gap - ca)
    err = 0.5 * (err_fwd + err_bwd) / max(scale, 1.0)
    tol = 0.4 + 0.02 * gap
    return float(err / tol)


def link_fragments(frags: list[_Fragment], link_gap: int) -> list[_Fragment]:
    """Join fragments whose extrapolated motions meet (one Hungarian assignment)."""
    if len(frags) < 2:
        return frags
    cost = np.array([[_link_cost(a, b, link_gap) for b in frags] for a in frags])
    pairs, _, _ = assign(cost, 1.0)
    nxt = dict(pairs)
    has_prev = {b for _, b in pairs}
    out = []
    for i in range(len(frags)):
        if i in has_prev:
            continue
        chain = [i]
        while chain[-1] in nxt:
            chain.append(nxt[chain[-1]])
        out.append(
            _Fragment(
                np.concatenate([frags[j].frames for j in chain]),
                np.concatenate([frags[j].obs for j in chain]),
            )
        )
    return out


def _touches_border(box: FloatArray, image_size: tuple[int, int] | None) -> bool:
    if image_size is None:
        return False
    w, h = image_size
    return bool(
        box[0] <= _BORDER or box[1] <= _BORDER or box[2] >= w - _BORDER or box[3] >= h - _BORDER
    )


def fill_gaps(
    frag: _Fragment, interp_gap: int, image_size: tuple[int, int] | None
) -> tuple[np.ndarray, FloatArray]:
    """Dense frames and boxes (x1, y1, x2, y2, conf) with gaps <= interp_gap interpolated."""
    frames: list[int] = []
    rows: list[FloatArray] = []
    for k in range(len(frag.frames)):
        f0, o0 = int(frag.frames[k]), frag.obs[k]
        frames.append(f0)
        rows.append(o0[:5])
        if k + 1 == len(frag.frames):
            break
        f1, o1 = int(frag.frames[k + 1]), frag.obs[k + 1]
        gap = f1 - f0
        if gap <= 1 or gap > interp_gap:
            continue
        if _touches_border(o0, image_size) and _touches_border(o1, image_size):
            continue  # it left the picture and came back: nothing to draw in between
        conf = min(o0[4], o1[4])
        for f in range(f0 + 1, f1):
            t = (f - f0) / gap
            frames.append(f)
            rows.append(np.r_[o0[:4] + t * (o1[:4] - o0[:4]), conf])
    return np.array(frames, dtype=np.int64), np.array(rows, dtype=np.float64)


def smooth_boxes(frames: np.ndarray, boxes: FloatArray, half: int) -> FloatArray:
    """Centred moving average of the boxes over runs of consecutive frames."""
    if half <= 0 or len(frames) < 3:
        return boxes
    out = boxes.copy()
    breaks = np.flatnonzero(np.diff(frames) > 1) + 1
    for seg in np.split(np.arange(len(frames)), breaks):
        n = len(seg)
        if n < 3:
            continue
        cs = np.vstack([np.zeros((1, 4)), np.cumsum(boxes[seg, :4], axis=0)])
        for i in range(n):
            k = min(half, i, n - 1 - i)  # symmetric window keeps linear motion unbiased
            out[seg[i], :4] = (cs[i + k + 1] - cs[i - k]) / (2 * k + 1)
    return out


def refine(
    tracks: list[dict[int, FloatArray]],
    frames: int,
    link_gap: int = 90,
    interp_gap: int = 60,
    min_len: int = 5,
    min_mean_conf: float = 0.6,
    smooth: int = 2,
    image_size: tuple[int, int] | None = None,
) -> list[FloatArray]:
    """Refine online tracks (frame -> observation dicts) into per-frame (M, 7) track arrays."""
    frags = []
    for obs in tracks:
        keys = sorted(obs)
        frags.append(_Fragment(np.array(keys, dtype=np.int64), np.array([obs[k] for k in keys])))
    frags = link_fragments(frags, link_gap)
    keep = [
        f for f in frags if len(f.frames) >= min_len and float(f.obs[:, 4].mean()) >= min_mean_conf
    ]
    keep.sort(key=lambda f: (f.first, f.last))
    per_frame: list[list[list[float]]] = [[] for _ in range(frames)]
    for new_id, frag in enumerate(keep, 1):
        fr, rows = fill_gaps(frag, interp_gap, image_size)
        rows = smooth_boxes(fr, rows, smooth)
        cls = float(frag.klass())
        for f, r in zip(fr, rows, strict=True):
            if 0 <= f < frames:
                per_frame[f].append([*r[:4], float(new_id), float(r[4]), cls])
    return [np.array(p, dtype=np.float64).reshape(-1, 7) for p in per_frame]
