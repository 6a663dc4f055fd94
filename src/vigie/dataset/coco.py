"""COCO detection datasets: parse the JSON text, write it, and the folder layouts around it.

Written layout (COCO 2017's): ``annotations/instances_<split>.json`` + ``images/<split>/``
(``instances.json`` + ``images/`` without splits). Category ids are the class ids, kept exactly
(a YOLO class 0 is COCO category 0); image ids are 1..N per split in file order; ``bbox`` is
``[x, y, w, h]`` in pixels. pycocotools' ``COCO()`` loads the files as written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigie.dataset.formats import (
    Box,
    ConvertResult,
    LabelledDataset,
    LabelledImage,
    clip_all,
    image_size,
    place_image,
    reset_folders,
    unique_files,
)
from vigie.errors import DatasetError
from vigie.files import write_atomic

_HINT = "give a COCO instances file: a JSON object with images, annotations and categories"


@dataclass(frozen=True)
class CocoIndex:
    """Image ids by file name and category names by id of a COCO dataset file."""

    images: dict[str, int]
    categories: dict[int, str]


def load_coco_json(text: str, name: str) -> dict[str, Any]:
    """The top-level object of a COCO dataset file, checked for its three lists.

    Raises:
        DatasetError: not JSON, or not a COCO dataset (e.g. a results list).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"{name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            hint=_HINT,
        ) from None
    if isinstance(data, list):
        raise DatasetError(
            f"{name} is a list (a detections results file?), not a COCO dataset", hint=_HINT
        )
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise DatasetError(f"{name} is not a COCO dataset: no 'images' list", hint=_HINT)
    if not isinstance(data.get("categories"), list):
        raise DatasetError(f"{name} is not a COCO dataset: no 'categories' list", hint=_HINT)
    if not isinstance(data.get("annotations", []), list):
        raise DatasetError(f"{name}: 'annotations' is not a list", hint=_HINT)
    return data


def _categories(data: dict[str, Any], name: str, ds: LabelledDataset | None) -> dict[int, str]:
    out: dict[int, str] = {}
    for cat in data["categories"]:
        cid = cat.get("id") if isinstance(cat, dict) else None
        cname = cat.get("name") if isinstance(cat, dict) else None
        if not isinstance(cid, int) or isinstance(cid, bool) or not isinstance(cname, str):
            if ds is not None:
                ds.warn(f"{name}: category {cat!r} has no integer id and name: skipped")
            continue
        if cid in out and out[cid] != cname:
            raise DatasetError(
                f"{name}: category id {cid} is both {out[cid]!r} and {cname!r}", hint=_HINT
            )
        out[cid] = cname
    return out


def coco_index(text: str, name: str = "the COCO file") -> CocoIndex:
    """File names -> image ids and category ids -> names of a COCO dataset's text.

    Raises:
        DatasetError: see :func:`load_coco_json`.
    """
    data = load_coco_json(text, name)
    images = {
        str(im["file_name"]): im["id"]
        for im in data["images"]
        if isinstance(im, dict) and "file_name" in im and isinstance(im.get("id"), int)
    }
    return CocoIndex(images, _categories(data, name, None))


def parse_coco(text: str, name: str = "the COCO file") -> LabelledDataset:
    """A COCO dataset's text as a :class:`LabelledDataset` (no image paths, no split).

    Images missing a size get width/height 0 (the folder reader measures them). Boxes are not
    clipped here. Crowd annotations are left out (YOLO has no crowd boxes).

    Raises:
        DatasetError: not JSON, not a COCO dataset, or one category id with two names.
    """
    data = load_coco_json(text, name)
    ds = LabelledDataset(_categories(data, name, None))
    by_id: dict[int, LabelledImage] = {}
    for im in data["images"]:
        image = _image(im, name, ds)
        if image is None:
            continue
        if im["id"] in by_id:
            ds.warn(f"{name}: image id {im['id']} appears twice: the second is left out")
            continue
        by_id[im["id"]] = image
        ds.images.append(image)
    crowd = 0
    for ann in data.get("annotations", []):
        if isinstance(ann, dict) and ann.get("iscrowd"):
            crowd += 1
            continue
        _annotation(ann, name, by_id, ds)
    if crowd:
        ds.warn(f"{name}: {crowd} crowd annotations (iscrowd=1) left out")
    return ds


def _image(im: Any, name: str, ds: LabelledDataset) -> LabelledImage | None:
    if not isinstance(im, dict) or not isinstance(im.get("id"), int) or not im.get("file_name"):
        ds.warn(f"{name}: image entry {str(im)[:80]} has no integer id and file_name: left out")
        return None
    width, height = im.get("width"), im.get("height")
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        width = height = 0
    return LabelledImage(str(im["file_name"]).replace("\\", "/"), width, height)


def _annotation(ann: Any, name: str, images: dict[int, LabelledImage], ds: LabelledDataset) -> None:
    if not isinstance(ann, dict):
        ds.warn(f"{name}: annotation {str(ann)[:80]} is not an object: skipped")
        return
    aid = ann.get("id", "?")
    image = images.get(ann.get("image_id", -1))
    if image is None:
        ds.warn(f"{name}: annotation {aid} refers to unknown image {ann.get('image_id')!r}")
        return
    cid = ann.get("category_id")
    if cid not in ds.names:
        ds.warn(f"{image.file}: annotation {aid} has unknown category {cid!r}: skipped")
        return
    bbox = ann.get("bbox")
    if not (
        isinstance(bbox, list)
        and len(bbox) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)
    ):
        ds.warn(f"{image.file}: annotation {aid} has no [x, y, w, h] bbox: skipped")
        return
    x, y, w, h = (float(v) for v in bbox)
    assert isinstance(cid, int)
    image.boxes.append(Box(cid, x, y, x + w, y + h))


