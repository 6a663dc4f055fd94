"""``export_dataset`` / ``import_dataset``: YOLO <-> COCO, Pascal VOC (and YOLO itself).

Vigie trains on YOLO datasets; export turns one into the format another tool reads, import
turns a COCO or VOC dataset (from CVAT, Roboflow, FiftyOne...) into a YOLO dataset that
``vigie dataset check`` and ``vigie train`` take. Class ids are kept exactly both ways.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from vigie.dataset.coco import read_coco, write_coco
from vigie.dataset.formats import FORMATS, ConvertResult, LabelledDataset, renumber
from vigie.dataset.voc import read_voc, write_voc
from vigie.dataset.yolo_io import read_yolo, write_yolo
from vigie.errors import ConfigError, DatasetError, output_dir

log = logging.getLogger(__name__)

Writer = Callable[..., ConvertResult]
_WRITERS: dict[str, Writer] = {"coco": write_coco, "voc": write_voc, "yolo": write_yolo}


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    return fmt


def _written(ds: LabelledDataset, source: Path) -> None:
    if not ds.images:
        first = f" (first problem: {ds.problems[0]})" if ds.problems else ""
        raise DatasetError(f"no usable image in {source}{first}", hint="fix the input and rerun")
    if ds.problems:
        log.warning("%s: %d problems (items left out or clipped)", source, len(ds.problems))


def export_dataset(
    source: Path | str,
    out: Path | str,
    *,
    format: str,
    names: list[str] | None = None,
    link: bool = True,
) -> ConvertResult:
    """Write the YOLO dataset ``source`` (built or flat) as ``format`` under ``out``.

    Args:
        source: a YOLO dataset folder (``vigie dataset build`` or ``vigie ls pull``).
        out: the folder to write (its format's folders are replaced).
        format: "coco", "voc" or "yolo".
        names: class names in id order (default: data.yaml / classes.txt).
        link: hard-link the images when possible (else copy).

    Raises:
        ConfigError: unknown format. DatasetError: unreadable source, nothing to write, or an
        ``out`` that holds the source.
    """
    writer = _WRITERS[_check_format(format)]
    src = Path(source)
    ds = read_yolo(src, names)
    _written(ds, src)
    return writer(ds, output_dir(out), link=link, source=src)


def import_dataset(
    path: Path | str,
    out: Path | str,
    *,
    format: str,
    names: list[str] | None = None,
    images: Path | str | None = None,
    renumber_ids: bool = False,
    link: bool = True,
) -> ConvertResult:
    """Read a ``format`` dataset at ``path`` and write it as a YOLO dataset under ``out``.

    Args:
        path: a COCO JSON file or folder, a VOC folder, or a YOLO folder.
        out: the YOLO dataset folder to write.
        format: "coco", "voc" or "yolo".
        names: VOC / YOLO class names in id order (default: the dataset's classes.txt, else
            the names found, sorted); ignored for COCO (its categories are the names).
        images: COCO only: the folder holding the images (default: looked for around the JSON).
        renumber_ids: number classes 0..n-1 in the order of the source ids (COCO categories
            1..n, or with gaps, otherwise keep their ids and get placeholder classes).
        link: hard-link the images when possible (else copy).

    Raises:
        ConfigError: unknown format. DatasetError: unreadable input or nothing to write.
    """
    fmt = _check_format(format)
    src = Path(path)
    if fmt == "coco":
        ds = read_coco(src, Path(images) if images is not None else None)
    elif fmt == "voc":
        ds = read_voc(src, names)
    else:
        ds = read_yolo(src, names)
    if renumber_ids:
        ds = renumber(ds)
    _written(ds, src)
    return write_yolo(ds, output_dir(out), link=link, source=src if src.is_dir() else src.parent)
