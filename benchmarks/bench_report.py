"""Benchmark of `vigie report` against the usual way: matplotlib PNG charts in an HTML page.

One catalog (cached under benchmarks/.out/report/) holding a day of camera snapshots with their
detections, a study of images with detections, videos with tracks, and a trained model's
results.csv. Both contenders read it through the same queries (vigie.report.data), draw the same
charts and the same annotated samples, and write one folder:

- baseline: matplotlib (Agg) draws each chart to a PNG, the page links them with <img>;
- vigie: ``build_report`` writes each chart as inline SVG (vigie.report.svg).

    .venv/bin/python benchmarks/bench_report.py            # 1440 snapshots, 3 runs each
    .venv/bin/python benchmarks/bench_report.py --quick    # 300 snapshots, 1 run each
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / ".out" / "report"
sys.path.insert(0, str(HERE.parent / "src"))

from vigie.catalog import Catalog  # noqa: E402
from vigie.catalog.detections import replace_detections  # noqa: E402
from vigie.catalog.models import register_model  # noqa: E402
from vigie.catalog.tracks import replace_tracks  # noqa: E402
from vigie.demo.scene import Scene, write_snapshots  # noqa: E402
from vigie.report import build_report  # noqa: E402
from vigie.report import data as d  # noqa: E402
from vigie.report.build import draw_boxes  # noqa: E402
from vigie.types import size_category  # noqa: E402


def _det(b: object, scene: Scene) -> dict[str, object]:
    x1, y1, x2, y2 = b.x1, b.y1, b.x2, b.y2  # type: ignore[attr-defined]
    area = (x2 - x1) * (y2 - y1)
    pct = 100 * area / (scene.width * scene.height)
    return {"class_id": b.class_id, "class_name": b.class_name, "confidence": 0.8,  # type: ignore[attr-defined]
            "x1": x1, "y1": y1, "x2": x2, "y2": y2, "area": area, "area_percentage": pct,
            "size": size_category(pct)}  # fmt: skip


def make_catalog(snapshots: int, folder: Path) -> Catalog:
    """The benchmark catalog (built once per size, then reused)."""
    db = folder / f"bench-{snapshots}.db"
    if db.exists():
        return Catalog(f"sqlite:///{db}")
    folder.mkdir(parents=True, exist_ok=True)
    cat = Catalog(f"sqlite:///{db}.part")
    scene = Scene(seed=0)
    files = write_snapshots(scene, folder / "img", range(0, 120, 10), labels=False)
    cam = cat.source("camera", "CAM1")
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    rows = [
        {"key": f"cam:{i}", "source_id": cam, "kind": "image", "status": "done" if i % 3 else
         "duplicate", "path": str(files[i % len(files)]), "captured_at": t0 + timedelta(minutes=i)}
        for i in range(snapshots)
    ]  # fmt: skip
    cat.upsert_items(rows)
    ids = {r.key: r.id for r in cat.items(source_id=cam)}
    dets = {ids[f"cam:{i}"]: [_det(b, scene) for b in scene.boxes(i * 7)] for i in range(snapshots)}
    replace_detections(cat, dets, model_name="m")
    study = cat.source("study", "53")
    cat.upsert_items(
        [
            {"key": f"s:{i}", "source_id": study, "kind": "image", "study_id": 53,
             "platform_id": 1 + i % 3, "status": "failed" if i % 17 == 0 else "done",
             "error_class": "http_404" if i % 17 == 0 else None, "path": str(files[i % 12])}
            for i in range(snapshots // 3)
        ]
    )  # fmt: skip
    ids = {r.key: r.id for r in cat.items(source_id=study)}
    replace_detections(
        cat,
        {v: [_det(b, scene) for b in scene.boxes(int(v) * 3)] for v in ids.values()},
        model_name="m",
    )
    for v in range(20):
        vid = cat.upsert_item(key=f"v:{v}", source_id=study, kind="video", study_id=53,
                              platform_id=3, status="done", duration=30.0)  # fmt: skip
        tracks = [
            {**_det(b, scene), "track_id": k, "max_confidence": 0.9, "mean_confidence": 0.7,
             "first_frame": k * 5, "last_frame": k * 5 + 60, "first_time": k * 0.5,
             "last_time": k * 0.5 + 6, "frames_seen": 60}
            for k, b in enumerate(scene.boxes(v * 40) * 3)
        ]  # fmt: skip
        replace_tracks(cat, vid, tracks, model_name="m", tracker="vigie", run_id=None,
                       video={"signature": "b", "status": "done"})  # fmt: skip
    run = folder / "run"
    (run / "weights").mkdir(parents=True, exist_ok=True)
    (run / "weights" / "best.pt").write_bytes(b"x")
    head = "epoch,train/box_loss,train/cls_loss,val/box_loss,metrics/mAP50(B),metrics/mAP50-95(B)"
    lines = [head] + [f"{e},{3 - e / 40},{4 - e / 30},{3 - e / 50},{e / 100},{e / 200}"
                      for e in range(1, 51)]  # fmt: skip
    (run / "results.csv").write_text("\n".join(lines))
    register_model(cat, "m", run / "weights" / "best.pt", metrics={"all": {"mAP50": 0.5}})
    cat.close()
    Path(f"{db}.part").rename(db)
    return Catalog(f"sqlite:///{db}")


def baseline(cat: Catalog, out: Path) -> int:
    """Same data, matplotlib PNG charts, an HTML page of <img> tags."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shutil.rmtree(out, ignore_errors=True)
    (out / "img").mkdir(parents=True)
    charts: list[str] = []

    def save(fig: object, name: str) -> None:
        fig.savefig(out / "img" / name, dpi=100)  # type: ignore[attr-defined]
        plt.close(fig)  # type: ignore[arg-type]
        charts.append(name)

    for s in d.load_camera_series(cat):
        fig, ax = plt.subplots(figsize=(5.6, 2.4))
        for cls, pts in s.points.items():
            ax.plot([t for t, _ in pts], [v for _, v in pts], marker=".", label=cls)
        ax.legend()
        save(fig, f"cam_{s.camera}.png")
    studies = d.load_study_objects(cat)
    if studies:
        fig, ax = plt.subplots(figsize=(5.6, 2.6))
        base = [0.0] * len(studies)
        for size in d.SIZE_ORDER:
            vals = [float(st.by_size.get(size, 0)) for st in studies]
            ax.bar(
                [f"{st.study_id}·{st.platform}" for st in studies], vals, bottom=base, label=size
            )
            base = [a + b for a, b in zip(base, vals, strict=True)]
        ax.legend()
        save(fig, "studies.png")
    for i, v in enumerate(d.load_video_tracks(cat)):
        fig, ax = plt.subplots(figsize=(5.6, 1.5))
        rows = sorted({t[0] for t in v.tracks})
        for cls, start, end, _tid, _c in v.tracks:
            ax.barh(rows.index(cls), end - start, left=start, alpha=0.5)
        ax.set_yticks(range(len(rows)), rows)
        save(fig, f"tracks_{i}.png")
    for m in d.load_models(cat):
        fig, ax = plt.subplots(figsize=(4.4, 2.4))
        for key, pts in m.curves.items():
            ax.plot([e for e, _ in pts], [v for _, v in pts], label=key)
        ax.legend()
        save(fig, f"model_{m.name}.png")
    health = d.load_health(cat)
    if health:
        fig, ax = plt.subplots(figsize=(5.6, 2.6))
        base = [0.0] * len(health)
        for status in ("done", "duplicate", "failed"):
            vals = [float(h.statuses.get(status, 0)) for h in health]
            ax.bar([f"{h.kind}:{h.name}" for h in health], vals, bottom=base, label=status)
            base = [a + b for a, b in zip(base, vals, strict=True)]
        save(fig, "health.png")
    for i, sample in enumerate(d.load_samples(cat, 8)):
        draw_boxes(sample, out / "img" / f"sample_{i:02d}.jpg")
        charts.append(f"sample_{i:02d}.jpg")
    page = "".join(f'<img src="img/{c}">' for c in charts)
    (out / "index.html").write_text(f"<!DOCTYPE html><html><body>{page}</body></html>")
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file())


