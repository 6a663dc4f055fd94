"""Label Studio round trip: the seed's one-request-per-image upload and sequential download
against ``vigie.labelstudio.push`` / ``pull``, on a real Label Studio server.

- push baseline: the seed's image_uploader.py: one ``POST /api/projects/<id>/import`` per image,
  one after the other;
- push vigie:    ``push`` (batches of --batch files per request, catalog bookkeeping);
- pull baseline: a JSON export, then the seed's process_json: one GET per annotated image,
  one after the other, no labels written;
- pull vigie API: ``pull(project_id=...)`` (task pages, images checked and written atomically on
  8 threads, YOLO labels); pull vigie file: ``pull(export_file=...)`` on the seed's export.

Each side runs on a fresh project with the same generated 640x480 JPEGs; prints the median
seconds of --repeat runs and the ratios. Starts its own server from ``.venv-ls``.
Run: ``.venv/bin/python benchmarks/bench_labelstudio.py [--images 60] [--repeat 3] [--quick]``
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from vigie.catalog import Catalog
from vigie.labelstudio import LabelStudioClient, label_config_xml, pull, push

REPO = Path(__file__).resolve().parents[1]
LABELS = ["Car", "Pedestrian", "Bus"]


def start_server(base: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(20)
    env = {
        **os.environ,
        "LABEL_STUDIO_USERNAME": "bench@example.com",
        "LABEL_STUDIO_PASSWORD": secrets.token_hex(12),
        "LABEL_STUDIO_USER_TOKEN": token,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LABEL_STUDIO_BASE_DATA_DIR": str(base / "data"),
        "USE_NGINX_FOR_UPLOADS": "false",
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
    }
    log = (base / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            str(REPO / ".venv-ls/bin/label-studio"),
            "start",
            "--no-browser",
            "--internal-host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(base / "data"),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url, token
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(1)
    proc.kill()
    raise SystemExit("Label Studio did not start; see " + str(base / "server.log"))


def make_images(folder: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for i in range(n):
        img = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
        img[:, :, 2] = 90
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=85)
        (folder / f"cam_{i:04d}.jpg").write_bytes(buf.getvalue())


def new_project(http: httpx.Client) -> int:
    resp = http.post(
        "/api/projects/",
        json={"title": f"bench-{secrets.token_hex(3)}", "label_config": label_config_xml(LABELS)},
    )
    resp.raise_for_status()
    return int(resp.json()["id"])


def seed_upload(http: httpx.Client, folder: Path, project: int) -> None:
    for path in sorted(folder.glob("*.jpg")):
        with path.open("rb") as fh:
            http.post(
                f"/api/projects/{project}/import", files={"file": (path.name, fh)}
            ).raise_for_status()


def annotate_all(http: httpx.Client, project: int) -> None:
    tasks = http.get("/api/tasks/", params={"project": project, "page_size": 10000}).json()["tasks"]
    for t in tasks:
        http.post(
            f"/api/tasks/{t['id']}/annotations/",
            json={
                "result": [
                    {
                        "from_name": "label",
                        "to_name": "image",
                        "type": "rectanglelabels",
                        "value": {
                            "x": 10,
                            "y": 10,
                            "width": 20,
                            "height": 20,
                            "rotation": 0,
                            "rectanglelabels": ["Car"],
                        },
                    }
                ]
            },
        ).raise_for_status()


def seed_export_and_process(http: httpx.Client, project: int, out: Path, export_file: Path) -> None:
    """The seed's flow: export the project as JSON (by hand in the UI), then process_json."""
    export = http.get(f"/api/projects/{project}/export", params={"exportType": "JSON"}).json()
    export_file.write_text(json.dumps(export))
    seed_process_json(http, export, out)


def seed_process_json(http: httpx.Client, export: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    for item in export:
        filename = item["file_upload"]
        if not (out / filename).exists():
            resp = http.get(item["data"]["image"])
            if resp.status_code == 200:
                (out / filename).write_bytes(resp.content)
            else:
                failed.append(filename)
    assert not failed


def timed(fn: Callable[..., object], *args: object, **kwargs: object) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--quick", action="store_true", help="20 images, 1 run")
    args = ap.parse_args()
    if args.quick:
        args.images, args.repeat = 20, 1
    base = Path(tempfile.mkdtemp(prefix="bench-ls-"))
    proc, url, token = start_server(base)
    try:
        http = httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=120)
        client = LabelStudioClient(url, token)
        folder = base / "images"
        make_images(folder, args.images)
        keys = ("push seed", "push vigie", "pull seed", "pull vigie API", "pull vigie file")
        times: dict[str, list[float]] = {k: [] for k in keys}
        for r in range(args.repeat):
            p_seed, p_vigie = new_project(http), new_project(http)
            times["push seed"].append(timed(seed_upload, http, folder, p_seed))
            cat = Catalog(f"sqlite:///{base}/cat{r}.db")
            times["push vigie"].append(timed(push, client, cat, folder, p_vigie, batch=args.batch))
            annotate_all(http, p_seed)
            annotate_all(http, p_vigie)
            export_file = base / f"export{r}.json"
            times["pull seed"].append(
                timed(seed_export_and_process, http, p_seed, base / f"seed{r}", export_file)
            )
            out_vigie = base / f"vigie{r}"
            times["pull vigie API"].append(
                timed(pull, out_vigie, client=client, project_id=p_vigie)
            )
            assert len(list((out_vigie / "labels").iterdir())) == args.images
            out_file = base / f"vigiefile{r}"
            times["pull vigie file"].append(
                timed(pull, out_file, client=client, export_file=export_file, labels=LABELS)
            )
            assert len(list((out_file / "images").iterdir())) == args.images
            cat.close()
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{args.images} images 640x480, {args.repeat} runs, batch {args.batch}, server {url}")
        for k, v in med.items():
            print(f"  {k:15s} median {v:7.2f} s  ({args.images / v:6.1f} images/s)")
        print(f"  push: vigie is {med['push seed'] / med['push vigie']:.2f}x the seed's speed")
        for k in ("pull vigie API", "pull vigie file"):
            print(
                f"  {k}: {med['pull seed'] / med[k]:.2f}x the seed's speed "
                "(vigie also checks every image and writes the labels)"
            )
        client.close()
        http.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
