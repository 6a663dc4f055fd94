"""From per-frame tracks to per-track records, counts and counting-line crossings."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from vigie.track.pipeline.options import TrackOptions, VideoResult
from vigie.track.trackers.base import FloatArray
from vigie.types import TrackRecord

CSV_FIELDS = (
    "track_id",
    "class_name",
    "class_id",
    "max_confidence",
    "mean_confidence",
    "first_frame",
    "last_frame",
    "first_time",
    "last_time",
    "frames_seen",
    "x1",
    "y1",
    "x2",
    "y2",
    "area",
    "area_percentage",
    "size",
)


def summarise(
    per_frame: Sequence[FloatArray],
    frame_index: Sequence[int],
    frame_time: Sequence[float],
    names: dict[int, str],
    image_size: tuple[int, int],
    min_frames: int = 3,
    min_confidence: float = 0.0,
) -> list[TrackRecord]:
    """One record per track, dropping tracks seen in fewer than ``min_frames`` frames or whose
    best confidence is under ``min_confidence``.

    Args:
        per_frame: (M, 7) track arrays, one per analysed frame.
        frame_index, frame_time: the video frame number and time of each analysed frame.
    """
    rows: dict[int, list[tuple[int, FloatArray]]] = defaultdict(list)
    for k, tracks in enumerate(per_frame):
        for row in tracks:
            rows[int(row[4])].append((k, row))
    out = []
    for tid, obs in sorted(rows.items()):
        confs = np.array([r[5] for _, r in obs])
        if len(obs) < min_frames or confs.max() < min_confidence:
            continue
        cls = Counter(int(r[6]) for _, r in obs).most_common(1)[0][0]
        best = obs[int(confs.argmax())][1]
        k0, k1 = obs[0][0], obs[-1][0]
        out.append(
            TrackRecord(
                track_id=tid,
                class_name=names.get(cls, str(cls)),
                class_id=cls,
                max_confidence=round(float(confs.max()), 4),
                mean_confidence=round(float(confs.mean()), 4),
                first_frame=int(frame_index[k0]),
                last_frame=int(frame_index[k1]),
                first_time=round(float(frame_time[k0]), 3),
                last_time=round(float(frame_time[k1]), 3),
                frames_seen=len(obs),
                best_box=(
                    round(float(best[0]), 1),
                    round(float(best[1]), 1),
                    round(float(best[2]), 1),
                    round(float(best[3]), 1),
                ),
                image_width=image_size[0],
                image_height=image_size[1],
            )
        )
    return out


def video_result(
    res: VideoResult,
    per_frame: Sequence[FloatArray],
    index: Sequence[int],
    times: Sequence[float],
    names: dict[int, str],
    image_size: tuple[int, int],
    opts: TrackOptions,
) -> list[FloatArray]:
    """Fill ``res`` (status, tracks, counts, crossings, frames analysed) from a video's tracks;
    the per-frame arrays of the tracks kept (``opts.min_frames``, ``opts.conf``)."""
    records = summarise(per_frame, index, times, names, image_size, opts.min_frames, opts.conf)
    kept = keep_tracks(per_frame, records)
    res.status = "partial" if res.warning else "done"
    res.tracks, res.counts, res.frames_analysed = records, counts_per_class(records), len(index)
    res.crossings = line_crossings(kept, opts.line, names) if opts.line else {}
    return kept


def keep_tracks(
    per_frame: Sequence[FloatArray], records: Sequence[TrackRecord]
) -> list[FloatArray]:
    """The per-frame arrays restricted to the tracks that have a record."""
    ids = np.array(sorted(r.track_id for r in records), dtype=np.float64)
    return [t[np.isin(t[:, 4], ids)] if len(t) else t for t in per_frame]


def counts_per_class(records: Sequence[TrackRecord]) -> dict[str, int]:
    return dict(sorted(Counter(r.class_name for r in records).items()))


def record_dict(r: TrackRecord) -> dict[str, object]:
    """A record as flat JSON/CSV data with the derived fields."""
    d = asdict(r)
    box = d.pop("best_box")
    d.pop("image_width")
    d.pop("image_height")
    d.update(x1=box[0], y1=box[1], x2=box[2], y2=box[3])
    d.update(area=round(r.area, 1), area_percentage=round(r.area_percentage, 4), size=r.size)
    return {k: d[k] for k in CSV_FIELDS}


def records_csv(records: Sequence[TrackRecord]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow(record_dict(r))
    return buf.getvalue()


def _side(p: FloatArray, a: FloatArray, b: FloatArray) -> float:
    return float((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]))


def _segments_cross(p: FloatArray, q: FloatArray, a: FloatArray, b: FloatArray) -> bool:
    d1, d2 = _side(p, a, b), _side(q, a, b)
    d3, d4 = _side(a, p, q), _side(b, p, q)
    return d1 * d2 < 0 and d3 * d4 <= 0


def line_crossings(
    per_frame: Sequence[FloatArray],
    line: tuple[float, float, float, float],
    names: dict[int, str],
    margin: float = 2.0,
) -> dict[str, dict[str, int]]:
    """Crossings of a counting line by track centres, per class and direction.

    Direction ``in`` is a crossing from the right-hand side of the line (looking from its first
    point to its second) to its left-hand side, ``out`` the reverse (image coordinates, y down).
    A centre within ``margin`` pixels of the line keeps its previous side, so jitter on the line
    counts once.
    """
    a, b = np.array(line[:2], dtype=float), np.array(line[2:], dtype=float)
    length = float(np.linalg.norm(b - a)) or 1.0
    paths: dict[int, list[tuple[FloatArray, int]]] = defaultdict(list)
    for tracks in per_frame:
        for row in tracks:
            centre = np.array([(row[0] + row[2]) / 2, (row[1] + row[3]) / 2])
            paths[int(row[4])].append((centre, int(row[6])))
    result: dict[str, dict[str, int]] = {}
    for path in paths.values():
        cls = Counter(c for _, c in path).most_common(1)[0][0]
        name = names.get(cls, str(cls))
        last_p: FloatArray | None = None
        last_side = 0.0
        for p, _ in path:
            dist = _side(p, a, b) / length
            if abs(dist) <= margin:
                continue
            crossed = last_p is not None and np.sign(dist) != np.sign(last_side)
            if crossed and last_p is not None and _segments_cross(last_p, p, a, b):
                # y grows downwards: a negative cross product is the left-hand side
                direction = "in" if dist < 0 else "out"
                per = result.setdefault(name, {"in": 0, "out": 0})
                per[direction] += 1
            last_p, last_side = p, dist
    return dict(sorted(result.items()))
