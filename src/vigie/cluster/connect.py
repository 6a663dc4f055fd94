"""Joining a Ray cluster: ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``, with one-line errors."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any

from vigie.errors import ConfigError, NetworkError, require

log = logging.getLogger(__name__)
CONNECT_CHECK_TIMEOUT = 3.0  # seconds for the TCP check of HOST:PORT before ray.init


@dataclass(frozen=True)
class ClusterInfo:
    """The cluster a run joined: its address, alive nodes, CPUs, GPUs and dashboard."""

    address: str
    nodes: int
    cpus: float
    gpus: float
    dashboard: str | None = None

    def describe(self) -> str:
        text = f"Ray cluster {self.address}: {self.nodes} nodes, {self.cpus:g} CPUs"
        text += f", {self.gpus:g} GPUs" if self.gpus else ""
        return text + (f", dashboard {self.dashboard}" if self.dashboard else "")


def parse_address(address: str) -> tuple[str, str | None, int | None]:
    """``(address for ray.init, host, port)``; host and port are None for ``auto``.

    Raises:
        ConfigError: not ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``.
    """
    text = address.strip()
    if text == "auto":
        return "auto", None, None
    rest = text.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(
            f"--ray {address!r} is not a Ray address",
            hint="use auto, HOST:PORT (e.g. 10.0.0.5:6379) or ray://HOST:PORT (Ray Client)",
        )
    return text, host, int(port)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_CHECK_TIMEOUT):
            return True
    except OSError:
        return False


def ray_module() -> Any:
    """The ``ray`` module, or DependencyError naming the ``vigie-cv[ray]`` extra."""
    require("ray", "ray")
    import ray

    return ray


def connect(address: str) -> ClusterInfo:
    """Join the Ray cluster at ``address`` (once per process; a joined cluster is reused).

    Raises:
        DependencyError: ray is not installed (hint: ``pip install 'vigie-cv[ray]'``).
        ConfigError: a malformed address.
        NetworkError: nothing answers at the address, or no cluster runs here (``auto``).
    """
    target, host, port = parse_address(address)
    ray = ray_module()
    if not ray.is_initialized():
        if host is not None and port is not None and not _reachable(host, port):
            raise NetworkError(
                f"no Ray cluster answers at {host}:{port}",
                hint="start one with `ray start --head` or check --ray / VIGIE_RAY__ADDRESS",
            )
        try:
            ctx = ray.init(address=target, logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise NetworkError(
                f"cannot join the Ray cluster at {address}: {first[:300]}",
                hint="start one with `ray start --head` or check --ray / VIGIE_RAY__ADDRESS",
            ) from None
        dashboard = getattr(ctx, "dashboard_url", None) or None
    else:
        dashboard = None
    return cluster_info(address, dashboard)


def cluster_info(address: str, dashboard: str | None = None) -> ClusterInfo:
    """Alive nodes and total resources of the joined cluster."""
    import ray

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    total = ray.cluster_resources()
    info = ClusterInfo(
        address,
        len(nodes),
        float(total.get("CPU", 0.0)),
        float(total.get("GPU", 0.0)),
        f"http://{dashboard}" if dashboard and "://" not in dashboard else dashboard,
    )
    log.info("%s", info.describe())
    return info
