"""One unit of work per Ray task (frames: a video; track: a video), results back to the driver.

A task whose node dies is run again elsewhere (``TASK_RETRIES``); a unit whose task keeps
crashing its worker (a decoder crash) is reported failed; so are the units still running when
nothing finished for ``timeout`` seconds (a hung decoder), as on one machine. The work function
writes its files atomically on shared storage, so a retried unit finds what it wrote and does
not write it twice; the driver records each finished unit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vigie.config import RaySettings

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


def ray_settings(ray: str | RaySettings) -> RaySettings:
    """The Ray settings of a ``ray=`` argument: an address alone, or the whole section."""
    return ray if isinstance(ray, RaySettings) else RaySettings(address=ray)


def detector_spec(detector: Any, model: str | Path, device: str | None) -> dict[str, Any]:
    """What a worker needs to load the same detector: the ONNX file the driver made, or the
    torch weights."""
    onnx = getattr(detector, "onnx_path", None)
    return {
        "model": str(onnx if onnx is not None else model),
        "backend": "onnx" if onnx is not None else "torch",
        "conf": detector.conf,
        "iou": detector.iou,
        "imgsz": detector.imgsz,
        "classes": detector.classes,
        "device": device,
    }
