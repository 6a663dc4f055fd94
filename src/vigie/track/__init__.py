"""Track stage: trackers (Vigie's, SORT, ultralytics' adapters), scene simulator, evaluation,
and the video pipeline behind ``vigie track``.

    from vigie.track import make_tracker
    tracker = make_tracker("vigie")
    for dets in frames:            # (N, 5|6) arrays: x1, y1, x2, y2, conf[, class]
        tracker.update(dets)       # (M, 7): x1, y1, x2, y2, track id, conf, class
    per_frame = tracker.finish()   # refined tracks of the whole video
"""

from vigie._api import make_stage_callable
from vigie.track.base import TRACK_COLUMNS, Tracker
from vigie.track.core import find_videos, track
from vigie.track.metrics import evaluate, evaluate_frames, format_mot, parse_mot
from vigie.track.options import TrackOptions, TrackRun, VideoResult
from vigie.track.records import line_crossings, summarise
from vigie.track.simulate import SimulatedScene, simulate
from vigie.track.trackers import TRACKERS, make_tracker

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
