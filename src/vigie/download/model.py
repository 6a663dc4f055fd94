"""The records of a download run: one final state per item, the run's totals, the folders."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from vigie.types import ItemStatus, MediaKind

Purpose = Literal["dataset", "media_analysis"]
ITEMS_KEPT_UP_TO = 10_000  # runs up to this many input items keep every ItemResult by default


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The one final state of one input item."""

    key: str
    url: str
    status: ItemStatus
    filename: str
    path: Path | None = None
    kind: MediaKind = MediaKind.UNKNOWN
    size: int = 0
    error_class: str | None = None
    error: str | None = None
    attempts: int = 0
    frame_count: int | None = None


@dataclass
class DownloadResult:
    """What a download run did; ``done + skipped + failed == total`` always.

    Memory stays bounded on large runs: the counts cover every item, ``failed_items`` holds each
    failure (the failure logs), ``videos`` each downloaded video of a ``dataset`` run (the frames
    step), and ``items`` every item's final state only when ``keep_items`` is on (by default for
    runs of at most ``ITEMS_KEPT_UP_TO`` items; the catalog holds every item's state anyway).
    """

    label: str
    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    elapsed: float = 0.0
    items: list[ItemResult] = field(default_factory=list)
    failed_items: list[ItemResult] = field(default_factory=list)
    videos: list[ItemResult] = field(default_factory=list)
    swept_parts: int = 0
    frames: int = 0
    videos_to_cut: int = 0
    error_log: Path | None = None
    error_jsonl: Path | None = None
    keep_items: bool = True  # every ItemResult in ``items``
    keep_failed: bool = True  # failures in ``failed_items`` (False in worker processes)
    keep_videos: bool = False  # non-failed videos in ``videos`` (the dataset purpose)

    @property
    def files_per_second(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def add(self, item: ItemResult) -> None:
        if self.keep_items:
            self.items.append(item)
        if item.status is ItemStatus.DONE:
            self.done += 1
            self.bytes += item.size
        elif item.status is ItemStatus.FAILED:
            self.failed += 1
            self.failures[item.error_class or "error"] += 1
            if self.keep_failed:
                self.failed_items.append(item)
            return
        else:
            self.skipped += 1
        if self.keep_videos and item.kind is MediaKind.VIDEO:
            self.videos.append(item)


@dataclass
class Layout:
    """Where files of each kind go, by purpose (the seed's folders)."""

    out: Path
    study: int | None
    purpose: Purpose

    def folder(self, kind: MediaKind) -> Path:
        if self.study is None:
            return self.out
        if self.purpose == "dataset":
            if kind is MediaKind.VIDEO:
                return self.out / f"videos_{self.study}"
            return self.out / f"dataset_{self.study}"
        if kind is MediaKind.VIDEO:
            return self.out / f"videos_{self.study}"
        return self.out / f"images_{self.study}"

    @property
    def to_cut(self) -> Path:
        return self.out / "videos_to_be_cut"

    def folders(self) -> list[Path]:
        kinds = (MediaKind.IMAGE, MediaKind.VIDEO)
        extra = [self.to_cut] if self.purpose == "dataset" else []
        return list(dict.fromkeys([self.folder(k) for k in kinds] + extra))
