"""Executors on a Ray cluster (``--ray ADDRESS``) below the stage cores.

Each stage keeps its core; with ``--ray`` the core hands its units of work to this package:
download shards (:mod:`vigie.cluster.download`), one video per task for frames and track, and
image batches through an actor pool for detect. Workers read and write files on shared storage
and send back small typed records; the driver stays the only writer of the catalog and of the
study database. ``ray`` is imported only here, inside functions (the ``vigie-cv[ray]`` extra).
"""

from vigie.cluster.connect import ClusterInfo, connect, parse_address
from vigie.cluster.paths import check_visible

__all__ = ["ClusterInfo", "check_visible", "connect", "parse_address"]
