"""The in-memory labelled dataset every format reads into and writes from.

A :class:`LabelledDataset` is class names by id plus images with pixel boxes (``x1 y1 x2 y2``,
origin top-left) and an optional split. Readers of YOLO, COCO and Pascal VOC fill one; writers
turn one into files. Class ids are kept exactly as the source numbers them; problems of single
items (a box out of the image, an unknown category, a missing image) are collected as
per-item warnings in :attr:`LabelledDataset.problems`, never raised.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from vigie.errors import DatasetError
from vigie.files import write_atomic

log = logging.getLogger(__name__)

FORMATS = ("coco", "voc", "yolo")
_EXIF_ORIENTATION = 0x0112
_TRANSPOSED = {5, 6, 7, 8}  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class Box:
    """One labelled box in pixels of the image as displayed (EXIF orientation applied)."""

    class_id: int
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass
class LabelledImage:
    """An image of a dataset: its name inside the split folder, size, boxes and split."""

    file: str  # relative to the split's image folder, "/"-separated (usually just a name)
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)
    split: str | None = None  # "train", "val", ...; None for a dataset without splits
    path: Path | None = None  # where the image bytes are, when known


@dataclass
class LabelledDataset:
    names: dict[int, str]
    images: list[LabelledImage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # per-item warnings, in reading order

    def warn(self, message: str) -> None:
        self.problems.append(message)
        log.debug("%s", message)

    @property
    def splits(self) -> list[str | None]:
        """The splits in a stable order: train first, then val, then the others by name."""
        found = {img.split for img in self.images}
        return sorted(found, key=_split_order)

    def in_split(self, split: str | None) -> list[LabelledImage]:
        return [img for img in self.images if img.split == split]

    @property
    def boxes(self) -> int:
        return sum(len(img.boxes) for img in self.images)


@dataclass
class ConvertResult:
    """What an export or import wrote."""

    out: Path
    format: str
    names: dict[int, str]
    images: int = 0
    boxes: int = 0
    splits: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # the annotation files written


def _split_order(split: str | None) -> tuple[int, str]:
    if split is None:
        return (0, "")
    rank = 1 if split.startswith("train") else 2 if split.startswith("val") else 3
    return (rank, split)


def clip_box(box: Box, width: int, height: int, where: str, ds: LabelledDataset) -> Box | None:
    """``box`` inside the image; a warning when it had to be clipped, None when nothing is left."""
    tol = 0.5  # half a pixel: rounding of whole-pixel formats
    x1, y1 = max(0.0, min(box.x1, box.x2)), max(0.0, min(box.y1, box.y2))
    x2, y2 = min(float(width), max(box.x1, box.x2)), min(float(height), max(box.y1, box.y2))
    if x2 - x1 <= 0 or y2 - y1 <= 0:
        ds.warn(f"{where}: box {_fmt(box)} is outside the {width}x{height} image or has no area")
        return None
    outside = (box.x1 < -tol or box.y1 < -tol or box.x2 > width + tol or box.y2 > height + tol) or (
        box.x1 > box.x2 or box.y1 > box.y2
    )
    if outside:
        ds.warn(f"{where}: box {_fmt(box)} leaves the {width}x{height} image: clipped")
    return Box(box.class_id, x1, y1, x2, y2)


def _fmt(box: Box) -> str:
    return f"[{box.x1:g}, {box.y1:g}, {box.x2:g}, {box.y2:g}]"


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image as displayed, from its header (EXIF rotation applied).

    Raises:
        OSError / ValueError: not a readable image (the callers turn it into a warning).
    """
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        if im.getexif().get(_EXIF_ORIENTATION, 1) in _TRANSPOSED:
            w, h = h, w
    return int(w), int(h)


def place_image(src: Path, dst: Path, link: bool = True) -> None:
    """Put ``src`` at ``dst``: a hard link when possible (and ``link``), else an atomic copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    if link:
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    write_atomic(dst, src.read_bytes())


def reset_folders(out: Path, names: tuple[str, ...], source: Path | None = None) -> None:
    """Empty the folders a writer owns under ``out`` (a rewrite never mixes two exports).

    Raises:
        DatasetError: ``out`` is the source or holds it (that would delete the input).
    """
    if source is not None:
        src, dst = source.resolve(), out.resolve()
        if src == dst or dst in src.parents:
            raise DatasetError(
                f"the output folder {out} holds the input {source}",
                hint="give another --out folder",
            )
    for name in names:
        folder = out / name
        if folder.is_dir():
            shutil.rmtree(folder)


def yolo_names(names: dict[int, str], ds: LabelledDataset | None = None) -> list[str]:
    """Names for ids 0..max, as YOLO needs them; ids missing in between get a placeholder."""
    if not names:
        return []
    top = max(names)
    if min(names) < 0:
        raise DatasetError("class ids must not be negative", hint="pass --renumber")
    missing = [i for i in range(top + 1) if i not in names]
    if missing and ds is not None:
        ds.warn(
            f"class ids {', '.join(map(str, missing[:10]))} are not used: YOLO numbers classes "
            "0..n-1, so they are kept as placeholder classes (--renumber numbers them 0..n-1)"
        )
    return [names.get(i, f"_unused{i}") for i in range(top + 1)]


def renumber(ds: LabelledDataset) -> LabelledDataset:
    """The same dataset with class ids 0..n-1 in the order of the old ids."""
    mapping = {old: new for new, old in enumerate(sorted(ds.names))}
    images = [
        LabelledImage(
            img.file,
            img.width,
            img.height,
            [Box(mapping[b.class_id], b.x1, b.y1, b.x2, b.y2) for b in img.boxes],
            img.split,
            img.path,
        )
        for img in ds.images
    ]
    names = {mapping[k]: v for k, v in ds.names.items()}
    return LabelledDataset(names, images, list(ds.problems))


def unique_files(
    ds: LabelledDataset, *, by_stem: bool, across_splits: bool = False
) -> list[LabelledImage]:
    """The images whose target name is free; the others are left out with a warning.

    ``by_stem``: one label file per stem (YOLO, VOC); ``across_splits``: one folder for all
    splits (VOC's JPEGImages).
    """
    seen: set[str] = set()
    kept: list[LabelledImage] = []
    for img in ds.images:
        name = Path(flat_name(img.file)).stem if by_stem else img.file
        key = name if across_splits else f"{img.split}/{name}"
        if key in seen:
            ds.warn(f"{img.file}: another image of the dataset has this name: left out")
            continue
        seen.add(key)
        kept.append(img)
    return kept


def flat_name(file: str) -> str:
    """A file name without folders (``a/b.jpg`` -> ``a_b.jpg``)."""
    return file.replace("/", "_")


def clip_all(ds: LabelledDataset) -> None:
    """Clip every box to its image (warnings on ``ds``); boxes left without area are dropped."""
    for img in ds.images:
        kept = [clip_box(b, img.width, img.height, img.file, ds) for b in img.boxes]
        img.boxes = [b for b in kept if b is not None]
