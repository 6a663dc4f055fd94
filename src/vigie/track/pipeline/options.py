"""Options and results of the track stage (shared by the pipeline, outputs and catalog code)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigie.types import RunCounts, TrackRecord


@dataclass(frozen=True)
class TrackOptions:
    """What shapes a tracking run's results (see :func:`track`)."""

    tracker: str = "vigie"
    tracker_params: dict[str, Any] = field(default_factory=dict)
    conf: float = 0.35
    min_frames: int = 3
    stride: int = 1
    start: float | None = None
    end: float | None = None
    line: tuple[float, float, float, float] | None = None
    batch: int = 8
    video: bool = True

    def signature(self, model_name: str) -> str:
        data = json.dumps({"model": model_name, **self.__dict__}, sort_keys=True, default=str)
        return hashlib.sha256(data.encode()).hexdigest()[:32]


@dataclass
class VideoResult:
    """The outcome of one video: status done | partial | skipped | failed."""

    video: Path
    status: str
    tracks: list[TrackRecord] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    crossings: dict[str, dict[str, int]] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)
    frames_decoded: int = 0
    frames_analysed: int = 0
    fps: float = 0.0
    warning: str | None = None
    error: str | None = None
    seconds: float = 0.0  # wall time spent on the video (analysis, outputs, drawing)


@dataclass
class TrackRun:
    results: list[VideoResult]
    counts: RunCounts
    run_id: int | None = None


def selector(opts: TrackOptions, every: int) -> Callable[[int, float], bool | None]:
    state = {"n": 0}

    def select(index: int, t: float) -> bool | None:
        if opts.end is not None and t > opts.end + 1e-6:
            return None
        if opts.start is not None and t < opts.start - 1e-6:
            return False
        keep = state["n"] % every == 0
        state["n"] += 1
        return keep

    return select
