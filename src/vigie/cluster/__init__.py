"""Executors on a Ray cluster (``--ray ADDRESS``) below the stage cores.

Each stage keeps its core and its own Ray glue (``download/on_ray.py``: manifest shards;
``detect/on_ray.py``: image batches through an actor pool; ``track/pipeline/on_ray.py`` and
``frames/folder.py``: one video per task through :func:`vigie.cluster.units.units_on_ray`).
This package is a floor below them: connecting (:mod:`~vigie.cluster.connect`), checking that
every node sees the paths (:mod:`~vigie.cluster.paths`), the one-unit-per-task executor and the
detector spec a worker loads (:mod:`~vigie.cluster.units`); it imports no stage. Workers read and write files on shared storage
and send back small typed records; the driver stays the only writer of the catalog and of the
study database. ``ray`` is imported only here, inside functions (the ``vigie-cv[ray]`` extra).
"""

from vigie.cluster.connect import ClusterInfo, connect, parse_address
from vigie.cluster.paths import check_visible

__all__ = ["ClusterInfo", "check_visible", "connect", "parse_address"]
