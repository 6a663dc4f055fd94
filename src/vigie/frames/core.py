"""Extract frames from one video: probe, select, decode what is needed, write, record."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from vigie.catalog import stage_run
from vigie.config import Settings, load_settings, stage_options
from vigie.errors import ConfigError, MediaError
from vigie.files import sweep_parts
from vigie.frames.select import Mode, Strategy, select_frames, selection_tag, validate_selection
from vigie.frames.write import (
    FrameWriter,
    WrittenFrame,
    existing_frame,
    frame_name,
    safe_stem,
    write_manifest,
)
from vigie.media import (
    DecodeStats,
    VideoInfo,
    info_as_dict,
    iter_target_frames,
    normalise_rotation,
    open_video,
    scan_container,
)
from vigie.types import FrameRef, MediaKind

if TYPE_CHECKING:
    from vigie.catalog import Catalog

log = logging.getLogger(__name__)

Format = Literal["jpg", "png"]


@dataclass(frozen=True)
class FramesResult:
    """What one extraction did.

    ``frames`` lists every selected frame that is on disk (written now or by an earlier run), in
    order; ``missing`` the selected frame indices that did not decode; ``warnings`` what went wrong
    (truncated data, lying header) in words.
    """

    video: Path
    info: VideoInfo
    frames: list[FrameRef]
    selected: int
    written: int
    existing: int
    missing: list[int]
    warnings: list[str]
    manifest: Path | None
    seconds: float
    decoded: int = 0
    seeks: int = 0
    files: list[WrittenFrame] = field(default_factory=list, repr=False)

    @property
    def frames_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Selection:
    """A selection request (the flags of ``vigie frames``)."""

    mode: Mode
    value: float = 1
    start: float | None = None
    end: float | None = None
    strategy: Strategy = "equal"
    seed: int = 0
    max_count: int | None = None

    def validate(self) -> None:
        validate_selection(
            self.mode, self.value, self.start, self.end, self.strategy, self.max_count
        )

    def pick(self, timestamps: list[float]) -> list[int]:
        return select_frames(
            timestamps,
            mode=self.mode,
            value=self.value,
            start=self.start,
            end=self.end,
            strategy=self.strategy,
            seed=self.seed,
            max_count=self.max_count,
        )

    @property
    def tag(self) -> str:
        return selection_tag(
            self.mode, self.value, self.start, self.end, self.strategy, self.seed, self.max_count
        )


def check_output(fmt: str, quality: int) -> None:
    if fmt not in ("jpg", "png"):
        raise ConfigError(f"unknown image format {fmt!r}", hint="use jpg or png")
    if not 1 <= quality <= 100:
        raise ConfigError(f"--quality {quality} is out of range", hint="use 1..100")


def extract_frames(
    video: Path,
    *,
    mode: Mode,
    value: float = 1,
    start: float | None = None,
    end: float | None = None,
    strategy: Strategy = "equal",
    seed: int = 0,
    max_count: int | None = None,
    out: Path,
    fmt: Format | None = None,
    quality: int | None = None,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    threads: int = 0,
    writers: int | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> FramesResult:
    """Extract the selected frames of ``video`` into the folder ``out``.

    Args:
        video: a local video file.
        mode, value, start, end, strategy, seed, max_count: the selection (see
            :func:`vigie.frames.select_frames`).
        out: the folder the frames and ``manifest.csv``/``manifest.json`` go to.
        fmt, quality: ``jpg`` (quality 1-100) or ``png``; ``None``: ``settings.frames``.
        settings: the settings (default :func:`vigie.config.load_settings`).
        catalog: the catalog that records the run (``frames``) and each frame as a media item
            (kind ``frame``) whose parent is the video; default: the one of ``settings``.
        threads: decoder threads (0 = FFmpeg's choice).
        writers: encoder threads (default: CPU count, at most 4).
        on_frame: called with the number of frames just finished (for progress bars).

    Returns:
        FramesResult; frames already on disk from an identical earlier run are not rewritten.

    Raises:
        ConfigError: an invalid selection or output format.
        MediaError: the video cannot be opened or has no video stream.
    """
    cfg = settings or load_settings()
    sel = Selection(mode, value, start, end, strategy, seed, max_count)
    sel.validate()
    check_output(fmt or cfg.frames.format, cfg.frames.quality if quality is None else quality)
    opts = stage_options(cfg.frames, format=fmt, quality=quality)
    run_options = {
        "video": str(video),
        "out": str(out),
        "selection": sel.tag,
        "format": opts.format,
    }
    with stage_run("frames", cfg, catalog, run_options) as (cat, run):
        result = run_extraction(
            Path(video),
            sel,
            Path(out),
            opts.format,
            opts.quality,
            threads=threads,
            writers=writers,
            on_frame=on_frame,
        )
        log_warnings(result)
        record_frames(cat, result, run.id)
        run.counts.done = result.written
        run.counts.skipped = result.existing
        run.counts.failed = len(result.missing)
    return result


def log_warnings(result: FramesResult) -> None:
    for w in result.warnings:
        log.warning("%s: %s", result.video.name, w)


def run_extraction(
    video: Path,
    sel: Selection,
    out: Path,
    fmt: str,
    quality: int,
    *,
    threads: int = 0,
    writers: int | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> FramesResult:
    """The extraction itself, without the catalog (runs in worker processes too)."""
    started = time.perf_counter()
    container = open_video(video)
    try:
        info, index, stream = scan_container(container, video, read_rotation=False)
        assert stream is not None  # scan_container raises when there is no video stream
        if threads:
            stream.thread_count = threads
        warnings = list(info.problems)
        targets = sel.pick(index.times)
        if not len(index):
            warnings.append("no frame to extract")
        elif not targets:
            warnings.append("the selection holds no frame (is the range inside the video?)")
        out.mkdir(parents=True, exist_ok=True)
        sweep_parts(out)
        stem, tag = safe_stem(video.stem), sel.tag
        paths = {i: out / frame_name(stem, tag, i, index.times[i], fmt) for i in targets}
        existing: dict[int, WrittenFrame] = {}
        for i in targets:
            if paths[i].exists():
                found = existing_frame(paths[i], i, index.times[i])
                if found is not None:
                    existing[i] = found
        todo = [i for i in targets if i not in existing]
        stats = DecodeStats()
        workers = writers or min(4, os.cpu_count() or 1)
        writer = FrameWriter(fmt, quality, workers=workers, backlog=2 * workers + 2)
        rotation: int | None = None
        try:
            for i, frame in iter_target_frames(container, stream, index, todo, stats):
                if rotation is None:
                    rotation = normalise_rotation(frame.rotation)
                writer.submit(frame, rotation, i, index.times[i], paths[i])
                if on_frame is not None:
                    on_frame(1)
        except BaseException:
            writer.abort()
            raise
        written, write_errors = writer.close()
    finally:
        container.close()
    if rotation is not None and rotation != info.rotation:
        info = dataclasses.replace(info, rotation=rotation)
    warnings += stats.warnings + write_errors
    if stats.missing:
        warnings.append(
            f"{len(stats.missing)} selected frames did not decode (corrupt or truncated)"
        )
    files = sorted([*existing.values(), *written], key=lambda f: f.frame_index)
    manifest = write_manifest(out, video, files, info_as_dict(info)) if files else None
    frames = [FrameRef(video, f.frame_index, f.timestamp, f.path) for f in files]
    return FramesResult(
        video=video,
        info=info,
        frames=frames,
        selected=len(targets),
        written=len(written),
        existing=len(existing),
        missing=sorted(stats.missing),
        warnings=warnings,
        manifest=manifest,
        seconds=time.perf_counter() - started,
        decoded=stats.decoded,
        seeks=stats.seeks,
        files=files,
    )


def video_key(video_row: Any, video: Path) -> str:
    """The identity frames of this video are keyed by: its sha256 when known, else its path."""
    sha = getattr(video_row, "sha256", None) if video_row is not None else None
    return sha or str(video.resolve())


def record_frames(catalog: Catalog, result: FramesResult, run_id: int | None = None) -> int:
    """Record the frames of ``result`` as media items under their video; return the video's id.

    A video the catalog does not know yet is added (kind ``video``, source ``folder``) so every
    frame traces back to it.
    """
    video = result.video.resolve()
    row = catalog.item_by_path(video)
    info = result.info
    if row is None:
        source_id = catalog.source("folder", str(video.parent))
        video_id = catalog.upsert_item(
            key=f"video:{video}",
            kind=MediaKind.VIDEO.value,
            source_id=source_id,
            path=str(video),
            filename=video.name,
            size_bytes=video.stat().st_size if video.exists() else None,
            width=info.width,
            height=info.height,
            duration=info.duration,
            fps=info.fps,
            frame_count=info.frame_count,
            status="done",
            run_id=run_id,
        )
        row = catalog.item(f"video:{video}")
    else:
        video_id = int(row.id)
    base = video_key(row, video)
    frame_source = getattr(row, "source_id", None)
    # Frames inherit the video's study provenance (study -> publication -> platform), so a
    # detection on a frame can be written to the study database like one on an image.
    provenance = {
        "study_id": getattr(row, "study_id", None),
        "publication_id": getattr(row, "publication_id", None),
        "platform_id": getattr(row, "platform_id", None),
    }
    rows = [
        {
            "key": f"frame:{base}:{f.frame_index}",
            "kind": MediaKind.FRAME.value,
            "source_id": frame_source,
            "parent_id": video_id,
            "path": str(f.path.resolve()),
            "filename": f.path.name,
            "sha256": f.sha256,
            "size_bytes": f.path.stat().st_size,
            "width": f.width,
            "height": f.height,
            "frame_index": f.frame_index,
            "timestamp": f.timestamp,
            "status": "done",
            "run_id": run_id,
            **provenance,
        }
        for f in result.files
        if f.path.exists()
    ]
    for i in range(0, len(rows), 500):
        catalog.upsert_items(rows[i : i + 500])
    return video_id


def record_failure(catalog: Catalog, video: Path, error: MediaError | str) -> None:
    """Mark a video that could not be read (only a video the frames stage added itself)."""
    video = video.resolve()
    if catalog.item_by_path(video) is not None:
        return  # owned by the stage that brought it in (download, capture): leave its state
    source_id = catalog.source("folder", str(video.parent))
    catalog.upsert_item(
        key=f"video:{video}",
        kind=MediaKind.VIDEO.value,
        source_id=source_id,
        path=str(video),
        filename=video.name,
        status="failed",
        error_class="MediaError",
        error=str(error)[:2000],
    )
