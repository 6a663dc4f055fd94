"""Label Studio round trip: the seed's one-request-per-image upload and sequential download
against ``vigie.labelstudio.push`` / ``pull``, on a real Label Studio server.

- push baseline: the seed's image_uploader.py: one ``POST /api/projects/<id>/import`` per image,
  one after the other;
- push vigie:    ``push`` (batches of --batch files per request, catalog bookkeeping);
- pull baseline: a JSON export, then the seed's process_json: one GET per annotated image,
  one after the other, no labels written;
- pull vigie API: ``pull(project_id=...)`` (one export through the SDK, images fetched --workers
  at a time, checked and written atomically, YOLO labels); pull vigie file:
  ``pull(export_file=...)`` on the seed's export;
- pull API+media / file+media: the same two with ``media_root`` (``ls pull --media-root``): the
  server runs on this machine, so the uploaded images are read from its media folder.

Each side runs on a fresh project with the same generated 640x480 JPEGs; the three pulls then run
--pull-rounds times each, interleaved, into fresh folders. Prints the median seconds of every
run, the CPU seconds of this process (the client) and of the server during each pull, the load
average, and the ratios. Starts its own server from ``.venv-ls``.
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
                        "original_width": 640,  # as the labelling UI writes them
                        "original_height": 480,
                        "image_rotation": 0,
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


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """Wall time, client CPU and server CPU of each call, by name."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.wall: dict[str, list[float]] = {}
        self.client: dict[str, list[float]] = {}
        self.server: dict[str, list[float]] = {}

    def run(self, key: str, fn: Callable[..., object], *args: object, **kwargs: object) -> None:
        c0, s0 = time.process_time(), process_cpu(self.server_pid)
        wall = timed(fn, *args, **kwargs)
        self.wall.setdefault(key, []).append(wall)
        self.client.setdefault(key, []).append(time.process_time() - c0)
        self.server.setdefault(key, []).append(process_cpu(self.server_pid) - s0)


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pull-rounds", type=int, default=3, help="pulls of each kind per run")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--workers", type=int, default=4, help="vigie's image fetch threads")
    ap.add_argument("--quick", action="store_true", help="20 images, 1 run, 1 pull round")
    args = ap.parse_args()
    if args.quick:
        args.images, args.repeat, args.pull_rounds = 20, 1, 1
    base = Path(tempfile.mkdtemp(prefix="bench-ls-"))
    proc, url, token = start_server(base)
    load_start = load()
    try:
        http = httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=120)
        client = LabelStudioClient(url, token)
        folder = base / "images"
        make_images(folder, args.images)
        m = Meter(proc.pid)
        n = 0
        for r in range(args.repeat):
            p_seed, p_vigie = new_project(http), new_project(http)
            m.run("push seed", seed_upload, http, folder, p_seed)
            cat = Catalog(f"sqlite:///{base}/cat{r}.db")
            m.run("push vigie", push, client, cat, folder, p_vigie, batch=args.batch)
            cat.close()
            annotate_all(http, p_seed)
            annotate_all(http, p_vigie)
            for _ in range(args.pull_rounds):
                n += 1
                export_file = base / f"export{n}.json"
                m.run(
                    "pull seed", seed_export_and_process, http, p_seed, base / f"s{n}", export_file
                )
                media = base / "data" / "media"  # the server's own folder: it runs here
                project = {"client": client, "project_id": p_vigie}
                from_file = {"export_file": export_file, "labels": LABELS}
                pulls = {  # the four ways of vigie's pull, each into a fresh folder
                    "pull vigie API": project,
                    "pull vigie file": {**from_file, "client": client},
                    "pull API+media": {**project, "media_root": media},
                    "pull file+media": {**from_file, "media_root": media},
                }
                outs = [base / f"s{n}"]
                for k, (key, kwargs) in enumerate(pulls.items()):
                    outs.append(base / f"v{n}-{k}")
                    m.run(key, pull, outs[-1], workers=args.workers, **kwargs)
                    assert len(list((outs[-1] / "images").iterdir())) == args.images
                    assert len(list((outs[-1] / "labels").iterdir())) == args.images
                for done in outs:
                    shutil.rmtree(done)
        med = {k: statistics.median(v) for k, v in m.wall.items()}
        print(
            f"{args.images} images 640x480, {args.repeat} runs x {args.pull_rounds} pull rounds, "
            f"batch {args.batch}, workers {args.workers}, server {url}"
        )
        print(f"load average (1/5/15 min): {load_start} at start, {load()} at the end")
        for k, v in med.items():
            cpu = (
                f"  cpu client {statistics.median(m.client[k]):5.2f} s"
                f" server {statistics.median(m.server[k]):5.2f} s"
            )
            print(f"  {k:15s} median {v:7.2f} s  ({args.images / v:6.1f} images/s){cpu}")
        print(f"  push: vigie is {med['push seed'] / med['push vigie']:.2f}x the seed's speed")
        for k in ("pull vigie API", "pull vigie file", "pull API+media", "pull file+media"):
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
