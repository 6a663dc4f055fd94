"""The video pipeline of ``vigie track``: decode once -> detect -> track -> draw and encode in the
same pass -> per-track records -> files, catalog rows and study DB rows.

core.py (the stage's core, :func:`track`), options.py (options and results), records.py (per-track
records, counts, line crossings), outputs.py (JSON, CSV, MOT text), render.py (the annotated video
drawn on the decoded frames), persist.py (catalog and study DB). Imports the trackers room and the
MOT text writer of the evaluation room, nothing else of the stage.
"""

from vigie.track.pipeline.core import find_videos, track
from vigie.track.pipeline.options import TrackOptions, TrackRun, VideoResult
from vigie.track.pipeline.records import line_crossings, summarise

__all__ = [
    "TrackOptions",
    "TrackRun",
    "VideoResult",
    "find_videos",
    "line_crossings",
    "summarise",
    "track",
]
