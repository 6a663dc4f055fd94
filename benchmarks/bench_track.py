"""Tracker accuracy and speed on the same simulated detections.

SORT (the seed's), ultralytics' ByteTrack, BoT-SORT and OC-SORT (through Vigie's adapter), and
Vigie's default tracker, on pedestrian and traffic scenes from ``vigie.track.simulate`` (15 %
missed detections, 5 % box jitter, ~0.5 false boxes per frame). Prints per scene kind the median
over seeds of MOTA, IDF1, HOTA (py-motmetrics + TrackEval's HOTA definition) and tracker time per
frame, then Vigie's margin over the best ultralytics tracker.

    .venv/bin/python benchmarks/bench_track.py            # 5 seeds x 2 kinds x 600 frames
    .venv/bin/python benchmarks/bench_track.py --quick    # 2 seeds x 300 frames
"""

from __future__ import annotations

import argparse
import statistics
import time

from vigie.track import evaluate_frames, make_tracker, simulate

TRACKERS = ("sort", "bytetrack", "botsort", "ocsort", "vigie")
ULTRALYTICS = ("bytetrack", "botsort", "ocsort")


def run(name: str, kind: str, seed: int, frames: int) -> dict[str, float]:
    scene = simulate(kind, frames=frames, seed=seed)
    params = {"image_size": (scene.width, scene.height)} if name == "vigie" else {}
    tracker = make_tracker(name, **params)
    t0 = time.perf_counter()
    for dets in scene.detections:
        tracker.update(dets)
    out = tracker.finish()  # includes Vigie's offline pass
    ms = (time.perf_counter() - t0) * 1000 / scene.frames
    m = evaluate_frames(scene.gt_mot(), ((i + 1, t) for i, t in enumerate(out)))
    return {"mota": m["mota"], "idf1": m["idf1"], "hota": m["hota"], "ms": ms}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--quick", action="store_true", help="2 seeds x 300 frames")
    args = ap.parse_args()
    seeds, frames = (2, 300) if args.quick else (args.seeds, args.frames)
    print(f"seeds 0..{seeds - 1}, {frames} frames per scene; medians over seeds")
    ok = True
    for kind in ("pedestrian", "traffic"):
        rows = {n: [run(n, kind, s, frames) for s in range(seeds)] for n in TRACKERS}
        med = {n: {k: statistics.median(r[k] for r in v) for k in v[0]} for n, v in rows.items()}
        print(f"\n{kind:<11}{'MOTA':>8}{'IDF1':>8}{'HOTA':>8}{'ms/frame':>10}")
        for n in TRACKERS:
            m = med[n]
            print(f"{n:<11}{m['mota']:>8.3f}{m['idf1']:>8.3f}{m['hota']:>8.3f}{m['ms']:>10.2f}")
        best = {k: max(med[n][k] for n in ULTRALYTICS) for k in ("mota", "idf1", "hota")}
        print(
            f"vigie - best ultralytics: MOTA {med['vigie']['mota'] - best['mota']:+.3f}, "
            f"IDF1 {med['vigie']['idf1'] - best['idf1']:+.3f}, "
            f"HOTA {med['vigie']['hota'] - best['hota']:+.3f}; "
            f"sort - bytetrack MOTA {med['sort']['mota'] - med['bytetrack']['mota']:+.3f}"
        )
        ok &= med["vigie"]["mota"] > best["mota"] and med["vigie"]["idf1"] > best["idf1"]
    print(
        "\ntarget (vigie beats every ultralytics tracker on MOTA and IDF1):",
        "met" if ok else "NOT met",
    )


if __name__ == "__main__":
    main()
