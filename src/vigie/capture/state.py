"""What a capture run knows about each camera: its stats, its state, its last kept frame."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from vigie.capture.kinds import Kind
from vigie.capture.registry import Camera
from vigie.types import MediaItem

FRAME_NAME = re.compile(r"^(\d{14})(?:_(\d+))?\.(jpg|png|gif|webp)$")


@dataclass
class CameraStats:
    """What happened to one camera during a run."""

    name: str
    url: str
    folder: Path
    polls: int = 0
    kept: int = 0
    duplicates: int = 0
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    missed_ticks: int = 0
    last_frame: Path | None = None
    kind: str = "snapshot"  # or the stream read: "hls", "rtsp", "mjpeg"
    reopens: int = 0  # times a dropped stream was opened again


@dataclass
class CaptureResult:
    """The outcome of :func:`capture`."""

    run_id: int | None
    cameras: list[CameraStats]
    frames: list[MediaItem] = field(default_factory=list)
    interrupted: bool = False

    @property
    def kept(self) -> int:
        return sum(c.kept for c in self.cameras)

    @property
    def duplicates(self) -> int:
        return sum(c.duplicates for c in self.cameras)

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.cameras)

    @property
    def polls(self) -> int:
        return sum(c.polls for c in self.cameras)


@dataclass
class CameraState:
    camera: Camera
    folder: Path
    source_id: int
    stats: CameraStats
    last_sha: str | None = None
    last_hashes: dict[str, int] | None = None
    last_name: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_before: float = 0.0
    last_stamp: str = ""
    seq: int = 0
    kind: Kind = "auto"  # from the URL and --kind (vigie.capture.kinds.url_kind)


def last_kept_frame(folder: Path) -> Path | None:
    """The newest ``YYYYmmddHHMMSS[_n].ext`` file of a camera folder, or None."""
    best: tuple[str, int] | None = None
    found = None
    for p in folder.iterdir() if folder.is_dir() else ():
        m = FRAME_NAME.match(p.name)
        if m and p.is_file():
            key = (m.group(1), int(m.group(2) or 0))
            if best is None or key > best:
                best, found = key, p
    return found
