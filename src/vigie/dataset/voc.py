"""Pascal VOC detection datasets: one XML file per image, in the VOC folder layout.

Layout: ``Annotations/<stem>.xml``, ``JPEGImages/<file>``, ``ImageSets/Main/{train,val}.txt``
(stems of each split; ``trainval.txt`` for all) and ``classes.txt`` (names in class-id order,
so ids survive a round trip: VOC itself only has names). Boxes are whole pixels
(``xmin``/``ymin`` the left/top edge, ``xmax``/``ymax`` the right/bottom edge), as labelImg,
CVAT and FiftyOne read them. Readers also take a folder of XML files beside their images.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from vigie.dataset.formats import (
    Box,
    ConvertResult,
    LabelledDataset,
    LabelledImage,
    clip_all,
    flat_name,
    image_size,
    place_image,
    reset_folders,
    unique_files,
    yolo_names,
)
from vigie.dataset.yolo import read_names
from vigie.errors import DatasetError
from vigie.files import write_atomic
from vigie.media import IMAGE_SUFFIXES

_MAIN = Path("ImageSets") / "Main"


@dataclass
class VocObject:
    name: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float


@dataclass
class VocAnnotation:
    filename: str
    width: int
    height: int
    objects: list[VocObject] = field(default_factory=list)


def parse_voc(text: str, name: str = "the VOC file") -> VocAnnotation:
    """One VOC annotation's XML text.

    Raises:
        DatasetError: not XML, not an ``<annotation>``, or an object without a usable box.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise DatasetError(f"{name} is not valid XML: {exc}") from None
    if root.tag != "annotation":
        raise DatasetError(f"{name} is not a VOC annotation (root <{root.tag}>)")
    size = root.find("size")
    width = _int(size.findtext("width") if size is not None else None)
    height = _int(size.findtext("height") if size is not None else None)
    ann = VocAnnotation((root.findtext("filename") or "").strip(), width, height)
    for n, obj in enumerate(root.iter("object"), 1):
        label = (obj.findtext("name") or "").strip()
        box = obj.find("bndbox")
        try:
            if box is None:
                raise ValueError
            coords = [float(box.findtext(k) or "") for k in ("xmin", "ymin", "xmax", "ymax")]
        except ValueError:
            raise DatasetError(f"{name}: object {n} ({label or 'no name'}) has no bndbox") from None
        if not label:
            raise DatasetError(f"{name}: object {n} has no name")
        ann.objects.append(VocObject(label, *coords))
    return ann


def _int(text: str | None) -> int:
    try:
        return max(0, round(float(text or "0")))
    except ValueError:
        return 0


