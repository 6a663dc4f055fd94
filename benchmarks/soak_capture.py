"""Soak check of `vigie capture` (docs/reliability.md, "Load worth holding"); not a test.

The promise: capture every 0.1 s for 10 minutes, snapshot count = duration/period +-1, memory and
open files flat.

A loopback HTTP/1.1 camera server (a threaded ``http.server`` in this process) serves one JPEG
per camera path ``/cam<c>.jpg``. Request ``n`` of a camera gets:

    n % 50 == 49   503 Service Unavailable (no Retry-After)   -> failed http_503
    otherwise      picture (n // 3) % 12 of the camera          -> kept once, then 2 duplicates

so each picture is served three times in a row (identical bytes: the dedup path) and the next
one differs (the keep path), with a failure now and then (the failure path).

`vigie.capture.capture(...)` (the public API, every=0.1, count=0) runs in a child process
(this script with ``--child``), stopped through its ``stop_event`` ``--minutes`` after its first
poll. Every ~5 s this process reads the child's ``VmRSS`` (/proc/<pid>/status) and counts its
open file descriptors (/proc/<pid>/fd). At the end it checks, and exits 1 when one fails:

- polls per camera = duration / period +-1 (duration: the camera's first request, as the server
  saw it, to the stop; CLOCK_MONOTONIC is shared by the processes), and
  polls = kept + duplicates + failed, in the result, the run's counts and the catalog rows;
- RSS after warm-up vs end: growth under ``--max-growth-mb``; open fds at end <= start + 2;
- files on disk == the kept (``done``) catalog rows, each row's file present; no ``.part`` left.

It also reports the missed ticks and the stalls of the whole capture process (a thread of the
child whose 20 ms sleeps overran by more than 0.2 s): a stall longer than two periods must cost
ticks, since missed ticks are coalesced rather than replayed in a burst.

    .venv/bin/python benchmarks/soak_capture.py               # 10 minutes, 2 cameras
    .venv/bin/python benchmarks/soak_capture.py --minutes 1   # a quick run
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PICTURES = 12  # distinct pictures per camera, cycled
REPEAT = 3  # each picture served this many times in a row
FAIL_EVERY = 50  # request n with n % FAIL_EVERY == FAIL_EVERY - 1 gets a 503


# -- the camera server ----------------------------------------------------------------------------
def make_pictures(camera: int) -> list[bytes]:
    """PICTURES small JPEGs (8x8 random blocks, 320x240): distinct aHash each, ~5-10 KB."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1000 + camera)
    out = []
    for _ in range(PICTURES):
        blocks = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
        img = Image.fromarray(blocks).resize((320, 240), Image.Resampling.NEAREST)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85)
        out.append(buf.getvalue())
    return out


