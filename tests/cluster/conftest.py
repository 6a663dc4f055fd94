"""A real two-node Ray cluster on 127.0.0.1 for the cluster tests (session-scoped).

The head and one worker node (its own raylet, resource ``w2``) are started with ``ray start
--block`` as child processes and stopped by their process ids only (never ``ray stop``, which
would stop every cluster of the machine).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ray_cli() -> list[str]:
    beside = Path(sys.executable).parent / "ray"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "ray.scripts.scripts"]


@dataclass
class RayCluster:
    address: str
    temp_dir: Path
    env: dict[str, str]
    head: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen[bytes]:
        """Add a worker node (1 CPU, resource ``w2``) and wait until the cluster sees it."""
        import ray

        before = _alive()
        proc = subprocess.Popen(
            [*_ray_cli(), "start", "--block", "--address", self.address,
             "--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--resources", '{"w2": 1}',
             "--object-store-memory", str(80 * 1024**2), "--disable-usage-stats"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self.workers.append(proc)
        end = time.monotonic() + START_TIMEOUT
        while _alive() <= before:
            if proc.poll() is not None or time.monotonic() > end:
                pytest.fail("the Ray worker node did not start")
            time.sleep(0.5)
        assert ray.is_initialized()
        return proc

    def kill_worker(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """Kill a worker node's ``ray start`` process and its raylet (its process group)."""
        _stop(proc, sig)
        end = time.monotonic() + 60
        while _alive() > 1 and time.monotonic() < end:
            time.sleep(0.5)


def _alive() -> int:
    import ray

    return sum(1 for n in ray.nodes() if n.get("Alive"))


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)  # the node's own group: ray start, its raylet and workers
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """Head (1 CPU) + one worker node (1 CPU, resource ``w2``); the driver joined to it."""
    ray = pytest.importorskip("ray")

    port = _free_port()
    temp = Path(tempfile.mkdtemp(prefix="vr", dir="/tmp"))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), str(REPO), *filter(None, [env.get("PYTHONPATH")])]
    )
    env.update(YOLO_OFFLINE="1", YOLO_VERBOSE="False", RAY_USAGE_STATS_ENABLED="0")
    head = subprocess.Popen(
        [*_ray_cli(), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
         "--port", str(port), "--num-cpus", "1", "--include-dashboard=false",
         "--object-store-memory", str(80 * 1024**2), "--disable-usage-stats",
         "--temp-dir", str(temp)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    cluster = RayCluster(f"127.0.0.1:{port}", temp, env, head)
    try:
        end = time.monotonic() + START_TIMEOUT
        while True:
            try:
                ray.init(address=cluster.address, _node_ip_address="127.0.0.1",
                         log_to_driver=False)  # fmt: skip
                break
            except (ConnectionError, RuntimeError):
                if head.poll() is not None or time.monotonic() > end:
                    pytest.fail("the Ray head node did not start")
                time.sleep(1.0)
        cluster.start_worker()
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for proc in [*cluster.workers, head]:
            _stop(proc)
        shutil.rmtree(temp, ignore_errors=True)
