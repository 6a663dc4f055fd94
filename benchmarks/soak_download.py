"""Load check of `vigie download` (docs/reliability.md, "Load worth holding"); not a test.

A loopback HTTP/1.1 server (its own process) serves N JPEGs; about a quarter of the URLs inject
a fault of docs/reliability.md, chosen by the URL's index:

    i % 100   fault                                         expected end
    0-4       reset mid-body on the first request           done (retried)
    5-9       503 on the first request                      done (retried)
    10-13     404                                           failed http_404
    14-16     200 with an HTML page for a .jpg              failed not_media
    17-20     Content-Length larger than the body, close    done (retried)
    21-22     429 with Retry-After: 0 on the first request  done (retried)
    23-24     half a JPEG (Content-Length of the half)      failed corrupt_media
    25        0-byte body                                   failed empty_body

Vigie downloads the list (defaults, except --per-host 64 and short backoffs so the retried
faults do not wait for seconds) while a sampler thread records the resident memory and the open
files of the process tree. Then every file is compared with the served bytes, the catalog with
the folder, and the failures with the expected classes.

    .venv/bin/python benchmarks/soak_download.py             # 10,000 URLs
    .venv/bin/python benchmarks/soak_download.py --n 100000  # the 100,000-URL memory check
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import multiprocessing as mp
import os
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

FINAL = {range(10, 14): "http_404", range(14, 17): "not_media", range(23, 25): "corrupt_media"}


def expected_class(i: int) -> str | None:
    k = i % 100
    if k == 25:
        return "empty_body"
    for r, name in FINAL.items():
        if k in r:
            return name
    return None


def make_bodies(n: int = 16) -> list[bytes]:
    rng = np.random.default_rng(0)
    bodies = []
    for i in range(n):
        y, x = np.mgrid[0:240, 0:320]
        base = np.stack([x * 255 // 319, y * 255 // 239, np.full_like(x, 30 + i * 9)], -1)
        img = np.clip(base + rng.integers(-30, 30, size=base.shape), 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=85)
        bodies.append(buf.getvalue())
    return bodies


def serve(sock: socket.socket, bodies: list[bytes]) -> None:
    seen: set[int] = set()  # URLs whose first request already got its transient fault

    def head(status: bytes, length: int, extra: bytes = b"") -> bytes:
        return b"HTTP/1.1 %s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n%s\r\n" % (
            status,
            length,
            extra,
        )

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                i = int(request.split(b" ", 2)[1].rsplit(b"/", 1)[1].split(b".")[0])
                k, body = i % 100, bodies[i % len(bodies)]
                first = i not in seen
                seen.add(i)
                if k < 5 and first:  # reset mid-body
                    writer.write(head(b"200 OK", len(body)) + body[: len(body) // 2])
                    await writer.drain()
                    sock_ = writer.get_extra_info("socket")
                    sock_.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    return
                if 5 <= k < 10 and first:
                    writer.write(head(b"503 Service Unavailable", 0))
                elif 10 <= k < 14:
                    writer.write(head(b"404 Not Found", 9) + b"not found")
                elif 14 <= k < 17:
                    page = b"<html><body>rate limited, try later</body></html>"
                    writer.write(head(b"200 OK", len(page)) + page)
                elif 17 <= k < 21 and first:  # short body then close
                    writer.write(head(b"200 OK", len(body)) + body[: len(body) * 2 // 3])
                    await writer.drain()
                    writer.close()
                    return
                elif 21 <= k < 23 and first:
                    writer.write(head(b"429 Too Many Requests", 0, b"Retry-After: 0\r\n"))
                elif 23 <= k < 25:
                    half = body[: len(body) // 2]
                    writer.write(head(b"200 OK", len(half)) + half)
                elif k == 25:
                    writer.write(head(b"200 OK", 0))
                else:
                    writer.write(head(b"200 OK", len(body)) + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, IndexError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, sock=sock, backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


class Sampler(threading.Thread):
    """RSS and USS (MB) of this process, RSS of its vigie worker processes, its open files."""

    def __init__(self, exclude: set[int]) -> None:
        super().__init__(daemon=True)
        import psutil

        self.proc = psutil.Process()
        self.exclude = exclude
        self.stop = threading.Event()
        self.parent_rss: list[float] = []
        self.parent_uss: list[float] = []
        self.children_rss: list[float] = []
        self.fds: list[int] = []
        self.child_fds: list[int] = []

    def sample(self) -> None:
        import psutil

        mem = self.proc.memory_full_info()  # USS: the pages only this process holds
        self.parent_rss.append(mem.rss / 1e6)
        self.parent_uss.append(mem.uss / 1e6)
        self.fds.append(self.proc.num_fds())
        kids_rss, kids_fds = 0.0, 0
        for child in self.proc.children(recursive=True):
            if child.pid in self.exclude:
                continue
            try:
                kids_rss = max(kids_rss, child.memory_info().rss / 1e6)
                kids_fds = max(kids_fds, child.num_fds())
            except psutil.Error:
                continue
        self.children_rss.append(kids_rss)
        self.child_fds.append(kids_fds)

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.sample()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--per-host", type=int, default=64)
    ap.add_argument("--processes", type=int, default=0, help="vigie worker processes (0 = auto)")
    args = ap.parse_args()

    from vigie.catalog import Catalog
    from vigie.config import load_settings
    from vigie.download import download

    bodies = make_bodies()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    server = mp.get_context("fork").Process(target=serve, args=(sock, bodies), daemon=True)
    server.start()
    port = sock.getsockname()[1]
    n = args.n
    tmp = Path(tempfile.mkdtemp(prefix="soak-download-"))
    urls = tmp / "urls.txt"
    urls.write_text("".join(f"http://127.0.0.1:{port}/img/{i}.jpg\n" for i in range(n)))
    expected_fail = Counter(c for i in range(n) if (c := expected_class(i)) is not None)
    faults = sum(1 for i in range(n) if i % 100 < 26)
    print(f"{n} URLs, {faults} with a fault ({faults / n:.0%}), "
          f"{sum(expected_fail.values())} of them final; {os.cpu_count()} CPUs")  # fmt: skip
    settings = load_settings(
        workspace=tmp / "ws",
        allow_private_networks=True,
        download={
            "concurrency": args.concurrency,
            "per_host": args.per_host,
            "processes": args.processes,
            "backoff_base": 0.05,
            "backoff_cap": 0.5,
        },
    )
    sampler = Sampler({server.pid or -1})
    sampler.sample()
    rss0, uss0, fds0 = sampler.parent_rss[0], sampler.parent_uss[0], sampler.fds[0]
    sampler.start()
    out = tmp / "out"
    t0 = time.perf_counter()
    try:
        result = download(urls=urls, out=out, settings=settings)
        wall = time.perf_counter() - t0
        sampler.stop.set()
        sampler.join()
        sampler.sample()
        served = {i: hashlib.sha256(bodies[i % len(bodies)]).hexdigest() for i in range(n)}
        files = {p.name: p for p in out.iterdir() if p.is_file() and p.suffix == ".jpg"}
        parts = list(out.rglob("*.part"))
        truncated = sum(
            1
            for name, p in files.items()
            if hashlib.sha256(p.read_bytes()).hexdigest() != served[int(name.split(".")[0])]
        )
        with Catalog.from_settings(settings) as cat:
            rows = cat.items(key_prefix="url:")
        done_rows = {Path(r.path).name for r in rows if r.status == "done"}
        failed_rows = Counter(r.error_class for r in rows if r.status == "failed")
        should_be_done = {f"{i}.jpg" for i in range(n) if expected_class(i) is None}
        lost = len(should_be_done - set(files))
        ok = (
            result.done + result.failed + result.skipped == result.total == n
            and lost == 0
            and truncated == 0
            and not parts
            and done_rows == set(files)
            and failed_rows == expected_fail
            and len(rows) == n
        )
        print(f"wall {wall:.1f} s, {n / wall:.0f} URLs/s; done {result.done}, failed "
              f"{result.failed} {dict(result.failures)}, skipped {result.skipped}")  # fmt: skip
        print(f"lost {lost}, truncated or wrong {truncated}, .part left {len(parts)}, "
              f"catalog rows {len(rows)} (done {len(done_rows)}) vs files {len(files)}, "
              f"failure classes as expected: {failed_rows == expected_fail}")  # fmt: skip
        print(f"parent RSS {rss0:.0f} MB before, {max(sampler.parent_rss):.0f} MB peak, "
              f"{sampler.parent_rss[-1]:.0f} MB after (growth {sampler.parent_rss[-1] - rss0:+.0f}"
              f" MB); worker process RSS peak {max(sampler.children_rss):.0f} MB")  # fmt: skip
        print(f"parent USS {uss0:.0f} MB before, {max(sampler.parent_uss):.0f} MB peak, "
              f"{sampler.parent_uss[-1]:.0f} MB after (growth {sampler.parent_uss[-1] - uss0:+.0f}"
              f" MB, peak {max(sampler.parent_uss) - uss0:+.0f} MB)")  # fmt: skip
        print(f"parent open files {fds0} before, {max(sampler.fds)} peak, {sampler.fds[-1]} "
              f"after; worker open files peak {max(sampler.child_fds)}")  # fmt: skip
        print("OK" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        sampler.stop.set()
        server.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