def voc_xml(img: LabelledImage, names: dict[int, str]) -> str:
    """The VOC XML of one image (whole-pixel boxes)."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "JPEGImages"
    ET.SubElement(root, "filename").text = flat_name(img.file)
    size = ET.SubElement(root, "size")
    for key, value in (("width", img.width), ("height", img.height), ("depth", 3)):
        ET.SubElement(size, key).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for b in img.boxes:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = names.get(b.class_id, str(b.class_id))
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = "0"
        ET.SubElement(obj, "difficult").text = "0"
        bndbox = ET.SubElement(obj, "bndbox")
        x1, y1 = _pixel(b.x1), _pixel(b.y1)
        x2, y2 = max(_pixel(b.x2), x1 + 1), max(_pixel(b.y2), y1 + 1)
        for key, value in (("xmin", x1), ("ymin", y1), ("xmax", x2), ("ymax", y2)):
            ET.SubElement(bndbox, key).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def _pixel(v: float) -> int:
    return math.floor(v + 0.5)


def _folders(root: Path) -> tuple[Path, Path]:
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder", hint="give the VOC folder (Annotations/...)")
    ann_dir = root / "Annotations" if (root / "Annotations").is_dir() else root
    img_dir = root / "JPEGImages" if (root / "JPEGImages").is_dir() else ann_dir
    return ann_dir, img_dir


def _splits(root: Path) -> dict[str, str]:
    """{stem: split} from ImageSets/Main/{train,val,test}.txt (trainval alone: no split)."""
    out: dict[str, str] = {}
    for split in ("train", "val", "test"):
        listing = root / _MAIN / f"{split}.txt"
        if listing.is_file():
            for line in listing.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    out.setdefault(line.split()[0], split)
    return out


def _class_names(root: Path, names: list[str] | None, seen: list[str]) -> dict[int, str]:
    if names:
        return dict(enumerate(names))
    for candidate in (root / "classes.txt", root / "labels.txt"):
        if candidate.is_file():
            listed = read_names(candidate)
            if listed:
                return dict(enumerate(listed))
    return dict(enumerate(sorted(set(seen))))


def read_voc(root: Path, names: list[str] | None = None) -> LabelledDataset:
    """Read a VOC dataset folder.

    Class ids: the order of ``names``, else ``classes.txt`` / ``labels.txt``, else the names
    found, sorted. An unreadable XML file, an unknown class, a missing image or a box out of
    the image is a warning.

    Raises:
        DatasetError: not a folder, or no XML file in it.
    """
    ann_dir, img_dir = _folders(root)
    files = sorted(ann_dir.glob("*.xml"))
    if not files:
        raise DatasetError(f"no VOC .xml file in {ann_dir}", hint="give the VOC folder")
    ds = LabelledDataset({})
    parsed: list[tuple[Path, VocAnnotation]] = []
    for file in files:
        try:
            parsed.append((file, parse_voc(file.read_text(encoding="utf-8"), file.name)))
        except (OSError, UnicodeDecodeError, DatasetError) as exc:
            ds.warn(f"{file.name}: {getattr(exc, 'message', exc)}: left out")
    ds.names = _class_names(root, names, [o.name for _, a in parsed for o in a.objects])
    ids = {v: k for k, v in ds.names.items()}
    splits = _splits(root)
    for file, ann in parsed:
        split = splits.get(file.stem)
        if splits and split is None:
            ds.warn(f"{file.name}: in no ImageSets/Main list: put in train")
            split = "train"
        img = _image(file, ann, img_dir, split, ds)
        if img is None:
            continue
        for obj in ann.objects:
            if obj.name not in ids:
                ds.warn(f"{file.name}: unknown class {obj.name!r}: skipped")
                continue
            img.boxes.append(Box(ids[obj.name], obj.xmin, obj.ymin, obj.xmax, obj.ymax))
        ds.images.append(img)
    clip_all(ds)
    return ds


def _image(
    file: Path, ann: VocAnnotation, img_dir: Path, split: str | None, ds: LabelledDataset
) -> LabelledImage | None:
    candidates = [img_dir / ann.filename] if ann.filename else []
    candidates += [img_dir / f"{file.stem}{s}" for s in sorted(IMAGE_SUFFIXES)]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        ds.warn(f"{file.name}: image {ann.filename or file.stem} not found in {img_dir}: left out")
        return None
    width, height = ann.width, ann.height
    if width <= 0 or height <= 0:
        try:
            width, height = image_size(found)
        except (OSError, ValueError) as exc:
            ds.warn(f"{file.name}: no size and {found.name} is not readable ({exc}): left out")
            return None
    return LabelledImage(found.name, width, height, split=split, path=found)


def write_voc(
    ds: LabelledDataset, out: Path, *, link: bool = True, source: Path | None = None
) -> ConvertResult:
    """Write ``ds`` as a VOC dataset under ``out``.

    Raises:
        DatasetError: ``out`` holds the source.
    """
    reset_folders(out, ("Annotations", "JPEGImages", "ImageSets"), source)
    result = ConvertResult(out, "voc", ds.names)
    lists: dict[str, list[str]] = {}
    for img in unique_files(ds, by_stem=True, across_splits=True):
        name = flat_name(img.file)
        stem = Path(name).stem
        if img.path is not None:
            place_image(img.path, out / "JPEGImages" / name, link)
        xml = out / "Annotations" / f"{stem}.xml"
        write_atomic(xml, voc_xml(img, ds.names))
        result.files.append(xml)
        if img.split in (None, "train", "val"):
            lists.setdefault("trainval", []).append(stem)
        if img.split is not None:
            lists.setdefault(img.split, []).append(stem)
        result.images += 1
        result.boxes += len(img.boxes)
        result.splits[img.split or "all"] = result.splits.get(img.split or "all", 0) + 1
    for split, stems in lists.items():
        write_atomic(out / _MAIN / f"{split}.txt", "".join(f"{s}\n" for s in stems))
    write_atomic(out / "classes.txt", "".join(f"{n}\n" for n in yolo_names(ds.names, ds)))
    result.problems = ds.problems
    return result
