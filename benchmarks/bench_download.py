"""Benchmark of `vigie download` against the seed's sequential `requests` loop (and img2dataset).

A loopback HTTP server (its own processes) serves N JPEGs of ~140 KB, each after 50 ms of added
latency. The seed's loop (`requests.get` then write, one URL after the other), Vigie (async httpx,
bounded concurrency, every file validated before its rename) and, when it is installed in
benchmarks/.venv-img2dataset, img2dataset (64 threads, no resize, no re-encoding) download the
same list; every file is then checked against the served bytes.

    .venv/bin/python benchmarks/bench_download.py            # 2,000 files, Vigie 3 runs
    .venv/bin/python benchmarks/bench_download.py --quick    # 300 files, 1 run each
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import multiprocessing as mp
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
IMG2DATASET = ROOT / "benchmarks" / ".venv-img2dataset" / "bin" / "img2dataset"


def make_bodies(n_distinct: int = 16, target: int = 140_000) -> list[bytes]:
    """Distinct JPEGs of about ``target`` bytes (noise over a gradient, quality tuned)."""
    bodies = []
    rng = np.random.default_rng(0)
    for i in range(n_distinct):
        y, x = np.mgrid[0:480, 0:640]
        base = np.stack([x * 255 // 639, y * 255 // 479, np.full_like(x, 40 + i * 7)], -1)
        noise = rng.integers(-40, 40, size=base.shape)
        img = np.clip(base + noise, 0, 255).astype(np.uint8)
        quality = 60
        while True:
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, "JPEG", quality=quality)
            if buf.tell() >= target * 0.95 or quality >= 95:
                break
            quality += 5
        bodies.append(buf.getvalue())
    return bodies


def serve(sock: socket.socket, bodies: list[bytes], latency: float) -> None:
    """A minimal keep-alive HTTP/1.1 server: GET /img/<i>.jpg -> body i % len(bodies)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                await asyncio.sleep(latency)
                try:
                    body = bodies[int(path.rsplit("/", 1)[1].split(".")[0]) % len(bodies)]
                    status = b"200 OK"
                except (ValueError, IndexError):
                    body, status = b"not found", b"404 Not Found"
                writer.write(
                    b"HTTP/1.1 %s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                    % (status, len(body))
                )
                writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, sock=sock, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_server(bodies: list[bytes], latency: float, processes: int) -> tuple[int, list]:  # type: ignore[type-arg]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    ctx = mp.get_context("fork")
    procs = [
        ctx.Process(target=serve, args=(sock, bodies, latency), daemon=True)
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    return sock.getsockname()[1], procs


def seed_loop(urls: list[str], out: Path) -> None:
    """The seed's downloader: one `requests.get` after the other, written as it comes."""
    import requests

    out.mkdir(parents=True, exist_ok=True)
    for url in urls:
        try:
            r = requests.get(url, timeout=30)
            if r.status_code == 200:
                with open(out / url.rsplit("/", 1)[1], "wb") as f:
                    f.write(r.content)
        except Exception as exc:  # the seed logs and goes on
            print("error", url, exc)


def vigie_run(url_file: Path, out: Path, ws: Path, concurrency: int, per_host: int) -> None:
    from vigie.config import load_settings
    from vigie.download import download

    settings = load_settings(
        workspace=ws,
        allow_private_networks=True,
        download={"concurrency": concurrency, "per_host": per_host},
    )
    result = download(urls=url_file, out=out, settings=settings)
    if result.done != result.total:
        raise SystemExit(f"vigie lost items: {result.done}/{result.total} {dict(result.failures)}")


def img2dataset_run(url_file: Path, out: Path) -> None:
    subprocess.run(
        [str(IMG2DATASET), "--url_list", str(url_file), "--output_folder", str(out),
         "--thread_count", "64", "--processes_count", "1", "--resize_mode", "no",
         "--disable_all_reencoding", "True", "--output_format", "files",
         "--timeout", "30", "--retries", "0"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def check(out: Path, expected: dict[str, str], recursive: bool = False) -> int:
    """Files whose bytes differ from the served ones, or that are missing."""
    files = {p.name: p for p in (out.rglob("*.jpg") if recursive else out.glob("*.jpg"))}
    if recursive:  # img2dataset renames files to shard keys: compare the multiset of hashes
        got = sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in files.values())
        return sum(1 for a, b in zip(got, sorted(expected.values()), strict=False) if a != b) + abs(
            len(got) - len(expected)
        )
    bad = 0
    for name, digest in expected.items():
        p = files.get(name)
        if p is None or hashlib.sha256(p.read_bytes()).hexdigest() != digest:
            bad += 1
    return bad + len(list(out.glob("*.part")))


def timed(fn, *args) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (user + system)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="300 files, one run of each")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--runs", type=int, default=3, help="runs of vigie (median reported)")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--per-host", type=int, default=64)
    ap.add_argument("--server-processes", type=int, default=2)
    args = ap.parse_args()
    n, runs = (300, 1) if args.quick else (args.n, args.runs)
    bodies = make_bodies()
    print(f"{n} JPEGs of {statistics.mean(map(len, bodies)) / 1000:.0f} KB mean, "
          f"{args.latency * 1000:.0f} ms latency per request, {os.cpu_count()} CPUs")  # fmt: skip
    port, procs = start_server(bodies, args.latency, args.server_processes)
    urls = [f"http://127.0.0.1:{port}/img/{i}.jpg" for i in range(n)]
    expected = {f"{i}.jpg": hashlib.sha256(bodies[i % len(bodies)]).hexdigest() for i in range(n)}
    tmp = Path(tempfile.mkdtemp(prefix="bench-download-"))
    url_file = tmp / "urls.txt"
    url_file.write_text("\n".join(urls) + "\n")
    results: dict[str, float] = {}
    try:
        c0 = cpu_seconds()
        t = timed(seed_loop, urls, tmp / "seed")
        cpu = (cpu_seconds() - c0) / n * 1000
        print(f"seed loop    : {t:7.2f} s  {n / t:8.1f} files/s  {cpu:5.2f} ms CPU/file  "
              f"bad={check(tmp / 'seed', expected)}")  # fmt: skip
        results["seed"] = n / t
        times = []
        for r in range(runs):
            out, ws = tmp / f"vigie{r}", tmp / f"ws{r}"
            c0 = cpu_seconds()
            t = timed(vigie_run, url_file, out, ws, args.concurrency, args.per_host)
            cpu = (cpu_seconds() - c0) / n * 1000
            bad = check(out, expected)
            print(
                f"vigie run {r} : {t:7.2f} s  {n / t:8.1f} files/s  {cpu:5.2f} ms CPU/file  bad={bad}"
            )
            if bad:
                raise SystemExit("vigie stored a wrong or missing file")
            times.append(t)
        results["vigie"] = n / statistics.median(times)
        if IMG2DATASET.exists():
            times = []
            for r in range(runs):
                out = tmp / f"i2d{r}"
                c0 = cpu_seconds()
                t = timed(img2dataset_run, url_file, out)
                cpu = (cpu_seconds() - c0) / n * 1000
                print(f"img2dataset {r}: {t:7.2f} s  {n / t:8.1f} files/s  {cpu:5.2f} ms CPU/file  "
                      f"bad={check(out, expected, True)}")  # fmt: skip
                times.append(t)
            results["img2dataset"] = n / statistics.median(times)
        else:
            print("img2dataset  : not installed in benchmarks/.venv-img2dataset (skipped)")
    finally:
        for p in procs:
            p.terminate()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nmedian files/s: " + ", ".join(f"{k} {v:.1f}" for k, v in results.items()))
    print(f"vigie / seed loop: {results['vigie'] / results['seed']:.1f}x")
    if "img2dataset" in results:
        print(f"vigie / img2dataset: {results['vigie'] / results['img2dataset']:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
