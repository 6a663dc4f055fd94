"""Near-duplicate search across a whole folder: hash every image, group, optionally move aside."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from vigie.catalog import Catalog, stage_run
from vigie.config import DedupSettings, Settings, load_settings, stage_options
from vigie.dedup.hashing import hamming, image_hash
from vigie.dedup.index import group_near_duplicates
from vigie.dedup.sequence import keep_decisions
from vigie.errors import ConfigError, output_dir
from vigie.media import list_media

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DuplicateGroup:
    """One group of near-duplicate images: the one kept and the others."""

    keep: Path
    duplicates: list[Path]
    max_distance: int  # largest hamming distance between the kept image and a duplicate


@dataclass
class DedupReport:
    """What :func:`find_duplicates` found (and moved)."""

    folder: Path
    method: str
    threshold: int
    scanned: int = 0
    groups: list[DuplicateGroup] = field(default_factory=list)
    failures: list[tuple[Path, str]] = field(default_factory=list)
    moved: list[tuple[Path, Path]] = field(default_factory=list)

    @property
    def duplicate_count(self) -> int:
        """Images that are a near-duplicate of a kept one."""
        return sum(len(g.duplicates) for g in self.groups)


def list_images(folder: Path, recursive: bool = True, exclude: Path | None = None) -> list[Path]:
    """Image files under ``folder`` (:func:`vigie.media.list_media`), sorted, skipping
    ``exclude`` and hidden names; ``[]`` when there is none."""
    return list_media(folder, "image", recursive=recursive, exclude=exclude, allow_empty=True)


def _hash_or_error(path: Path, method: str, hash_size: int, fast: bool) -> int | str:
    try:
        return image_hash(path, method, hash_size, fast)
    except UnidentifiedImageError:
        return "UnidentifiedImageError: not an image Pillow can read (empty, truncated or other)"
    except (OSError, Image.DecompressionBombError, ValueError) as exc:
        return f"{exc.__class__.__name__}: {exc}"


def hash_files(
    paths: list[Path],
    method: str = "ahash",
    hash_size: int = 8,
    fast: bool = True,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[int | str]:
    """Hash each file (an int), or give the reason it cannot be read (a str), in input order.

    Pillow releases the GIL while decoding, so a few threads use every core.
    """
    n = workers or min(8, os.cpu_count() or 1)
    results: list[int | str] = []
    with ThreadPoolExecutor(max_workers=n) as pool:
        for res in pool.map(lambda p: _hash_or_error(p, method, hash_size, fast), paths):
            results.append(res)
            if on_progress is not None:
                on_progress(1)
    return results


def _free_target(target: Path) -> Path:
    """``target`` or ``stem_1.ext``, ``stem_2.ext``... whichever does not exist yet."""
    n = 0
    candidate = target
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.stem}_{n}{target.suffix}")
    return candidate


def _move_aside(path: Path, folder: Path, move_to: Path) -> Path:
    target = _free_target(move_to / path.relative_to(folder))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(path, target)  # a rename on one filesystem; never deletes the only copy
    return target


def find_duplicates(
    folder: Path | str,
    threshold: int | None = None,
    method: str | None = None,
    move_to: Path | str | None = None,
    recursive: bool | None = None,
    hash_size: int | None = None,
    fast: bool = True,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    consecutive: bool = False,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
) -> DedupReport:
    """Group near-duplicate images across a whole folder; optionally move duplicates aside.

    In each group the oldest file (modification time, then path) is kept; the others are
    duplicates. Nothing is ever deleted: with ``move_to`` the duplicates are moved there, keeping
    their relative paths (a name already taken gets a ``_1`` suffix).

    Args:
        folder: the folder to scan (image suffixes .jpg .jpeg .png .gif .webp).
        threshold: largest hamming distance still "the same picture" (0 = same hash).
        method: ``ahash``, ``phash`` or ``dhash``.
        move_to: where to move duplicates (may be inside ``folder``; it is not scanned).
        recursive: scan sub-folders too.
        hash_size, fast, workers: see :func:`vigie.dedup.image_hash`; threads used to hash.
        on_progress: called with 1 after each file is hashed.
        consecutive: compare each image only with the last kept one of its folder, in name
            order (the capture rule, for folders of ``YYYYmmddHHMMSS.jpg`` frames); decisions
            are those of a full-decode imagehash (:func:`vigie.dedup.keep_decisions`).
        settings: the settings (default :func:`vigie.config.load_settings`); ``threshold``,
            ``method``, ``recursive`` and ``hash_size`` left at ``None`` come from
            ``settings.dedup``.
        catalog: the catalog that records the run (``dedup``); default: the one of
            ``settings``.

    Raises:
        ConfigError: ``folder`` is not a directory, or a bad threshold/method.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"not a folder: {root}", hint="give the folder of images to scan")
    if threshold is not None and threshold < 0:
        raise ConfigError("--threshold must be >= 0")
    if method not in (None, "ahash", "phash", "dhash"):
        raise ConfigError(f"unknown hash method {method!r}", hint="use ahash, phash or dhash")
    cfg = settings or load_settings()
    opts = stage_options(
        cfg.dedup, threshold=threshold, hash=method, recursive=recursive, hash_size=hash_size
    )
    dest = output_dir(move_to, "--move-to") if move_to is not None else None
    run_options = {
        "folder": str(root),
        "move_to": str(dest) if dest else None,
        "consecutive": consecutive,
    }
    with stage_run("dedup", cfg, catalog, run_options) as (_, run):
        report = _find(root, opts, dest, fast, workers, on_progress, consecutive)
        run.counts.done = report.scanned - len(report.failures)
        run.counts.duplicates = report.duplicate_count
        run.counts.failed = len(report.failures)
        run.counts.extra = {"groups": len(report.groups), "moved": len(report.moved)}
    return report


