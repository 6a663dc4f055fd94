"""``frames --ray``: one video per Ray task; frames written by the workers, recorded here.

Each task runs the same extraction as a local worker process (:func:`vigie.frames.folder._work`)
and returns its :class:`FramesResult` (paths, hashes, sizes: small). The driver records the
frames in the catalog as each video finishes. A task whose node dies is run again elsewhere;
frames it had written are found on disk by the retry and not written again. A video whose task
keeps crashing its worker (a decoder crash) is reported failed; so are the videos still running
when nothing finished for ``timeout`` seconds (a hung decoder), as on one machine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
TASK_RETRIES = 2  # a node lost mid-video; a decoder that crashes its worker each time fails


def units_on_ray(
    address: str,
    units: list[Any],
    args: Callable[[Any], tuple[Any, ...]],
    work: Callable[..., Any],
    finish: Callable[[Any, Any], None],
    fail: Callable[[Any, str], None],
    paths: list[Path],
    timeout: float | None = None,
    num_cpus: float = 1,
) -> None:
    """Run ``work(*args(unit))`` for every unit on the cluster at ``address``; call
    ``finish(unit, outcome)`` (in input order among those done at once) or ``fail(unit, why)``.

    At most two units per cluster CPU are in flight, so the driver holds few references.
    """
    from vigie.cluster.connect import connect
    from vigie.cluster.paths import check_visible

    info = connect(address)
    check_visible(paths)
    import ray

    task = ray.remote(num_cpus=num_cpus, max_retries=TASK_RETRIES)(work)
    todo = iter(units)
    pending: dict[Any, Any] = {}
    limit = max(2, int(2 * info.cpus))

    def submit() -> None:
        while len(pending) < limit:
            unit = next(todo, None)
            if unit is None:
                return
            pending[task.remote(*args(unit))] = unit

    submit()
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=timeout)
        if not ready:  # nothing finished for `timeout` seconds: a decoder hangs
            for ref, unit in pending.items():
                ray.cancel(ref, force=True)
                fail(unit, f"no result after {timeout:g} s: the decoder hung")
            pending.clear()
            submit()
            continue
        unit = pending.pop(ready[0])
        try:
            outcome = ray.get(ready[0])
        except Exception as exc:  # every try crashed its worker (ray.exceptions.RayError)
            log.warning("%s: lost on Ray: %s", unit, str(exc).splitlines()[0][:200])
            fail(unit, "the worker crashed on this unit")
        else:
            finish(unit, outcome)
        submit()


def frames_on_ray(
    address: str,
    videos: list[Path],
    jobs: dict[Path, tuple[Any, ...]],
    finish: Callable[[Path, Any], None],
    folder: Path,
    out: Path,
    timeout: float,
) -> None:
    """Extract every video of ``jobs`` on the cluster (see the module docstring)."""
    from vigie.frames.folder import _work

    units_on_ray(
        address,
        videos,
        lambda v: jobs[v],
        _work,
        finish,
        lambda v, why: finish(v, (None, why)),
        [folder, out],
        timeout=timeout,
    )
