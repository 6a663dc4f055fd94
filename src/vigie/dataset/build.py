"""``build_dataset``: pulled images + YOLO labels -> train/val folders and data.yaml."""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vigie.catalog import stage_run
from vigie.config import DatasetSettings, Settings, load_settings, stage_options
from vigie.dataset.formats import place_image
from vigie.dataset.split import group_items, read_frame_manifests, split_groups, video_of_name
from vigie.dataset.yolo import SPLITS, data_yaml_text, list_images, read_names, write_text_atomic
from vigie.errors import ConfigError, DatasetError, output_dir

if TYPE_CHECKING:
    from vigie.catalog import Catalog

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    out: Path
    data_yaml: Path
    names: list[str]
    train: int = 0
    val: int = 0
    groups: int = 0
    grouped_images: int = 0  # images sharing a group with at least one other
    unlabelled: list[str] = field(default_factory=list)  # images without a label file: left out
    orphan_labels: list[str] = field(default_factory=list)  # label files without an image
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (image, why): left out


def build_dataset(
    source: Path,
    out: Path,
    *,
    names: list[str] | None = None,
    val_fraction: float | None = None,
    seed: int | None = None,
    dedup_threshold: int | None = None,
    hash_method: str | None = None,
    frame_manifests: list[Path] | None = None,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    link: bool = True,
) -> BuildResult:
    """Build a YOLO dataset from ``source/images`` + ``source/labels`` (what ``pull`` writes).

    Near-duplicates (perceptual hash within ``dedup_threshold``; negative disables) and frames of
    one video (frame manifests, the catalog's parent video, or the ``<video>_..._f000123`` file
    names of ``vigie frames``) always land on the same side. The split is deterministic by
    ``seed``. Class names come from ``names``, else ``source/classes.txt``.

    ``val_fraction``, ``seed``, ``dedup_threshold`` and ``hash_method`` left at ``None`` come
    from ``settings.dataset`` (``settings`` default :func:`vigie.config.load_settings`). The run
    (``dataset build``) is recorded in ``catalog`` (default: the one of ``settings``), which also
    tells which video a frame came from.

    Raises:
        DatasetError: no images/labels, or no class names. ConfigError: bad fraction.
    """
    if val_fraction is not None and not 0.0 <= val_fraction < 1.0:
        raise ConfigError("val fraction must be in [0, 1)", hint="e.g. --val 0.2")
    cfg = settings or load_settings()
    opts = stage_options(
        cfg.dataset,
        val_fraction=val_fraction,
        seed=seed,
        dedup_threshold=dedup_threshold,
        hash_method=hash_method,
    )
    run_options = {"source": str(source), "out": str(out), "names": names, "link": link}
    with stage_run("dataset build", cfg, catalog, run_options) as (cat, run):
        result = _build(source, Path(out), names, opts, frame_manifests or [], cat, link)
        run.counts.done = result.train + result.val
        run.counts.skipped = len(result.unlabelled)
        run.counts.failed = len(result.unreadable)
    return result


