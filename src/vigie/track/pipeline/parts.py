"""The annotated video of a video tracked in segments on Ray, drawn in parts by the workers.

Once a segmented video's tracks are stitched (:mod:`vigie.track.pipeline.on_ray`), its
annotated MP4 is drawn in as many parts as it had segments, without their overlap: part ``n``
covers the frames from segment ``n``'s first one to the frame before segment ``n + 1``'s (each
starts on an analysed frame, so its first frame shows its own tracks). A worker decodes its
part (from the keyframe before it), draws the stitched tracks and encodes it
(:func:`vigie.track.pipeline.render.render`) into ``<out>/.parts/``; the driver joins the parts
with a stream copy (:func:`vigie.media.concat.concat_videos`): no frame is decoded on the
driver. A part that fails makes the driver draw the whole video itself, as before.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from vigie.track.pipeline.render import FrameStore, render

PARTS_DIR = ".parts"


class Part(NamedTuple):
    """Part ``n`` of the annotated video of ``path``: frames ``first``..``last``."""

    path: Path
    n: int
    first: int
    last: int
    target: Path


def plan_parts(path: Path, stem: str, out_dir: Path, ranges: list[tuple[int, int]]) -> list[Part]:
    """The parts of the annotated video of ``path``, from its segments' frame ``ranges``."""
    folder = out_dir / PARTS_DIR
    parts = []
    for n, (first, last) in enumerate(ranges):
        end = ranges[n + 1][0] - 1 if n + 1 < len(ranges) else last
        parts.append(Part(path, n, first, end, folder / f"{stem}.{n:03d}.mp4"))
    return parts


@dataclass(frozen=True)
class PartJob:
    """What the worker drawing a part needs: only the tracks of its own frames."""

    target: Path
    first: int  # the part's first frame: decoded from the keyframe before it
    info: Any  # VideoInfo
    frame_index: Any  # FrameIndex
    per_frame: list[Any]
    index: list[int]
    names: dict[int, str]
    opts: Any  # TrackOptions, with the part's time range


def part_job(
    part: Part,
    info: Any,
    frame_index: Any,
    per_frame: list[Any],
    index: list[int],
    names: dict[int, str],
    opts: Any,
) -> PartJob:
    """The job of ``part``, from the stitched tracks of the whole video."""
    keep = [k for k, i in enumerate(index) if part.first <= i <= part.last]
    times = frame_index.times
    sub = dataclasses.replace(opts, start=times[part.first], end=times[part.last])
    return PartJob(part.target, part.first, info, frame_index, [per_frame[k] for k in keep],
                   [index[k] for k in keep], names, sub)  # fmt: skip


def draw_part(job: PartJob) -> Path:
    """On a worker: decode the part's frames, draw their tracks and encode them."""
    job.target.parent.mkdir(parents=True, exist_ok=True)
    store = FrameStore(0)
    store.missing = job.first  # nothing held: every frame of the part is decoded here
    return render(job.target, store, job.info, job.frame_index, job.per_frame, job.index,
                  job.names, job.opts)  # fmt: skip


def join_parts(parts: list[Part], target: Path) -> Path:
    """Join the drawn ``parts`` into ``target`` and remove them (and their folder when empty)."""
    from vigie.media.concat import concat_videos

    done = concat_videos([p.target for p in parts], target)
    remove_parts(parts)
    return done


def remove_parts(parts: list[Part]) -> None:
    """Remove the parts' files (what a failed part left too) and their folder when empty."""
    for p in parts:
        p.target.unlink(missing_ok=True)
        p.target.with_name(p.target.name + ".part").unlink(missing_ok=True)
    if parts:
        folder = parts[0].target.parent
        if folder.is_dir() and not any(folder.iterdir()):
            shutil.rmtree(folder, ignore_errors=True)
