"""Trackers by name: ``make_tracker("vigie" | "sort" | "bytetrack" | "botsort" | "ocsort")``."""

from __future__ import annotations

from typing import Any

from vigie.errors import ConfigError
from vigie.track.trackers.adapters import ULTRALYTICS_TRACKERS
from vigie.track.trackers.base import TRACK_COLUMNS, Tracker

__all__ = ["TRACKERS", "TRACK_COLUMNS", "Tracker", "make_tracker"]

TRACKERS = ("vigie", "sort", *ULTRALYTICS_TRACKERS)


def make_tracker(name: str = "vigie", **params: Any) -> Tracker:
    """A tracker by name, with its parameters.

    Args:
        name: ``vigie`` (default: online association + offline refinement), ``sort`` (the
            seed's SORT), or one of ultralytics' ``bytetrack``, ``botsort``, ``ocsort``.
        **params: the tracker's parameters, e.g. ``max_age=20, min_hits=2, iou_threshold=0.3``
            for SORT, ``track_buffer=30`` for ultralytics' trackers; see each class.

    Raises:
        ConfigError: unknown tracker name or parameter.
        DependencyError: an ultralytics tracker without ultralytics installed.
    """
    key = name.lower().replace("-", "").replace("_", "")
    try:
        if key == "vigie":
            from vigie.track.trackers.vigie_tracker import VigieTracker

            return VigieTracker(**params)
        if key == "sort":
            from vigie.track.trackers.sort import SortTracker

            return SortTracker(**params)
    except TypeError as exc:
        raise ConfigError(
            f"bad parameter for the {name} tracker: {exc}", hint="see vigie.track.make_tracker"
        ) from None
    if key in ULTRALYTICS_TRACKERS:
        from vigie.track.trackers.adapters import UltralyticsTracker

        return UltralyticsTracker(key, **params)
    raise ConfigError(f"unknown tracker {name!r}", hint=f"use one of: {', '.join(TRACKERS)}")
