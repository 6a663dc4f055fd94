"""Benchmark of `vigie serve`: response time of the detections page at 1,000 and 100,000 detections.

A generated catalog per size (cached under benchmarks/.out/serve/): one camera whose snapshots
carry 5 detections each (classes, sizes and confidences spread out), N detections in all. The
dashboard runs on 127.0.0.1 (uvicorn in a thread, as ``vigie serve`` does); each URL is asked
``--repeat`` times after one warm-up request and the median is printed:

- the first page (HTML ``/detections`` and JSON ``/api/detections``, 48 images);
- a page deep in the match (``before=`` a cursor at 90 % of the ids: keyset paging);
- a filtered page (one class, a confidence range);
- ``/api/cameras`` (the live page's refresh), for the same catalog.

    .venv/bin/python benchmarks/bench_serve.py                 # 1,000 and 100,000, 30 requests
    .venv/bin/python benchmarks/bench_serve.py --sizes 1000 --repeat 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / ".out" / "serve"
sys.path.insert(0, str(HERE.parent / "src"))

import httpx  # noqa: E402

from vigie.catalog import Catalog  # noqa: E402
from vigie.catalog.detections import replace_detections  # noqa: E402
from vigie.demo.scene import Scene, write_snapshots  # noqa: E402
from vigie.serve import Dashboard, ServeOptions  # noqa: E402

CLASSES = ("Car", "Bus", "Truck", "Bicycle", "Pedestrian")
SIZES = ("large", "medium", "small", "negligible")
PER_IMAGE = 5


def make_workspace(detections: int) -> Path:
    """A workspace whose catalog holds ``detections`` boxes (built once per size)."""
    root = OUT / f"ws-{detections}"
    if (root / "vigie.db").exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    (shot,) = write_snapshots(Scene(seed=0), root / "captures" / "CAM1", [0], labels=False)
    cat = Catalog(f"sqlite:///{root / 'vigie.db'}")
    cam = cat.source("camera", "CAM1")
    t0 = datetime(2026, 1, 5, tzinfo=UTC)
    images = detections // PER_IMAGE
    batch = 2000
    for start in range(0, images, batch):
        keys = [f"camera:CAM1:{i:08d}.jpg" for i in range(start, min(images, start + batch))]
        cat.upsert_items(
            [_snapshot(key, cam, str(shot.resolve()), t0 + timedelta(minutes=start + j))
             for j, key in enumerate(keys)]
        )  # fmt: skip
        ids = [cat.item(k).id for k in (keys[0], keys[-1])]  # type: ignore[union-attr]
        rows = {
            item_id: [_box(item_id, k) for k in range(PER_IMAGE)]
            for item_id in range(ids[0], ids[1] + 1)
        }
        replace_detections(cat, rows, model_name="bench-model")
    cat.close()
    return root


def _snapshot(key: str, source: int, path: str, at: datetime) -> dict[str, object]:
    return {"key": key, "source_id": source, "kind": "image", "path": path,
            "filename": key.rsplit(":", 1)[1], "width": 320, "height": 240, "captured_at": at,
            "status": "done"}  # fmt: skip


def _box(item: int, k: int) -> dict[str, object]:
    x = 10.0 + 50 * k
    return {"class_id": (item + k) % 5, "class_name": CLASSES[(item + k) % 5],
            "confidence": round(0.05 + ((item * 7 + k * 13) % 90) / 100, 2),
            "x1": x, "y1": 100.0, "x2": x + 40, "y2": 130.0, "area": 1200.0,
            "area_percentage": 1.5, "size": SIZES[(item + k) % 4]}  # fmt: skip


def median_ms(client: httpx.Client, url: str, repeat: int) -> float:
    res = client.get(url)  # warm-up (and a check)
    res.raise_for_status()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        client.get(url).raise_for_status()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def run(detections: int, repeat: int) -> dict[str, float]:
    root = make_workspace(detections)
    options = ServeOptions(f"sqlite:///{root / 'vigie.db'}", root, port=0)
    with Dashboard(options) as dash, httpx.Client(base_url=dash.url, timeout=60) as client:
        first = client.get("api/detections").json()
        n_ids = detections // PER_IMAGE
        deep = first["images"][0]["id"] - int(0.9 * n_ids)
        urls = {
            "html first page": "detections",
            "json first page": "api/detections",
            "html deep page": f"detections?before={deep}",
            "json deep page": f"api/detections?before={deep}",
            "html filtered": "detections?class=Bus&min_conf=0.5&max_conf=0.8",
            "json filtered": "api/detections?class=Bus&min_conf=0.5&max_conf=0.8",
            "json cameras": "api/cameras",
        }
        return {name: median_ms(client, url, repeat) for name, url in urls.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    results = {n: run(n, args.repeat) for n in args.sizes}
    names = list(next(iter(results.values())))
    print(f"median of {args.repeat} requests, ms")
    print(f"{'':18}" + "".join(f"{n:>14,}" for n in args.sizes))
    for name in names:
        print(f"{name:18}" + "".join(f"{results[n][name]:14.1f}" for n in args.sizes))


if __name__ == "__main__":
    main()
