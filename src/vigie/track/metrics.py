"""Tracking accuracy: MOTA and IDF1 from py-motmetrics, HOTA as TrackEval defines it.

MOT text rows are ``frame,id,left,top,width,height,conf,class,...`` with frames from 1. In a
ground-truth file a row whose 7th column is 0 is ignored (MOTChallenge's "do not consider").

py-motmetrics 1.4.0 (the release on PyPI, pinned in the ``eval`` extra) computes MOTA, MOTP,
IDF1 and the CLEAR counts. HOTA comes from TrackEval's own ``metrics.HOTA`` (TrackEval 1.3.0 is
installed with ``--no-deps`` by ``make install``: its metadata asks for numpy>=2.3, which
label-studio-sdk refuses, but the metric code runs on the pinned numpy). Without TrackEval,
:func:`hota` falls back to a step-by-step port of TrackEval's ``metrics/hota.py`` (global
alignment score, Hungarian matching per frame, DetA and AssA averaged over IoU thresholds
0.05..0.95) that a test checks against TrackEval on the same data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigie.errors import DependencyError, SourceError

ALPHAS = np.arange(0.05, 0.99, 0.05)


@dataclass(frozen=True)
class MotFrame:
    """All boxes of one frame: ids (K,), boxes (K, 4) as left, top, width, height."""

    ids: NDArray[np.int64]
    boxes: NDArray[np.float64]


def parse_mot(text: str, *, ground_truth: bool = False) -> dict[int, MotFrame]:
    """Parse MOT text into frames (frame number -> boxes).

    Args:
        text: the file's content.
        ground_truth: drop rows whose 7th column is 0 (MOTChallenge ignore flag).

    Raises:
        SourceError: a line that is not MOT format.
    """
    rows: dict[int, list[tuple[int, float, float, float, float]]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.replace(" ", ",").split(",") if p.strip()]
        try:
            frame, tid = int(float(parts[0])), int(float(parts[1]))
            x, y, w, h = (float(v) for v in parts[2:6])
            flag = float(parts[6]) if len(parts) > 6 else 1.0
        except (ValueError, IndexError):
            raise SourceError(
                f"line {n} is not MOT format: {line[:80]!r}",
                hint="expected frame,id,left,top,width,height[,conf,class,...]",
            ) from None
        if ground_truth and flag == 0:
            continue
        rows.setdefault(frame, []).append((tid, x, y, w, h))
    return {
        f: MotFrame(
            np.array([r[0] for r in rs], dtype=np.int64),
            np.array([r[1:] for r in rs], dtype=np.float64).reshape(-1, 4),
        )
        for f, rs in rows.items()
    }


def format_mot(frames: Iterable[tuple[int, NDArray[Any]]]) -> str:
    """MOT text from ``(frame_number, tracks)``; tracks rows are x1, y1, x2, y2, id, conf, cls."""
    lines = []
    for frame, tracks in frames:
        for x1, y1, x2, y2, tid, conf, cls in np.asarray(tracks).reshape(-1, 7):
            lines.append(
                f"{frame},{int(tid)},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},"
                f"{conf:.4f},{int(cls)},-1"
            )
    return "\n".join(lines) + ("\n" if lines else "")


def _iou(gt: NDArray[np.float64], pr: NDArray[np.float64]) -> NDArray[np.float64]:
    """IoU matrix (gt x pred) of left, top, width, height boxes."""
    import motmetrics as mm

    if len(gt) == 0 or len(pr) == 0:
        return np.zeros((len(gt), len(pr)))
    # mm.distances.iou_matrix calls np.asfarray, gone in numpy 2: use its boxiou directly
    iou = mm.distances.boxiou(gt[:, None].astype(np.float64), pr[None, :].astype(np.float64))
    return np.clip(np.asarray(iou, dtype=np.float64), 0.0, 1.0)


def _trackeval_hota_class() -> Any | None:
    """TrackEval's HOTA metric class, or None when TrackEval is not installed."""
    import contextlib
    import io

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints about optional datasets
            from trackeval.metrics import HOTA
    except Exception:
        return None
    return HOTA