def vigie(cat: Catalog, out: Path) -> int:
    build_report(cat, out)
    return sum(p.stat().st_size for p in out.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller catalog, one run each")
    args = parser.parse_args()
    snapshots, runs = (300, 1) if args.quick else (1440, 3)
    t = time.perf_counter()
    cat = make_catalog(snapshots, OUT)
    print(f"catalog: {snapshots} snapshots (ready in {time.perf_counter() - t:.1f} s)")
    times: dict[str, list[float]] = {"baseline (matplotlib PNG)": [], "vigie (inline SVG)": []}
    sizes: dict[str, int] = {}
    for _ in range(runs):
        for name, fn in (("baseline (matplotlib PNG)", baseline), ("vigie (inline SVG)", vigie)):
            t = time.perf_counter()
            sizes[name] = fn(cat, OUT / name.split()[0])
            times[name].append(time.perf_counter() - t)
    cat.close()
    base, ours = (statistics.median(v) for v in times.values())
    for name, values in times.items():
        print(
            f"{name:28s} median {statistics.median(values):6.2f} s  "
            f"({len(values)} runs)  folder {sizes[name] / 1e6:.2f} MB"
        )
    print(f"ratio baseline/vigie: {base / ours:.2f}x")


if __name__ == "__main__":
    main()
