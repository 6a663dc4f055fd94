"""Cutting a long video into overlapping time segments, and stitching their tracks back.

A segment is tracked on its own (a Ray task each, :mod:`vigie.track.pipeline.on_ray`); its
:class:`Piece` holds the per-frame track arrays ``(M, 7)`` (x1, y1, x2, y2, id, confidence,
class) of the frames it analysed, numbered as in the whole video. Two consecutive segments
share the frames of the overlap: a track of the later segment is the same object as the track
of the earlier one whose boxes on those shared frames overlap it best (mean IoU, one-to-one by
the Hungarian algorithm, at least ``threshold``); it takes that track's id. On a shared frame
the boxes of the earlier segment are kept in the first half of the overlap, those of the later
one in the second half (each segment's tracker has more context there). Ids are then numbered
1, 2, ... in order of first appearance.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vigie.track.trackers.base import FloatArray

MATCH_IOU = 0.3  # mean IoU over the shared frames for two tracks to be one


@dataclass
class Piece:
    """The tracks of the frames a segment (or the whole video) analysed, in order."""

    index: list[int] = field(default_factory=list)  # video frame numbers, ascending
    times: list[float] = field(default_factory=list)  # their times (seconds)
    per_frame: list[FloatArray] = field(default_factory=list)  # (M, 7) each


def cut(
    times: Sequence[float],
    start: float | None,
    end: float | None,
    seconds: float,
    overlap: float,
    stride: int = 1,
) -> list[tuple[int, int]]:
    """Frame ranges ``(first, last)`` (inclusive) of the segments of a video's range.

    ``times`` are the frames' times; ``start``/``end`` the range asked for (None: the whole
    video). Each segment covers ``seconds`` plus ``overlap`` seconds shared with the next one,
    and starts on a frame that the whole video's ``stride`` would analyse, so the segments
    analyse the same frames as one pass would, and share at least two analysed frames. One
    range (uncut) when the video is not longer than ``seconds`` or ``seconds`` is 0.
    """
    first = bisect_left(times, start - 1e-6) if start is not None else 0
    last = (bisect_right(times, end + 1e-6) if end is not None else len(times)) - 1
    if last < first:
        return []
    if seconds <= 0 or times[last] - times[first] <= seconds:
        return [(first, last)]
    t0 = times[first]
    starts = [first]
    k = 1
    while True:
        i = bisect_left(times, t0 + k * seconds - 1e-6, lo=first, hi=last + 1)
        if i > last:
            break
        i = first + (i - first) // stride * stride  # on the stride's grid
        if i >= last or times[last] - times[i] <= overlap:  # no segment of the overlap alone
            break
        if i > starts[-1]:
            starts.append(i)
        k += 1
    ranges = []
    for n, a in enumerate(starts):
        if n + 1 == len(starts):
            ranges.append((a, last))
            break
        nxt = starts[n + 1]
        b = bisect_right(times, times[nxt] + overlap + 1e-6, lo=a, hi=last + 1) - 1
        ranges.append((a, min(last, max(b, nxt + stride))))
    return ranges


def iou(a: FloatArray, b: FloatArray) -> float:
    """Intersection over union of two boxes (x1, y1, x2, y2)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _rows(piece: Piece, frames: Sequence[int]) -> dict[int, dict[int, FloatArray]]:
    """Track id -> frame -> row, on ``frames`` only."""
    where = {f: k for k, f in enumerate(piece.index)}
    out: dict[int, dict[int, FloatArray]] = {}
    for f in frames:
        for row in piece.per_frame[where[f]]:
            out.setdefault(int(row[4]), {})[f] = row
    return out


def _classes(tracks: dict[int, dict[int, FloatArray]]) -> dict[int, int]:
    """Each track's most frequent class."""
    return {
        tid: Counter(int(r[6]) for r in rows.values()).most_common(1)[0][0]
        for tid, rows in tracks.items()
    }


def match(earlier: Piece, later: Piece, threshold: float = MATCH_IOU) -> dict[int, int]:
    """Ids of ``later`` -> ids of ``earlier`` for the tracks that are the same objects.

    Two tracks of different classes are never one. The score of a pair is the IoU of their boxes summed over the shared frames where both are
    seen, divided by the shared frames where either is seen.
    """
    from scipy.optimize import linear_sum_assignment

    shared = sorted(set(earlier.index) & set(later.index))
    a, b = _rows(earlier, shared), _rows(later, shared)
    if not a or not b:
        return {}
    ids_a, ids_b = sorted(a), sorted(b)
    cls_a, cls_b = _classes(a), _classes(b)
    score = np.zeros((len(ids_a), len(ids_b)))
    for i, ta in enumerate(ids_a):
        for j, tb in enumerate(ids_b):
            both = a[ta].keys() & b[tb].keys()
            if both and cls_a[ta] == cls_b[tb]:
                total = sum(iou(a[ta][f], b[tb][f]) for f in both)
                score[i, j] = total / len(a[ta].keys() | b[tb].keys())
    rows, cols = linear_sum_assignment(-score)
    return {ids_b[j]: ids_a[i] for i, j in zip(rows, cols, strict=True) if score[i, j] >= threshold}


def stitch(pieces: Sequence[Piece], threshold: float = MATCH_IOU) -> Piece:
    """One piece of the segments' pieces (in time order), tracks merged across the cuts and
    numbered 1, 2, ... in order of first appearance."""
    merged = Piece()
    if not pieces:
        return merged
    rows: dict[int, dict[int, FloatArray]] = {}  # frame -> global id -> row
    times: dict[int, float] = {}
    prev: Piece | None = None
    prev_ids: dict[int, int] = {}
    next_id = 1
    for piece in pieces:
        ids: dict[int, int] = {}
        if prev is not None:
            ids = {lb: prev_ids[la] for lb, la in match(prev, piece, threshold).items()}
        shared = sorted(set(piece.index) & set(prev.index)) if prev is not None else []
        mid = shared[len(shared) // 2] if shared else None
        for f, t, tracks in zip(piece.index, piece.times, piece.per_frame, strict=True):
            times[f] = t
            frame = rows.setdefault(f, {})
            for row in tracks:
                local = int(row[4])
                if local not in ids:
                    ids[local] = next_id
                    next_id += 1
                gid = ids[local]
                if gid not in frame or (mid is not None and f >= mid):
                    frame[gid] = row
        prev, prev_ids = piece, ids
    frames = sorted(rows)
    order: dict[int, int] = {}
    for f in frames:
        for gid in sorted(rows[f], key=lambda g: (rows[f][g][0], rows[f][g][1], g)):
            order.setdefault(gid, len(order) + 1)
    for f in frames:
        out = [np.array(r, dtype=np.float64) for _, r in sorted(rows[f].items())]
        for r, gid in zip(out, sorted(rows[f]), strict=True):
            r[4] = order[gid]
        arr = np.array(out).reshape(-1, 7) if out else np.zeros((0, 7))
        merged.per_frame.append(arr[np.argsort(arr[:, 4], kind="stable")] if len(arr) else arr)
        merged.index.append(f)
        merged.times.append(times[f])
    return merged