def hota(gt: dict[int, MotFrame], pred: dict[int, MotFrame]) -> dict[str, float]:
    """HOTA, DetA, AssA and LocA, averaged over the IoU thresholds (TrackEval's implementation)."""
    metric = _trackeval_hota_class()
    if metric is None:
        return hota_port(gt, pred)
    return trackeval_hota(gt, pred, metric)


def trackeval_hota(
    gt: dict[int, MotFrame], pred: dict[int, MotFrame], metric: Any | None = None
) -> dict[str, float]:
    """HOTA computed by TrackEval's ``metrics.HOTA().eval_sequence`` on our MOT frames."""
    metric = metric or _trackeval_hota_class()
    if metric is None:
        raise DependencyError(
            "TrackEval is not installed",
            hint="install it with: pip install --no-deps trackeval==1.3.0",
        )
    empty = MotFrame(np.zeros(0, dtype=np.int64), np.zeros((0, 4)))
    frames = sorted(set(gt) | set(pred))
    gt_map = {int(i): k for k, i in enumerate(sorted({int(i) for f in gt.values() for i in f.ids}))}
    pr_map = {
        int(i): k for k, i in enumerate(sorted({int(i) for f in pred.values() for i in f.ids}))
    }
    data: dict[str, Any] = {
        "num_gt_ids": len(gt_map),
        "num_tracker_ids": len(pr_map),
        "num_gt_dets": sum(len(f.ids) for f in gt.values()),
        "num_tracker_dets": sum(len(f.ids) for f in pred.values()),
        "gt_ids": [],
        "tracker_ids": [],
        "similarity_scores": [],
    }
    for f in frames:
        g, p = gt.get(f, empty), pred.get(f, empty)
        data["gt_ids"].append(np.array([gt_map[int(i)] for i in g.ids], dtype=int))
        data["tracker_ids"].append(np.array([pr_map[int(i)] for i in p.ids], dtype=int))
        data["similarity_scores"].append(_iou(g.boxes, p.boxes))
    res = metric().eval_sequence(data)
    return {
        "hota": float(np.mean(res["HOTA"])),
        "deta": float(np.mean(res["DetA"])),
        "assa": float(np.mean(res["AssA"])),
        "loca": float(np.mean(res["LocA"])),
    }


def hota_port(gt: dict[int, MotFrame], pred: dict[int, MotFrame]) -> dict[str, float]:
    """HOTA, DetA, AssA and LocA as TrackEval computes them (fallback without TrackEval).

    Pair statistics are kept sparse (only id pairs that overlap), so long videos with many ids
    stay small in memory.
    """
    from collections import Counter, defaultdict

    from scipy.optimize import linear_sum_assignment

    eps = np.finfo(float).eps
    empty = MotFrame(np.zeros(0, dtype=np.int64), np.zeros((0, 4)))
    per_frame = []
    potential: defaultdict[tuple[int, int], float] = defaultdict(float)
    gt_count: Counter[int] = Counter()
    pr_count: Counter[int] = Counter()
    for f in sorted(set(gt) | set(pred)):
        g, p = gt.get(f, empty), pred.get(f, empty)
        sim = _iou(g.boxes, p.boxes)
        per_frame.append((g.ids, p.ids, sim))
        gt_count.update(int(i) for i in g.ids)
        pr_count.update(int(i) for i in p.ids)
        if len(g.ids) and len(p.ids):
            denom = sim.sum(0)[None, :] + sim.sum(1)[:, None] - sim
            sim_iou = np.where(denom > eps, sim / np.maximum(denom, 1e-12), 0.0)
            for r, c in zip(*np.nonzero(sim_iou), strict=True):
                potential[int(g.ids[r]), int(p.ids[c])] += float(sim_iou[r, c])
    n_gt, n_pr = sum(gt_count.values()), sum(pr_count.values())
    if n_gt == 0 or n_pr == 0:
        return {"hota": 0.0, "deta": 0.0, "assa": 0.0, "loca": 1.0 if n_gt == n_pr else 0.0}
    global_score = {k: v / (gt_count[k[0]] + pr_count[k[1]] - v) for k, v in potential.items()}
    tp = np.zeros(len(ALPHAS))
    loca_sum = np.zeros(len(ALPHAS))
    matches: list[Counter[tuple[int, int]]] = [Counter() for _ in ALPHAS]
    for gids, pids, sim in per_frame:
        if len(gids) == 0 or len(pids) == 0:
            continue
        score = (
            np.array([[global_score.get((int(a), int(b)), 0.0) for b in pids] for a in gids]) * sim
        )
        rows, cols = linear_sum_assignment(-score)
        for a, alpha in enumerate(ALPHAS):
            ok = sim[rows, cols] >= alpha - eps
            r, c = rows[ok], cols[ok]
            tp[a] += len(r)
            loca_sum[a] += sim[r, c].sum()
            matches[a].update(zip(gids[r].tolist(), pids[c].tolist(), strict=True))
    fn, fp = n_gt - tp, n_pr - tp
    assa = np.array(
        [
            sum(m * m / max(1.0, gt_count[g] + pr_count[p] - m) for (g, p), m in found.items())
            / max(1.0, tp[a])
            for a, found in enumerate(matches)
        ]
    )
    deta = tp / np.maximum(1.0, tp + fn + fp)
    hota_a = np.sqrt(deta * assa)
    loca = loca_sum / np.maximum(1e-10, tp)
    return {
        "hota": float(hota_a.mean()),
        "deta": float(deta.mean()),
        "assa": float(assa.mean()),
        "loca": float(loca.mean()),
    }