def coco_text(images: list[LabelledImage], names: dict[int, str], description: str) -> str:
    """A COCO dataset file of ``images`` (ids 1..N in this order) and the categories."""
    out_images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, img in enumerate(images, 1):
        out_images.append(
            {"id": image_id, "file_name": img.file, "width": img.width, "height": img.height}
        )
        for b in img.boxes:
            w, h = b.x2 - b.x1, b.y2 - b.y1
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": b.class_id,
                    "bbox": [round(b.x1, 6), round(b.y1, 6), round(w, 6), round(h, 6)],
                    "area": round(w * h, 6),
                    "iscrowd": 0,
                }
            )
    data = {
        "info": {"description": description, "version": "1.0"},
        "licenses": [],
        "images": out_images,
        "annotations": annotations,
        "categories": [{"id": k, "name": v, "supercategory": ""} for k, v in sorted(names.items())],
    }
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def coco_files(path: Path) -> list[tuple[str | None, Path]]:
    """(split, JSON file) of a COCO dataset: one file, or the files of a folder.

    A folder holds ``annotations/instances_<split>.json`` (COCO, what export writes),
    ``<split>/_annotations.coco.json`` (Roboflow), or ``*.json`` (one per split).

    Raises:
        DatasetError: no JSON file.
    """
    if path.is_file():
        return [(_split_of(path.stem, 1), path)]
    if not path.is_dir():
        raise DatasetError(f"{path} does not exist", hint=_HINT)
    found = sorted((path / "annotations").glob("*.json")) or sorted(path.glob("*.json"))
    if found:
        return [(_split_of(p.stem, len(found)), p) for p in found]
    roboflow = sorted(path.glob("*/_annotations.coco.json"))
    if roboflow:
        return [(p.parent.name, p) for p in roboflow]
    raise DatasetError(f"no COCO JSON file in {path}", hint=_HINT)


def _split_of(stem: str, count: int) -> str | None:
    if stem.startswith("instances_"):
        return stem.removeprefix("instances_")
    return None if count == 1 else stem


def read_coco(path: Path, images: Path | None = None) -> LabelledDataset:
    """Read a COCO dataset (file or folder) and find its images.

    Images are looked for in ``images`` when given, else beside the JSON file, in
    ``<root>/images/<split>``, ``<root>/<split>``, ``<root>/images`` and ``<root>``. A missing
    image is a warning and is left out.

    Raises:
        DatasetError: see :func:`parse_coco` and :func:`coco_files`.
    """
    root = path if path.is_dir() else path.parent
    if root.name == "annotations":  # <root>/annotations/instances_val.json
        root = root.parent
    out: LabelledDataset | None = None
    for split, file in coco_files(path):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError(f"cannot read {file}: {exc}", hint=_HINT) from None
        part = parse_coco(text, file.name)
        if out is None:
            out = LabelledDataset(dict(part.names))
        _merge_names(out, part, file.name)
        out.problems.extend(part.problems)
        folders = _image_folders(file, root, split, images)
        for img in part.images:
            img.split = split
            if _locate(img, folders, out):
                out.images.append(img)
    assert out is not None
    clip_all(out)
    return out


def _merge_names(out: LabelledDataset, part: LabelledDataset, name: str) -> None:
    for k, v in part.names.items():
        if out.names.setdefault(k, v) != v:
            raise DatasetError(
                f"{name}: category id {k} is {v!r} here and {out.names[k]!r} in another split",
                hint="give the splits the same categories",
            )


def _image_folders(file: Path, root: Path, split: str | None, images: Path | None) -> list[Path]:
    if images is not None:
        return [images]
    folders = [file.parent]
    if split is not None:
        folders += [root / "images" / split, root / split]
    return [*folders, root / "images", root]


def _locate(img: LabelledImage, folders: list[Path], ds: LabelledDataset) -> bool:
    candidate = Path(img.file)
    paths = [candidate] if candidate.is_absolute() else [f / img.file for f in folders]
    found = next((p for p in paths if p.is_file()), None)
    if found is None:
        ds.warn(f"{img.file}: image file not found (looked in {folders[0]}, ...): left out")
        return False
    if candidate.is_absolute():
        img.file = candidate.name
    img.path = found
    if img.width <= 0 or img.height <= 0:
        try:
            img.width, img.height = image_size(found)
        except (OSError, ValueError) as exc:
            ds.warn(f"{img.file}: no size in the JSON and not a readable image ({exc})")
            return False
    return True


def write_coco(
    ds: LabelledDataset, out: Path, *, link: bool = True, source: Path | None = None
) -> ConvertResult:
    """Write ``ds`` as a COCO dataset under ``out``: one instances file per split.

    Raises:
        DatasetError: ``out`` holds the source.
    """
    reset_folders(out, ("annotations", "images"), source)
    result = ConvertResult(out, "coco", ds.names)
    kept = unique_files(ds, by_stem=False)
    for split in ds.splits:
        images = [img for img in kept if img.split == split]
        folder = out / "images" / split if split else out / "images"
        for img in images:
            if img.path is not None:
                place_image(img.path, folder / img.file, link)
        name = f"instances_{split}.json" if split else "instances.json"
        target = out / "annotations" / name
        write_atomic(target, coco_text(images, ds.names, f"vigie export ({split or 'all'})"))
        result.files.append(target)
        result.images += len(images)
        result.boxes += sum(len(img.boxes) for img in images)
        result.splits[split or "all"] = len(images)
    result.problems = ds.problems
    return result