def _build(
    source: Path,
    out: Path,
    names: list[str] | None,
    opts: DatasetSettings,
    frame_manifests: list[Path],
    catalog: Catalog,
    link: bool,
) -> BuildResult:
    val_fraction, seed = opts.val_fraction, opts.seed
    dedup_threshold, hash_method = opts.dedup_threshold, opts.hash_method
    images_dir, labels_dir = source / "images", source / "labels"
    if not labels_dir.is_dir():
        raise DatasetError(
            f"{labels_dir} does not exist", hint="point at a folder written by `vigie ls pull`"
        )
    names = names or _names_of(source)
    output_dir(out)
    images = list_images(images_dir)
    label_stems = {p.stem for p in labels_dir.glob("*.txt")}
    result = BuildResult(out, out / "data.yaml", names)
    result.unlabelled = [p.name for p in images if p.stem not in label_stems]
    image_stems = {p.stem for p in images}
    result.orphan_labels = sorted(f"{s}.txt" for s in label_stems - image_stems)
    usable = [p for p in images if p.stem in label_stems]
    if not usable:
        raise DatasetError(f"no labelled image in {source}", hint="run `vigie ls pull` first")
    usable, decoded = _readable(usable, hash_method, result)
    if not usable:
        raise DatasetError(
            f"no readable labelled image in {source} ({len(result.unreadable)} unreadable)",
            hint="pull the images again (`vigie ls pull`)",
        )
    hashes = decoded if dedup_threshold >= 0 else None
    videos = _videos(usable, frame_manifests, catalog)
    file_names = [p.name for p in usable]
    groups = group_items(file_names, hashes, dedup_threshold, videos)
    side = split_groups(groups, file_names, val_fraction, seed)
    result.groups = len(groups)
    result.grouped_images = sum(len(g) for g in groups if len(g) > 1)
    _reset(out)
    for i, img in enumerate(usable):
        split = side[i]
        place_image(img, out / "images" / split / img.name, link)
        shutil.copyfile(labels_dir / f"{img.stem}.txt", out / "labels" / split / f"{img.stem}.txt")
        if split == "train":
            result.train += 1
        else:
            result.val += 1
    write_text_atomic(
        out / "split.csv",
        "file,split,group\n"
        + "".join(f"{usable[i].name},{side[i]},{g}\n" for g, grp in enumerate(groups) for i in grp),
    )
    write_text_atomic(result.data_yaml, data_yaml_text(out, names))
    if val_fraction > 0 and result.val == 0:
        log.warning(
            "the validation split is empty: all %d images form one group of near-duplicates or "
            "one video; lower --dedup-threshold or try another --hash",
            len(usable),
        )
    if result.unlabelled:
        log.warning("%d images without a label file were left out", len(result.unlabelled))
    return result


def _readable(
    images: list[Path], hash_method: str, result: BuildResult
) -> tuple[list[Path], list[int]]:
    """The images that decode and their hashes; the others go to ``result.unreadable``."""
    from vigie.dedup import hash_files

    kept: list[Path] = []
    hashes: list[int] = []
    for path, h in zip(images, hash_files(images, method=hash_method), strict=True):
        if isinstance(h, int):
            kept.append(path)
            hashes.append(h)
        else:
            result.unreadable.append((path.name, h))
            log.warning("%s: left out, not a readable image: %s", path.name, h)
    return kept, hashes


def _names_of(source: Path) -> list[str]:
    for candidate in (source / "classes.txt", source / "data.yaml"):
        if candidate.is_file():
            names = read_names(candidate)
            if names:
                return names
    raise DatasetError(
        f"no class names for {source}",
        hint="pass --names Car,Bus,... or keep the classes.txt written by `vigie ls pull`",
    )


def _videos(images: list[Path], manifests: list[Path], catalog: Catalog | None) -> list[str | None]:
    """The video each image comes from (or None): manifests, then catalog, then file name."""
    by_manifest = read_frame_manifests(manifests)
    by_catalog = _catalog_parents(images, catalog) if catalog is not None else {}
    out: list[str | None] = []
    for p in images:
        video = by_manifest.get(p.name) or by_catalog.get(p.name)
        if video is None:
            from_name = video_of_name(p.stem)
            video = f"name:{from_name}" if from_name else None
        out.append(video)
    return out


def _catalog_parents(images: list[Path], catalog: Catalog) -> dict[str, str]:
    """Images whose bytes match a catalog frame: ``{name: "catalog:<parent id>"}``."""
    from sqlalchemy import select

    from vigie.catalog import media_items

    digests = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in images}
    out: dict[str, str] = {}
    keys = list(digests)
    with catalog.engine.connect() as conn:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = conn.execute(
                select(media_items.c.sha256, media_items.c.parent_id).where(
                    media_items.c.sha256.in_(chunk), media_items.c.parent_id.is_not(None)
                )
            )
            for sha, parent in rows:
                out[digests[sha]] = f"catalog:{parent}"
    return out


def _reset(out: Path) -> None:
    """Empty the split folders this function owns (a rebuild never mixes two splits)."""
    for kind in ("images", "labels"):
        for split in SPLITS:
            folder = out / kind / split
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
