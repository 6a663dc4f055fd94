"""Per-video output files: tracks JSON and CSV, MOT text, and the annotated H.264 video
(:mod:`vigie.track.pipeline.render`).

Every file is written as ``name.part`` beside its target, then renamed into place.
"""

from __future__ import annotations

import json
from pathlib import Path

from vigie.files import write_atomic
from vigie.media import FrameIndex, VideoInfo
from vigie.track.evaluation.metrics import format_mot
from vigie.track.pipeline.options import TrackOptions, VideoResult
from vigie.track.pipeline.records import record_dict, records_csv
from vigie.track.pipeline.render import FrameStore, render
from vigie.track.trackers.base import FloatArray


def atomic_write(target: Path, text: str) -> Path:
    return write_atomic(target, text)


def write_outputs(
    res: VideoResult,
    stem: str,
    out_dir: Path,
    per_frame: list[FloatArray],
    index: list[int],
    info: VideoInfo,
    frame_index: FrameIndex,
    names: dict[int, str],
    opts: TrackOptions,
    store: FrameStore | None = None,
) -> dict[str, Path]:
    """Write the video's files; the annotated MP4 (``opts.video``) from the frames of ``store``.

    Raises:
        MediaError: encoding the video failed.
    """
    outputs: dict[str, Path] = {}
    if opts.video:
        target = out_dir / f"{stem}.mp4"
        outputs["video"] = render(
            target, store or FrameStore(0), info, frame_index, per_frame, index, names, opts
        )
    width, height = info.display_size
    summary = {
        "video": str(res.video),
        "status": res.status,
        "fps": info.fps,
        "width": width,
        "height": height,
        "frames_decoded": res.frames_decoded,
        "frames_analysed": res.frames_analysed,
        "tracker": opts.tracker,
        "warning": res.warning,
        "counts": res.counts,
        "crossings": res.crossings,
        "line": list(opts.line) if opts.line else None,
        "tracks": [record_dict(r) for r in res.tracks],
    }
    mot = format_mot((f + 1, t) for f, t in zip(index, per_frame, strict=True))
    outputs["mot"] = atomic_write(out_dir / f"{stem}.mot.txt", mot)
    outputs["csv"] = atomic_write(out_dir / f"{stem}.tracks.csv", records_csv(res.tracks))
    outputs["json"] = atomic_write(
        out_dir / f"{stem}.tracks.json", json.dumps(summary, indent=2) + "\n"
    )
    return outputs