class CameraServer:
    def __init__(self, cameras: int) -> None:
        self.pictures = [make_pictures(c) for c in range(cameras)]
        self.requests: Counter[int] = Counter()
        self.first_request: dict[int, float] = {}  # time.monotonic(): one clock for all processes
        self.served: Counter[str] = Counter()
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                try:
                    cam = int(name.removeprefix("cam").removesuffix(".jpg"))
                    pics = owner.pictures[cam]
                except (ValueError, IndexError):
                    self._send(404, b"not found", "text/plain")
                    return
                with owner.lock:
                    owner.first_request.setdefault(cam, time.monotonic())
                    n = owner.requests[cam]
                    owner.requests[cam] += 1
                if n % FAIL_EVERY == FAIL_EVERY - 1:
                    owner.served["503"] += 1
                    self._send(503, b"busy", "text/plain")
                    return
                owner.served["200"] += 1
                self._send(200, pics[(n // REPEAT) % PICTURES], "image/jpeg")

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client closing its keep-alive connection at the end is no news

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# -- the capturing child --------------------------------------------------------------------------
def child(spec_file: Path) -> int:
    """Run vigie.capture.capture for spec['seconds'] after the first poll; write a JSON result."""
    spec = json.loads(spec_file.read_text())
    from vigie.capture import capture
    from vigie.config import load_settings

    every, seconds = spec["every"], spec["seconds"]
    stop = threading.Event()
    first: dict[str, float] = {}
    started = threading.Event()
    times: dict[str, float] = {}

    last: dict[str, float] = {}
    max_gap: Counter[str] = Counter()
    missed_first: dict[str, int] = {}

    def on_poll(stats: Any, outcome: str) -> None:
        now = time.monotonic()
        if stats.name not in first:
            first[stats.name] = now
            started.set()
        elif stats.name not in missed_first:
            missed_first[stats.name] = stats.missed_ticks  # ticks the (cold) first poll overran
        max_gap[stats.name] = max(max_gap[stats.name], now - last.get(stats.name, now))
        last[stats.name] = now

    def stopper() -> None:
        started.wait()
        t0 = min(first.values())
        stop.wait(max(0.0, t0 + seconds - time.monotonic()))
        times["stop"] = time.monotonic()
        stop.set()

    stalls: list[float] = []  # a thread's 20 ms sleeps that overran by > 0.2 s: the process stalled

    def stall_monitor() -> None:
        while not stop.is_set():
            t = time.monotonic()
            time.sleep(0.02)
            late = time.monotonic() - t - 0.02
            if late > 0.2:
                stalls.append(late)

    threading.Thread(target=stopper, daemon=True).start()
    threading.Thread(target=stall_monitor, daemon=True).start()
    settings = load_settings(workspace=Path(spec["workspace"]))
    t_call = time.monotonic()
    result = capture(
        urls=spec["urls"],
        names=spec["names"],
        every=every,
        count=0,
        out=spec["out"],
        settings=settings,
        stop_event=stop,
        on_poll=on_poll,
    )
    t_end = time.monotonic()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out = {
        "run_id": result.run_id,
        "interrupted": result.interrupted,
        "call_to_end_s": t_end - t_call,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "frames_in_result": len(result.frames),
        "stop_monotonic": times.get("stop", t_end),
        "stalls_s": stalls,
        "cameras": [
            {
                "name": c.name,
                "polls": c.polls,
                "kept": c.kept,
                "duplicates": c.duplicates,
                "failed": c.failed,
                "failures": dict(c.failures),
                "missed_ticks": c.missed_ticks,
                "missed_first_poll": missed_first.get(c.name, 0),
                "max_gap_s": max_gap[c.name],
                "first_poll_s": first.get(c.name, t_end) - t_call,
                "duration_s": times.get("stop", t_end) - first.get(c.name, t_end),
                "folder": str(c.folder),
            }
            for c in result.cameras
        ],
    }
    Path(spec["result"]).write_text(json.dumps(out))
    return 0


# -- sampling -------------------------------------------------------------------------------------
def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def fd_count(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--every", type=float, default=0.1)
    ap.add_argument("--cameras", type=int, default=2)
    ap.add_argument("--sample", type=float, default=5.0, help="seconds between RSS/fd samples")
    ap.add_argument(
        "--warmup", type=float, default=None, help="s before the start sample (default 10%%, 10-60)"
    )
    ap.add_argument("--max-growth-mb", type=float, default=10.0)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child)

    seconds = args.minutes * 60
    warmup = args.warmup if args.warmup is not None else min(60.0, max(10.0, 0.1 * seconds))
    server = CameraServer(args.cameras)
    server.start()
    tmp = Path(tempfile.mkdtemp(prefix="soak-capture-"))
    names = [f"cam{c}" for c in range(args.cameras)]
    spec = {
        "urls": [f"http://127.0.0.1:{server.port}/cam{c}.jpg" for c in range(args.cameras)],
        "names": names,
        "every": args.every,
        "seconds": seconds,
        "workspace": str(tmp / "ws"),
        "out": str(tmp / "captures"),
        "result": str(tmp / "result.json"),
    }
    (tmp / "spec.json").write_text(json.dumps(spec))
    print(
        f"{args.cameras} cameras, every {args.every:g} s for {seconds:g} s "
        f"(expected {seconds / args.every:.0f} polls per camera); {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}; folder {tmp}",
        flush=True,
    )
    t_spawn = time.monotonic()
    proc = subprocess.Popen([sys.executable, __file__, "--child", str(tmp / "spec.json")])
    samples: list[tuple[float, float, int]] = []  # (s since spawn, RSS MB, fds)
    while proc.poll() is None:
        rss, fds = rss_mb(proc.pid), fd_count(proc.pid)
        if rss is not None and fds is not None and proc.poll() is None:
            samples.append((time.monotonic() - t_spawn, rss, fds))
            if len(samples) % 12 == 1:
                print(f"  t={samples[-1][0]:6.0f} s  RSS {rss:6.1f} MB  fds {fds}", flush=True)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=args.sample)
    server.stop()
    if proc.returncode != 0 or not Path(spec["result"]).exists():
        print(f"FAIL: the capture process exited {proc.returncode}")
        return 1
    res = json.loads(Path(spec["result"]).read_text())
    for c, cam in enumerate(res["cameras"]):  # the grid starts with the first request
        cam["duration_s"] = res["stop_monotonic"] - server.first_request.get(c, 0.0)
    problems = check(args, res, samples, warmup, tmp, names)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    if args.keep:
        print(f"kept {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    if problems:
        print("BROKEN: " + "; ".join(problems))
        return 1
    print("all promises held")
    return 0


def check(
    args: argparse.Namespace,
    res: dict[str, Any],
    samples: list[tuple[float, float, int]],
    warmup: float,
    tmp: Path,
    names: list[str],
) -> list[str]:
    from vigie.capture.state import FRAME_NAME
    from vigie.catalog import Catalog
    from vigie.config import load_settings

    problems: list[str] = []
    cat = Catalog.from_settings(load_settings(workspace=tmp / "ws"))
    try:
        run = next(r for r in cat.last_runs("capture") if r.id == res["run_id"])
        counts = dict(run.counts or {})
        print(
            f"run {res['run_id']}: status {run.status}, counts {counts}; "
            f"CPU {res['cpu_s']:.1f} s in {res['call_to_end_s']:.1f} s "
            f"({100 * res['cpu_s'] / res['call_to_end_s']:.0f}% of a core)"
        )
        stalls = res["stalls_s"]
        print(
            f"process stalls > 0.2 s: {len(stalls)}"
            + (f" (longest {max(stalls):.2f} s, {sum(stalls):.1f} s in all)" if stalls else "")
        )
        print("camera | polls | expected | diff | kept | duplicates | failed | missed ticks")
        tot = Counter[str]()
        for cam in res["cameras"]:
            expected = cam["duration_s"] / args.every
            diff = cam["polls"] - expected
            print(
                f"{cam['name']} | {cam['polls']} | {expected:.1f} ({cam['duration_s']:.2f} s) | "
                f"{diff:+.1f} | {cam['kept']} | {cam['duplicates']} | {cam['failed']} "
                f"{cam['failures']} | {cam['missed_ticks']} ({cam['missed_first_poll']} by the "
                f"first poll; longest gap between polls {cam['max_gap_s']:.3f} s)"
            )
            if abs(diff) > 1:
                problems.append(f"{cam['name']}: {cam['polls']} polls, expected {expected:.1f}")
            if cam["polls"] != cam["kept"] + cam["duplicates"] + cam["failed"]:
                problems.append(f"{cam['name']}: polls != kept + duplicates + failed")
            rows = cat.items(key_prefix=f"camera:{cam['name']}:")
            by_status = Counter(r.status for r in rows)
            if (by_status["done"], by_status["duplicate"], by_status["failed"]) != (
                cam["kept"],
                cam["duplicates"],
                cam["failed"],
            ):
                problems.append(f"{cam['name']}: catalog rows {dict(by_status)} != result")
            if len(rows) != cam["polls"]:
                problems.append(f"{cam['name']}: {len(rows)} catalog rows for {cam['polls']} polls")
            folder = Path(cam["folder"])
            files = {p.resolve() for p in folder.iterdir() if FRAME_NAME.match(p.name)}
            parts = list(folder.glob("*.part"))
            kept_paths = {Path(r.path) for r in rows if r.status == "done"}
            print(
                f"  {cam['name']}: {len(files)} files on disk, {len(kept_paths)} kept rows, "
                f"{len(parts)} .part"
            )
            if files != kept_paths:
                problems.append(
                    f"{cam['name']}: {len(files)} files on disk vs {len(kept_paths)} kept rows"
                )
            if parts:
                problems.append(f"{cam['name']}: {len(parts)} .part left")
            tot.update({k: cam[k] for k in ("polls", "kept", "duplicates", "failed")})
        want = {"done": tot["kept"], "duplicates": tot["duplicates"], "failed": tot["failed"]}
        if any(counts.get(k) != v for k, v in want.items()) or counts.get("polls") != tot["polls"]:
            problems.append(f"run counts {counts} != result {dict(tot)}")
    finally:
        cat.close()

    after = [s for s in samples if s[0] >= warmup]
    if len(after) < 2:
        problems.append(f"only {len(after)} samples after the {warmup:g} s warm-up")
        return problems
    start, end = after[0], after[-1]
    rss_max = max(s[1] for s in after)
    fd_max = max(s[2] for s in after)
    growth = end[1] - start[1]
    half = after[len(after) // 2]
    print(
        f"RSS (MB): start {start[1]:.1f} (t={start[0]:.0f} s, after {warmup:g} s warm-up), "
        f"middle {half[1]:.1f}, max {rss_max:.1f}, end {end[1]:.1f} (t={end[0]:.0f} s); "
        f"growth {growth:+.1f} MB ({len(samples)} samples)"
    )
    print(f"open fds: start {start[2]}, max {fd_max}, end {end[2]} (first sample {samples[0][2]})")
    if growth > args.max_growth_mb:
        problems.append(f"RSS grew {growth:.1f} MB (> {args.max_growth_mb:g})")
    if end[2] > start[2] + 2 or fd_max > start[2] + 5:
        problems.append(f"open fds {start[2]} -> max {fd_max}, end {end[2]}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
