"""Where tracking results are recorded: the catalog (tracks, track_videos) and the study DB."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.media import VideoInfo
from vigie.track.options import TrackOptions, VideoResult
from vigie.track.records import record_dict
from vigie.types import TrackRecord

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vigie.catalog import Catalog

_STUDY_NAME = re.compile(r"^(\d+)_(.+)_(\d+)$")  # <study>_<publication>_<platform>


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
    catalog: Catalog | None, path: Path, model_name: str, opts: TrackOptions, force: bool
) -> VideoResult | None:
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
    if row.signature != opts.signature(model_name) or not all(p.exists() for p in outputs.values()):
        return None
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


def _study_identity(path: Path, catalog: Catalog | None) -> tuple[int | None, str, str | None]:
    if catalog is not None:
        item = catalog.item_by_path(path)
        if item is not None and item.study_id is not None and item.publication_id:
            platform = str(item.platform_id) if item.platform_id is not None else None
            return int(item.study_id), str(item.publication_id), platform
    m = _STUDY_NAME.match(path.stem)
    if m:
        return int(m.group(1)), m.group(2), m.group(3)
    return None, path.stem, None


def write_db(
    engine: Engine, path: Path, records: list[TrackRecord], catalog: Catalog | None
) -> None:
    from vigie.studydb import write_video_tracks

    study_id, media_id, platform = _study_identity(path, catalog)
    rows: list[dict[str, object]] = [
        {
            "study_id": study_id,
            "media_id": media_id,
            "plateform_id": platform,
            "logo": r.class_name,
            "size": r.size,
            "area": round(r.area, 2),
            "areaPercentage": round(r.area_percentage, 4),
            "timeBegin": r.first_time,
            "timeEnd": r.last_time,
            "confidence": r.max_confidence,
            "x1": r.best_box[0],
            "y1": r.best_box[1],
            "x2": r.best_box[2],
            "y2": r.best_box[3],
        }
        for r in records
    ]
    write_video_tracks(engine, rows)
