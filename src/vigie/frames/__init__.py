"""Frame extraction: probe videos honestly, select frames exactly, decode only what is needed.

Public API::

    from vigie.frames import probe, extract_frames, extract_folder, select_frames
"""

from vigie.frames.core import FramesResult, Selection, extract_frames, record_frames
from vigie.frames.folder import FolderResult, extract_folder, find_videos
from vigie.frames.select import (
    MODES,
    STRATEGIES,
    frame_range,
    select_frames,
    selection_tag,
    validate_selection,
)
from vigie.frames.write import WrittenFrame
from vigie.media import VideoInfo, probe  # public names of this stage since its first release

__all__ = [
    "MODES",
    "STRATEGIES",
    "FolderResult",
    "FramesResult",
    "Selection",
    "VideoInfo",
    "WrittenFrame",
    "extract_folder",
    "extract_frames",
    "find_videos",
    "frame_range",
    "probe",
    "record_frames",
    "select_frames",
    "selection_tag",
    "validate_selection",
]
