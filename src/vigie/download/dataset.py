"""``--purpose dataset``: frames of short videos beside the images, long ones to videos_to_be_cut/."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from vigie.catalog import Catalog
from vigie.config import DownloadSettings
from vigie.errors import VigieError
from vigie.types import ItemStatus, MediaKind

if TYPE_CHECKING:
    from vigie.download.model import ItemResult, Layout

log = logging.getLogger(__name__)


def prepare_videos(
    cat: Catalog, videos: Sequence[ItemResult], layout: Layout, cfg: DownloadSettings
) -> tuple[int, int]:
    """Extract about ``frames_per_short_video`` evenly spaced frames of each video of at most
    ``frame_threshold`` frames into the images folder; move longer videos to videos_to_be_cut/.

    Returns ``(frames on disk, videos moved)``. A video whose frames cannot be extracted keeps
    its download status; the problem is logged as a warning.
    """
    from vigie.frames import extract_frames

    frames = moved = 0
    frames_dir = layout.folder(MediaKind.IMAGE)
    cut_dir = layout.to_cut
    for item in videos:
        if item.status is ItemStatus.FAILED or item.path is None:
            continue
        path = item.path
        if path.parent.resolve() == cut_dir.resolve() or not path.exists():
            continue
        count = item.frame_count or 0
        if count > cfg.frame_threshold:
            cut_dir.mkdir(parents=True, exist_ok=True)
            target = cut_dir / path.name
            os.replace(path, target)
            row = cat.item(item.key)
            if row is not None:
                cat.upsert_items([_moved(row, target)])
            moved += 1
            continue
        try:
            result = extract_frames(
                path,
                mode="all",
                strategy="equal",
                max_count=cfg.frames_per_short_video,
                out=frames_dir,
                fmt="jpg",
                catalog=cat,
            )
        except VigieError as exc:
            log.warning("no frames from %s: %s", path.name, exc.message)
            continue
        frames += len(result.frames)
    return frames, moved


def _moved(row: Any, target: Any) -> dict[str, Any]:
    return {"key": row.key, "kind": row.kind, "status": row.status, "path": str(target.resolve())}