def _find(
    root: Path,
    opts: DedupSettings,
    dest: Path | None,
    fast: bool,
    workers: int | None,
    on_progress: Callable[[int], None] | None,
    consecutive: bool,
) -> DedupReport:
    method, threshold, hash_size = opts.hash, opts.threshold, opts.hash_size
    recursive = opts.recursive
    paths = list_images(root, recursive, exclude=dest)
    report = DedupReport(folder=root, method=method, threshold=threshold, scanned=len(paths))
    if consecutive:
        _consecutive_groups(report, paths, threshold, method, hash_size, workers, on_progress)
    else:
        _index_groups(
            report, paths, hash_files(paths, method, hash_size, fast, workers, on_progress)
        )
    report.groups.sort(key=lambda g: str(g.keep))
    if dest is not None:
        for group in report.groups:
            for dup in group.duplicates:
                report.moved.append((dup, _move_aside(dup, root, dest)))
        log.info("moved %d duplicates to %s", len(report.moved), dest)
    return report


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")


def _index_groups(report: DedupReport, paths: list[Path], hashed: list[int | str]) -> None:
    good: list[Path] = []
    values: list[int] = []
    for path, res in zip(paths, hashed, strict=True):
        if isinstance(res, str):
            log.warning("cannot read %s: %s", path, res)
            report.failures.append((path, res))
        else:
            good.append(path)
            values.append(res)
    nbits = max([64, *(v.bit_length() for v in values)])
    for idx in group_near_duplicates(values, report.threshold, nbits=nbits):
        if len(idx) < 2:
            continue
        members = sorted(idx, key=lambda i: (_mtime(good[i]), str(good[i])))
        keep, rest = members[0], members[1:]
        report.groups.append(
            DuplicateGroup(
                keep=good[keep],
                duplicates=[good[i] for i in rest],
                max_distance=max(hamming(values[keep], values[i]) for i in rest),
            )
        )


def _consecutive_groups(
    report: DedupReport,
    paths: list[Path],
    threshold: int,
    method: str,
    hash_size: int,
    workers: int | None,
    on_progress: Callable[[int], None] | None,
) -> None:
    by_folder: dict[Path, list[Path]] = {}
    for p in paths:
        by_folder.setdefault(p.parent, []).append(p)
    for frames in by_folder.values():
        frames.sort(key=lambda p: p.name)
        dec = keep_decisions(frames, threshold, method, hash_size, workers, on_progress=on_progress)
        for i, err in sorted(dec.errors.items()):
            log.warning("cannot read %s: %s", frames[i], err)
            report.failures.append((frames[i], err))
        runs: list[tuple[int, list[int]]] = []  # (kept frame, the frames dropped after it)
        for i, keep in enumerate(dec.keep):
            if keep:
                runs.append((i, []))
            elif keep is False and runs:
                runs[-1][1].append(i)
        for keep_i, dups in runs:
            if dups:
                ref = dec.hashes[keep_i] or 0
                report.groups.append(
                    DuplicateGroup(
                        keep=frames[keep_i],
                        duplicates=[frames[i] for i in dups],
                        max_distance=max(hamming(ref, dec.hashes[i] or 0) for i in dups),
                    )
                )
