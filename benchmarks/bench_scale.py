"""Scale benchmarks: stalled bodies on one host, and download/detect on 1, 2, 4 Ray workers.

    .venv/bin/python benchmarks/bench_scale.py stalls                 # 400 URLs, 20 stall mid-body
    .venv/bin/python benchmarks/bench_scale.py download --urls 2000   # local vs Ray 1/2/4 workers
    .venv/bin/python benchmarks/bench_scale.py detect --images 200    # local vs Ray 1/2/4 actors
    .venv/bin/python benchmarks/bench_scale.py long --seconds 120     # a cut video's annotated MP4:
                                                    # drawn in parts by the workers or by the driver
    (the issue's sizes: download --urls 20000, detect --images 1000)

A loopback server (asyncio, its own process) serves JPEGs after ``--latency`` (50 ms); in
``stalls`` mode the first request of each ``/stall/`` URL sends half its body, then nothing for
60 s. The Ray runs use a head node started here (``ray start --head --num-cpus W``, stopped by
its process id); the local executor runs in the same invocation on the same input. Each figure
is the median of ``--repeat`` runs; ratios are Ray / local (throughput). Results are checked:
every file present and complete.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def jpeg(seed: int, size: tuple[int, int] = (160, 120)) -> bytes:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def serve(socks: list[socket.socket], bodies: list[bytes], latency: float, stall: float) -> None:
    """GET /img/<i>.jpg -> body i; /stall/<i>.jpg: half the body then ``stall`` s of silence
    on its first request, the whole body afterwards."""
    stalled: set[str] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                await asyncio.sleep(latency)
                body = bodies[int(path.rsplit("/", 1)[1].split(".")[0]) % len(bodies)]
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                    % len(body)
                )
                if path.startswith("/stall/") and path not in stalled:
                    stalled.add(path)
                    writer.write(body[: len(body) // 2])
                    await writer.drain()
                    await asyncio.sleep(stall)
                    return
                writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, sock=s, backlog=2048) for s in socks]
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


def start_server(latency: float, stall: float = 60.0, hosts: int = 1) -> tuple[int, mp.Process]:
    """One server process listening on 127.0.0.1 .. 127.0.0.<hosts> (one port)."""
    socks: list[socket.socket] = []
    for k in range(1, hosts + 1):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((f"127.0.0.{k}", socks[0].getsockname()[1] if socks else 0))
        sock.listen(2048)
        socks.append(sock)
    bodies = [jpeg(i) for i in range(16)]
    proc = mp.get_context("fork").Process(
        target=serve, args=(socks, bodies, latency, stall), daemon=True
    )
    proc.start()
    return socks[0].getsockname()[1], proc


def run_download(urls: Path, root: Path, ray: str | None, **download: object) -> float:
    """Seconds for one download of ``urls`` into a fresh workspace under ``root``."""
    from vigie.config import load_settings
    from vigie.download import download as run

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    settings = load_settings(
        workspace=root, allow_private_networks=True, download=download,
        ray={"address": ray, "shard_size": 250},
    )  # fmt: skip
    start = time.perf_counter()
    result = run(urls=urls, out=root / "out", settings=settings)
    seconds = time.perf_counter() - start
    if result.done != result.total:
        raise SystemExit(f"lost items: {result.done}/{result.total} {dict(result.failures)}")
    return seconds


def median(fn: Callable[[], float], repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def stalls(args: argparse.Namespace) -> None:
    port, server = start_server(args.latency)
    tmp = Path(tempfile.mkdtemp(prefix="vigie-stalls-"))
    try:
        lines = [f"http://127.0.0.1:{port}/img/{i}.jpg" for i in range(args.urls - args.stalled)]
        step = max(1, len(lines) // max(1, args.stalled))
        for k in range(args.stalled):
            lines.insert(k * step, f"http://127.0.0.1:{port}/stall/{100000 + k}.jpg")
        urls = tmp / "urls.txt"
        urls.write_text("\n".join(lines) + "\n")
        seconds = run_download(urls, tmp / "run", None, processes=1, per_host=16)
        print(f"stalls: {args.urls} URLs of one host, {args.stalled} stall mid-body once: "
              f"{seconds:.1f} s, every file complete")  # fmt: skip
    finally:
        server.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


class Head:
    """A one-node Ray cluster with ``cpus`` CPUs (its own temp dir, stopped by process id)."""

    def __init__(self, cpus: int) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.temp = Path(tempfile.mkdtemp(prefix="vrb", dir="/tmp"))
        env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}")
        ray_cli = Path(sys.executable).parent / "ray"
        self.proc = subprocess.Popen(
            [str(ray_cli), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
             "--port", str(self.port), "--num-cpus", str(cpus), "--include-dashboard=false",
             "--disable-usage-stats", "--temp-dir", str(self.temp)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.address = f"127.0.0.1:{self.port}"
        import ray

        for _ in range(120):
            try:
                ray.init(address=self.address, _node_ip_address="127.0.0.1", log_to_driver=False)
                break
            except (ConnectionError, RuntimeError):
                time.sleep(1)
        ray.get(ray.remote(lambda: 1).remote())  # a worker is up

    def stop(self) -> None:
        import ray

        ray.shutdown()
        os.killpg(self.proc.pid, signal.SIGTERM)  # the head's own group: ray start, raylet, ...
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        shutil.rmtree(self.temp, ignore_errors=True)


def scaling(name: str, workers: list[int], local: Callable[[], float],
            on_ray: Callable[[str], float], repeat: int, items: int) -> None:  # fmt: skip
    base = median(local, repeat)
    print(f"{name}: local executor {items / base:.0f} items/s ({base:.2f} s)", flush=True)
    for w in workers:
        head = Head(w)
        try:
            on_ray(head.address)  # warm-up: worker processes, imports, model load
            seconds = median(lambda: on_ray(head.address), repeat)  # noqa: B023
            print(f"{name}: Ray {w} worker(s) {items / seconds:.0f} items/s ({seconds:.2f} s), "
                  f"ratio to local {base / seconds:.2f}", flush=True)  # fmt: skip
        finally:
            head.stop()


def download(args: argparse.Namespace) -> None:
    port, server = start_server(args.latency, hosts=args.hosts)
    tmp = Path(tempfile.mkdtemp(prefix="vigie-scale-"))
    try:
        urls = tmp / "urls.txt"
        # 127.0.0.k are all this machine's loopback: --hosts distinct hosts, one server
        urls.write_text("".join(
            f"http://127.0.0.{1 + i % args.hosts}:{port}/img/{i}.jpg\n" for i in range(args.urls)
        ))  # fmt: skip
        scaling(
            f"download {args.urls} URLs of {args.hosts} hosts ({args.latency * 1000:.0f} ms "
            "latency)",
            args.workers,
            lambda: run_download(urls, tmp / "local", None, processes=1),
            lambda address: run_download(urls, tmp / "ray", address),
            args.repeat,
            args.urls,
        )
    finally:
        server.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


def detect(args: argparse.Namespace) -> None:
    from vigie.detect import detect as run

    tmp = Path(tempfile.mkdtemp(prefix="vigie-scale-"))
    try:
        images = tmp / "images"
        images.mkdir()
        for i in range(args.images):
            (images / f"{i}.jpg").write_bytes(jpeg(i, (320, 240)))
        model = Path(args.model) if args.model else build_model(tmp)

        def once(ray: str | None) -> float:
            from vigie.config import RaySettings

            out = tmp / "out"
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            settings = RaySettings(address=ray, workers=0) if ray else None
            res = run(images, model=model, out=out, imgsz=args.imgsz, ray=settings)
            assert res.done == args.images
            return time.perf_counter() - start

        scaling(f"detect {args.images} images (imgsz {args.imgsz}, ONNX Runtime)", args.workers,
                lambda: once(None), once, args.repeat, args.images)  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def long_video(args: argparse.Namespace) -> None:
    """One video cut in segments on Ray: the driver's CPU and the wall time, its annotated MP4
    drawn in parts by the workers (now) or by the driver (before), alternated in one run."""
    import av

    from vigie.config import load_settings
    from vigie.track import track
    from vigie.track.pipeline import on_ray

    tmp = Path(tempfile.mkdtemp(prefix="vigie-scale-"))
    head = Head(max(args.workers))
    try:
        video, fps = tmp / "long.mp4", 10
        with av.open(str(video), "w") as out:
            stream = out.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
            rng = np.random.default_rng(0)
            base = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
            for i in range(args.seconds * fps):
                img = np.ascontiguousarray(np.roll(base, i, axis=1))
                for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        model = Path(args.model) if args.model else build_model(tmp)
        cfg = load_settings(track={"segment_seconds": args.segment, "segment_overlap": 2.0})

        def once(parts: bool) -> tuple[float, float]:
            on_ray.DRAW_IN_PARTS = parts
            out = tmp / "out"
            shutil.rmtree(out, ignore_errors=True)
            wall, cpu = time.perf_counter(), time.process_time()
            res = track(video, model=model, out=out, imgsz=args.imgsz, settings=cfg,
                        ray=head.address, force=True)  # fmt: skip
            assert res.results[0].status == "done" and (out / "long.mp4").is_file()
            return time.perf_counter() - wall, time.process_time() - cpu

        once(True)  # warm-up: worker processes, imports, model load
        runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for _ in range(args.repeat):
            for parts in (False, True):
                runs[parts].append(once(parts))
        n = -(-args.seconds // args.segment)
        print(f"track one {args.seconds} s video ({args.seconds * fps} frames 320x240, imgsz "
              f"{args.imgsz}), {n} segments, {max(args.workers)} Ray CPUs", flush=True)  # fmt: skip
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
               for k, v in runs.items()}  # fmt: skip
        for parts, label in ((False, "drawn by the driver"), (True, "drawn in parts")):
            wall, cpu = med[parts]
            print(f"  {label:20s} wall {wall:6.2f} s  driver CPU {cpu:6.2f} s", flush=True)
        print(f"  driver CPU: {med[False][1] / med[True][1]:.1f}x less; wall ratio "
              f"{med[False][0] / med[True][0]:.2f}", flush=True)  # fmt: skip
    finally:
        head.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def build_model(tmp: Path) -> Path:
    """An untrained yolo11n from its YAML, saved as .pt (timing only: no weights downloaded)."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    from ultralytics import YOLO

    model = YOLO("yolo11n.yaml")
    path = tmp / "yolo11n-untrained.pt"
    model.save(str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("stalls")
    p.add_argument("--urls", type=int, default=400)
    p.add_argument("--stalled", type=int, default=20)
    p.add_argument("--latency", type=float, default=0.005)
    p = sub.add_parser("download")
    p.add_argument("--urls", type=int, default=2000)
    p.add_argument("--hosts", type=int, default=8, help="distinct loopback hosts (127.0.0.k)")
    p.add_argument("--latency", type=float, default=0.05)
    p = sub.add_parser("detect")
    p.add_argument("--images", type=int, default=200)
    p.add_argument("--imgsz", type=int, default=320)
    p.add_argument("--model", default=None, help="weights (default: untrained yolo11n)")
    p = sub.add_parser("long")
    p.add_argument("--seconds", type=int, default=120)
    p.add_argument("--segment", type=int, default=30, help="track.segment_seconds")
    p.add_argument("--imgsz", type=int, default=160)
    p.add_argument("--model", default=None, help="weights (default: untrained yolo11n)")
    for p in sub.choices.values():
        p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
        p.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    {"stalls": stalls, "download": download, "detect": detect, "long": long_video}[args.what](args)


if __name__ == "__main__":
    main()
