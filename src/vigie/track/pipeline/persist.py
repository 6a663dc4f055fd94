"""Where tracking results are recorded: the catalog (tracks, track_videos) and the study DB."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.identity import MediaIdentity, identify
from vigie.media import VideoInfo
from vigie.track.pipeline.options import TrackOptions, VideoResult
from vigie.track.pipeline.records import record_dict

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vigie.catalog import Catalog

log = logging.getLogger(__name__)


def media_item(catalog: Catalog, path: Path, info: VideoInfo | None) -> int:
    row = catalog.item_by_path(path)
    if row is not None:
        return int(row.id)
    resolved = path.resolve()
    extra: dict[str, Any] = {}
    if info is not None:
        extra = dict(
            width=info.display_size[0],
            height=info.display_size[1],
            fps=info.fps,
            duration=info.duration,
            frame_count=info.frame_count,
        )
    return catalog.upsert_item(
        key=f"file:{resolved}",
        kind="video",
        path=str(resolved),
        filename=path.name,
        status="done",
        **extra,
    )


def skip(
    catalog: Catalog | None,
    path: Path,
    model_name: str,
    opts: TrackOptions,
    force: bool,
    out_dir: Path,
) -> VideoResult | None:
    """The result of a video already tracked with these options into ``out_dir`` (its outputs
    still there), else None: the video is to be analysed."""
    from vigie.catalog.tracks import tracked_video

    if catalog is None or force:
        return None
    item = catalog.item_by_path(path)
    if item is None:
        return None
    row = tracked_video(catalog, int(item.id), model_name, opts.tracker)
    if row is None or row.status not in ("done", "partial"):
        return None
    outputs = {k: Path(v) for k, v in (row.outputs or {}).items()}
    if row.signature != opts.signature(model_name) or "json" not in outputs:
        return None
    folder = out_dir.resolve()
    if not all(p.exists() and p.parent == folder for p in outputs.values()):
        return None  # gone, or written into another folder than this run's
    data = json.loads(outputs["json"].read_text(encoding="utf-8"))
    return VideoResult(
        path,
        "skipped",
        counts=data.get("counts", {}),
        crossings=data.get("crossings", {}),
        outputs=outputs,
        frames_decoded=row.frames_decoded or 0,
        frames_analysed=row.frames_analysed or 0,
        fps=float(data.get("fps", 0.0)),
        warning=row.warning,
    )


def record(
    catalog: Catalog | None,
    path: Path,
    info: VideoInfo | None,
    res: VideoResult,
    model_name: str,
    opts: TrackOptions,
    run_id: int | None,
) -> None:
    from vigie.catalog.tracks import replace_tracks

    if catalog is None:
        return
    item_id = media_item(catalog, path, info)
    rows = [record_dict(r) for r in res.tracks]
    replace_tracks(
        catalog,
        item_id,
        rows,
        model_name=model_name,
        tracker=opts.tracker,
        run_id=run_id,
        video={
            "signature": opts.signature(model_name),
            "status": res.status,
            "frames_decoded": res.frames_decoded,
            "frames_analysed": res.frames_analysed,
            "outputs": {k: str(v.resolve()) for k, v in res.outputs.items()},
            "warning": res.warning or res.error,
        },
    )


def saved_tracks(res: VideoResult) -> list[dict[str, Any]]:
    """The track records of a video skipped as done, read back from its tracks JSON."""
    path = res.outputs.get("json")
    if path is None:
        return []
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return list(data.get("tracks", []))


def _db_row(ident: MediaIdentity, track: dict[str, Any]) -> dict[str, object]:
    x1, y1, x2, y2 = (float(track[k]) for k in ("x1", "y1", "x2", "y2"))
    return {
        "study_id": ident.study_id,
        "media_id": ident.media_id,
        "plateform_id": str(ident.platform_id),
        "logo": track["class_name"],
        "size": track["size"],
        "area": round(max(0.0, x2 - x1) * max(0.0, y2 - y1), 2),
        "areaPercentage": round(float(track["area_percentage"]), 4),
        "timeBegin": track["first_time"],
        "timeEnd": track["last_time"],
        "confidence": track["max_confidence"],
        "x1": x1,
        "y1": y1,
        "x2": x2,
        "y2": y2,
    }


def write_db(
    engine: Engine,
    path: Path,
    tracks: list[dict[str, Any]],
    catalog: Catalog | None,
    written: dict[tuple[int, str, str], Path],
) -> int:
    """Replace the video's ``yolo_video_detection`` rows by one row per track (one transaction).

    The video's identity comes from the catalog, else its name (vigie.identity); a video without
    one, or whose media another video of this run (``written``) already wrote, is not written.

    Returns:
        the number of rows written.
    """
    from vigie.studydb import write_video_tracks

    ident = identify(path, catalog)
    if ident is None:
        log.warning(
            "%s has no media identity (a name <study>_<publication>_<platform>[_<n>].<ext> or "
            "catalog provenance): its tracks are not written to the study database",
            path.name,
        )
        return 0
    first = written.setdefault(ident.study_key, path)
    if first != path:
        log.warning(
            "%s is the same media as %s: its tracks are not written to the study database a "
            "second time",
            path,
            first,
        )
        return 0
    rows = [_db_row(ident, t) for t in tracks]
    return write_video_tracks(engine, rows, [ident.study_key])
