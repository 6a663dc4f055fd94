"""Typed records passed between stages.

Every arrow of the pipeline (see docs/architecture.md) is one of these records and a row in the
catalog. They are frozen: a stage returns new records, it never mutates another stage's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

# Re-exported: one box (Detection), one image's boxes (Detections) and the size categories live
# in vigie.detections (numpy-free at import); they are records of this module too.
from vigie.detections import SIZE_LARGE as SIZE_LARGE
from vigie.detections import SIZE_MEDIUM as SIZE_MEDIUM
from vigie.detections import SIZE_NEGLIGIBLE as SIZE_NEGLIGIBLE
from vigie.detections import SIZE_SMALL as SIZE_SMALL
from vigie.detections import STUDY_DB_SIZE_NAMES as STUDY_DB_SIZE_NAMES
from vigie.detections import Detection as Detection
from vigie.detections import Detections as Detections
from vigie.detections import SizedBox
from vigie.detections import size_category as size_category


class SourceKind(StrEnum):
    CAMERA = "camera"
    STUDY = "study"
    URLS = "urls"
    FOLDER = "folder"
    LABELSTUDIO = "labelstudio"


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    FRAME = "frame"
    UNKNOWN = "unknown"


class ItemStatus(StrEnum):
    """The one final state every input item ends in (reliability promise 4)."""

    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"
    DUPLICATE = "duplicate"
    FAILED = "failed"


@dataclass(frozen=True)
class Link:
    """One media link of a study, as `vigie links` builds it and `vigie download` consumes it."""

    study_id: int
    platform_id: int
    publication_id: str
    media_type: MediaKind
    url: str
    filename: str  # target name, <study>_<publication>_<platform>[_<n>].<ext> (vigie.identity)
    platform_name: str | None = None
    published_at: datetime | None = None
    media_index: int = 1  # rank among the publication's distinct media (vigie.identity)


@dataclass(frozen=True)
class MediaItem:
    """A media file known to the catalog, with where it came from."""

    path: Path
    kind: MediaKind
    sha256: str | None = None
    size_bytes: int | None = None
    width: int | None = None
    height: int | None = None
    url: str | None = None
    source: str | None = None  # camera name, "study:53", ...
    captured_at: datetime | None = None
    status: ItemStatus = ItemStatus.DONE
    error: str | None = None
    catalog_id: int | None = None
    hashes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FrameRef:
    """One frame taken from a video."""

    video: Path
    frame_index: int
    timestamp: float  # seconds from the start of the video (presentation time)
    path: Path | None = None


class Detector(Protocol):
    """What the detect stage hands to consumers (track, labelstudio predictions, demo).

    Built by ``vigie.detect.load_detector(...)``; images are HxWx3 uint8 RGB arrays.
    """

    names: dict[int, str]

    def predict(self, images: list[Any]) -> list[Detections]: ...


@dataclass(frozen=True)
class TrackRecord(SizedBox):
    """One confirmed track of a video, summarised."""

    track_id: int
    class_name: str
    class_id: int
    max_confidence: float
    mean_confidence: float
    first_frame: int
    last_frame: int
    first_time: float
    last_time: float
    frames_seen: int
    best_box: tuple[float, float, float, float]
    image_width: int
    image_height: int

    def corners(self) -> tuple[float, float, float, float]:
        return self.best_box


@dataclass
class RunCounts:
    """Counters a stage reports at the end of a run (stored on the run row)."""

    done: int = 0
    skipped: int = 0
    failed: int = 0
    duplicates: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int]:
        return {
            "done": self.done,
            "skipped": self.skipped,
            "failed": self.failed,
            "duplicates": self.duplicates,
            **self.extra,
        }
