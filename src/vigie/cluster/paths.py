"""Shared storage: every node must see the run's input and output paths.

Workers read inputs and write outputs themselves (only small records come back to the driver),
so a path that one node cannot see would fail every unit sent there. Before a run, one tiny task
per alive node stats the paths; a node that misses one stops the run with a clear error.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from pathlib import Path

from vigie.errors import ConfigError

CHECK_TIMEOUT = 60.0  # seconds for every node to answer


def stat_paths(paths: list[str]) -> tuple[str, list[str]]:
    """On a node: its host name and the paths it cannot see (missing, or not readable)."""
    missing = [p for p in paths if not os.path.exists(p) or not os.access(p, os.R_OK)]
    return socket.gethostname(), missing


def check_visible(paths: Iterable[Path | str]) -> int:
    """Raise unless every alive node of the joined cluster sees every path; return the nodes.

    Outputs are checked through their nearest existing parent (the driver creates the folder
    first; on shared storage every node then sees it).

    Raises:
        ConfigError: a node does not see a path (it is not on storage shared by the cluster).
    """
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    wanted = [str(Path(p).resolve()) for p in paths]
    probe = ray.remote(num_cpus=0, max_retries=0)(stat_paths)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    refs = [
        probe.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
        ).remote(wanted)
        for n in nodes
    ]
    for node, (host, missing) in zip(nodes, ray.get(refs, timeout=CHECK_TIMEOUT), strict=True):
        if missing:
            where = node.get("NodeManagerAddress") or host
            raise ConfigError(
                f"the Ray worker on {host} ({where}) cannot see {missing[0]}",
                hint="put inputs and outputs on storage every node mounts at the same path "
                "(NFS, Lustre, a bind mount); see docs/scale.md",
            )
    return len(nodes)