def clear_metrics(gt: dict[int, MotFrame], pred: dict[int, MotFrame]) -> dict[str, float]:
    """MOTA, MOTP, IDF1 and the CLEAR counts from py-motmetrics (IoU >= 0.5 to match)."""
    try:
        import motmetrics as mm
    except ImportError:  # pragma: no cover - the eval extra is missing
        raise DependencyError(
            "eval-track needs the optional package 'motmetrics'",
            hint="install it with: pip install 'vigie-cv[eval]'",
        ) from None
    acc = mm.MOTAccumulator(auto_id=False)
    empty = MotFrame(np.zeros(0, dtype=np.int64), np.zeros((0, 4)))
    for f in sorted(set(gt) | set(pred)):
        g, p = gt.get(f, empty), pred.get(f, empty)
        dist = 1.0 - _iou(g.boxes, p.boxes)
        dist[dist > 0.5] = np.nan  # IoU under 0.5: do not pair (MOTChallenge's rule)
        acc.update(list(g.ids), list(p.ids), dist, frameid=f)
    names = [
        "mota",
        "motp",
        "idf1",
        "idp",
        "idr",
        "precision",
        "recall",
        "num_switches",
        "num_false_positives",
        "num_misses",
        "num_fragmentations",
        "num_objects",
        "num_unique_objects",
        "mostly_tracked",
        "mostly_lost",
    ]
    summary = mm.metrics.create().compute(acc, metrics=names, name="all")
    out = {k: float(summary[k].iloc[0]) for k in names}
    out["motp"] = 1.0 - out["motp"] if not np.isnan(out["motp"]) else float("nan")  # IoU, not 1-IoU
    return out


def evaluate(gt_text: str, pred_text: str) -> dict[str, float]:
    """HOTA, DetA, AssA, LocA, MOTA, MOTP (as IoU), IDF1 and counts of ``pred`` against ``gt``.

    Both are MOT text (see :func:`parse_mot`).

    Raises:
        SourceError: a malformed file or an empty ground truth.
    """
    gt = parse_mot(gt_text, ground_truth=True)
    if not gt:
        raise SourceError("the ground truth has no boxes", hint="check the --gt file")
    pred = parse_mot(pred_text)
    return {**hota(gt, pred), **clear_metrics(gt, pred)}


def evaluate_frames(
    gt_text: str, pred_frames: Iterable[tuple[int, NDArray[Any]]]
) -> dict[str, float]:
    """:func:`evaluate` with predictions given as per-frame track arrays (see :func:`format_mot`)."""
    return evaluate(gt_text, format_mot(pred_frames))
