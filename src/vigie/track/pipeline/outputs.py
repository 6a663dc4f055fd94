"""Per-video output files: tracks JSON and CSV, MOT text, and the annotated H.264 video.

Every file is written as ``name.part`` beside its target, then renamed into place.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from vigie.files import write_atomic
from vigie.media import FrameIndex, FrameReader, VideoInfo, VideoWriter, annotate, track_color
from vigie.track.evaluation.metrics import format_mot
from vigie.track.pipeline.options import TrackOptions, VideoResult, selector
from vigie.track.pipeline.records import record_dict, records_csv
from vigie.track.trackers.base import FloatArray

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

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
    frame_index: FrameIndex,
    names: dict[int, str],
    opts: TrackOptions,
) -> dict[str, Path]:
    outputs: dict[str, Path] = {}
    if opts.video:
        target = out_dir / f"{stem}.mp4"
        outputs["video"] = _render(target, info, frame_index, per_frame, index, names, opts)
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


def _render(
    target: Path,
    info: VideoInfo,
    frame_index: FrameIndex,
    per_frame: list[FloatArray],
    index: list[int],
    names: dict[int, str],
    opts: TrackOptions,
) -> Path:
    """Second pass: decode every frame of the range again, draw the tracks, encode."""
    part = target.with_name(target.name + ".part")
    by_frame = dict(zip(index, per_frame, strict=True))
    path = info.path
    reader = FrameReader(path, selector(opts, 1), seek=opts.start, index=frame_index)
    writer = VideoWriter(part, info.rate, *info.display_size)
    shown: FloatArray | None = None
    shown_at = -(10**9)
    try:
        for frame in reader:
            if frame.index in by_frame:
                shown, shown_at = by_frame[frame.index], frame.index
            img = frame.image
            visible = shown is not None and frame.index - shown_at < opts.stride
            if opts.line or visible:
                img = _draw(img, shown if visible else None, names, opts.line)
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


def _draw(
    image: NDArray[np.uint8],
    tracks: FloatArray | None,
    names: dict[int, str],
    line: tuple[float, float, float, float] | None,
) -> NDArray[np.uint8]:
    """The frame with each track's box, class and id, and the counting line, drawn."""
    import numpy as np

    rows = tracks if tracks is not None else ()
    pil = annotate(
        image,
        [row[:4] for row in rows],
        labels=[f"{names.get(int(r[6]), str(int(r[6])))} #{int(r[4])}" for r in rows],
        colors=[track_color(int(r[4])) for r in rows],
        thickness=2,
        text_color=(0, 0, 0),
        line=line,
    )
    return np.asarray(pil)
