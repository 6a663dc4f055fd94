"""Track stage, three rooms:

- ``trackers/``: the Tracker interface, Vigie's tracker, SORT, ultralytics' (ByteTrack, BoT-SORT,
  OC-SORT) adapters, ``make_tracker`` by name; numpy only, imports no other room;
- ``pipeline/``: the video pipeline behind ``vigie track`` (uses ``trackers``);
- ``evaluation/``: the scene simulator and MOT metrics behind ``vigie eval-track``.

    from vigie.track import make_tracker
    tracker = make_tracker("vigie")
    for dets in frames:            # (N, 5|6) arrays: x1, y1, x2, y2, conf[, class]
        tracker.update(dets)       # (M, 7): x1, y1, x2, y2, track id, conf, class
    per_frame = tracker.finish()   # refined tracks of the whole video
"""

from vigie._api import make_stage_callable
from vigie.track.evaluation import (
    SimulatedScene,
    evaluate,
    evaluate_frames,
    format_mot,
    parse_mot,
    simulate,
)
from vigie.track.pipeline import (
    TrackOptions,
    TrackRun,
    VideoResult,
    find_videos,
    line_crossings,
    summarise,
    track,
)
from vigie.track.trackers import TRACK_COLUMNS, TRACKERS, Tracker, make_tracker

__all__ = [
    "TRACKERS",
    "TRACK_COLUMNS",
    "SimulatedScene",
    "TrackOptions",
    "TrackRun",
    "Tracker",
    "VideoResult",
    "evaluate",
    "evaluate_frames",
    "find_videos",
    "format_mot",
    "line_crossings",
    "make_tracker",
    "parse_mot",
    "simulate",
    "summarise",
    "track",
]

make_stage_callable(__name__, track)
