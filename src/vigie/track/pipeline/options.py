"""Options and results of the track stage (shared by the pipeline, outputs and catalog code)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.errors import ConfigError
from vigie.types import RunCounts, TrackRecord

if TYPE_CHECKING:
    from vigie.config import TrackSettings
    from vigie.media import VideoInfo

Line = tuple[float, float, float, float]


@dataclass(frozen=True)
class TrackOptions:
    """What shapes a tracking run's results: built by :func:`track_options` from the settings
    (``settings.track``) and the values of one call of :func:`track`."""

    tracker: str
    tracker_params: dict[str, Any]
    conf: float
    min_frames: int
    stride: int
    start: float | None
    end: float | None
    line: Line | None
    batch: int
    video: bool

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


def track_options(
    section: TrackSettings,
    *,
    start: float | None = None,
    end: float | None = None,
    line: Line | None = None,
    tracker_params: Mapping[str, Any] | None = None,
) -> TrackOptions:
    """The options of a run from its ``track`` settings (already holding the call's values, see
    :func:`vigie.config.stage_options`) and the per-call ones that have no setting.

    SORT's parameters default to ``max_age``, ``min_hits`` and ``iou_threshold``; ``tracker_params``
    replaces any of them (and passes others to the tracker).

    Raises:
        ConfigError: an unknown tracker or an option out of range.
    """
    from vigie.track.trackers import TRACKERS

    name = section.tracker.lower()
    if name not in TRACKERS:
        raise ConfigError(
            f"unknown tracker {section.tracker!r}", hint=f"use one of: {', '.join(TRACKERS)}"
        )
    params: dict[str, Any] = {}
    if name == "sort":
        params = {
            "max_age": section.max_age,
            "min_hits": section.min_hits,
            "iou_threshold": section.iou_threshold,
        }
    params.update(tracker_params or {})
    opts = TrackOptions(
        tracker=name,
        tracker_params=params,
        conf=section.conf,
        min_frames=section.min_frames,
        stride=section.stride,
        start=start,
        end=end,
        line=line,
        batch=section.batch,
        video=section.video,
    )
    _check(opts)
    return opts


def _check(opts: TrackOptions) -> None:
    if opts.stride < 1:
        raise ConfigError("--stride must be 1 or more")
    if opts.min_frames < 1:
        raise ConfigError("--min-frames must be 1 or more")
    if not 0.0 <= opts.conf <= 1.0:
        raise ConfigError("--conf must be between 0 and 1")
    if opts.start is not None and opts.end is not None and opts.end <= opts.start:
        raise ConfigError("--end must be after --start")
    if opts.batch < 1:
        raise ConfigError("--batch must be 1 or more")


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


_VIGIE_REF_CONF = 0.35  # the --conf Vigie's tracker thresholds are tuned for


def tracker_kwargs(opts: TrackOptions, info: VideoInfo | None) -> dict[str, Any]:
    """The tracker's keyword arguments for one video (its size; thresholds for ``conf``)."""
    params = dict(opts.tracker_params)
    if opts.tracker == "vigie":
        if info is not None:
            params.setdefault("image_size", info.display_size)
        if opts.conf < _VIGIE_REF_CONF:
            # Vigie's confidence thresholds are tuned for detections kept at >= 0.35; a lower
            # --conf (a weak or young model) scales them down in proportion.
            import inspect

            from vigie.track.trackers.vigie_tracker import VigieTracker

            defaults = inspect.signature(VigieTracker).parameters
            scale = opts.conf / _VIGIE_REF_CONF
            for key in ("high_thresh", "low_thresh", "new_thresh", "min_mean_conf"):
                params.setdefault(key, float(defaults[key].default) * scale)
    return params
