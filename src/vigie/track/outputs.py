"""Per-video output files: tracks JSON and CSV, MOT text, and the annotated H.264 video.

Every file is written as ``name.part`` beside its target, then renamed into place.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

from vigie.files import write_atomic
from vigie.track.base import FloatArray
from vigie.track.metrics import format_mot
from vigie.track.options import TrackOptions, VideoResult, selector
from vigie.track.records import record_dict, records_csv
from vigie.track.video import FrameReader, VideoInfo, VideoWriter, draw_line, draw_tracks

log = logging.getLogger(__name__)


def atomic_write(target: Path, text: str) -> Path:
    return write_atomic(target, text)


def write_outputs(
    res: VideoResult,
    stem: str,
    out_dir: Path,
    per_frame: list[FloatArray],
    index: list[int],
    info: VideoInfo,
    names: dict[int, str],
    opts: TrackOptions,
) -> dict[str, Path]:
    outputs: dict[str, Path] = {}
    if opts.video:
        outputs["video"] = _render(out_dir / f"{stem}.mp4", info, per_frame, index, names, opts)
    summary = {
        "video": str(res.video),
        "status": res.status,
        "fps": info.fps,
        "width": info.width,
        "height": info.height,
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


def _render(
    target: Path,
    info: VideoInfo,
    per_frame: list[FloatArray],
    index: list[int],
    names: dict[int, str],
    opts: TrackOptions,
) -> Path:
    """Second pass: decode every frame of the range again, draw the tracks, encode."""
    part = target.with_name(target.name + ".part")
    by_frame = dict(zip(index, per_frame, strict=True))
    reader = FrameReader(path := info.path, info.fps, selector(opts, 1), seek=opts.start)
    writer = VideoWriter(part, info.rate, info.width, info.height)
    shown: FloatArray | None = None
    shown_at = -(10**9)
    try:
        for frame in reader:
            if frame.index in by_frame:
                shown, shown_at = by_frame[frame.index], frame.index
            img = frame.image
            if opts.line:
                img = draw_line(img, opts.line)
            if shown is not None and frame.index - shown_at < opts.stride:
                img = draw_tracks(img, shown, names)
            writer.write(img)
        writer.close()
    except BaseException:
        with contextlib.suppress(Exception):
            writer.close()
        part.unlink(missing_ok=True)  # no partial file left behind (reliability promise 1)
        raise
    os.replace(part, target)
    log.debug("%s: annotated video written to %s", path.name, target)
    return target
