"""YOLO datasets as :class:`~vigie.dataset.formats.LabelledDataset`: read a folder, write one.

Layout (ultralytics'): ``images/{train,val}/`` + ``labels/{train,val}/`` (or flat ``images/`` +
``labels/``), ``data.yaml`` with the names by id, and ``classes.txt`` (one name per line).
A label line is ``class cx cy w h``, normalised to the image size.
"""

from __future__ import annotations

from pathlib import Path

from vigie.dataset.formats import (
    Box,
    ConvertResult,
    LabelledDataset,
    LabelledImage,
    clip_box,
    flat_name,
    image_size,
    place_image,
    reset_folders,
    unique_files,
    yolo_names,
)
from vigie.dataset.yolo import (
    data_yaml_text,
    dataset_names,
    list_images,
    parse_label_line,
    yolo_layout,
)
from vigie.errors import DatasetError
from vigie.files import write_atomic


def parse_yolo_labels(
    text: str, width: int, height: int, names: dict[int, str], where: str, ds: LabelledDataset
) -> list[Box]:
    """The boxes of one label file's text, in pixels; bad lines become warnings on ``ds``."""
    boxes: list[Box] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            lab = parse_label_line(line)
        except ValueError as exc:
            ds.warn(f"{where} line {n}: malformed ({exc}): skipped")
            continue
        if lab.class_id not in names:
            ds.warn(f"{where} line {n}: unknown class {lab.class_id}: skipped")
            continue
        box = Box(
            lab.class_id,
            (lab.cx - lab.w / 2) * width,
            (lab.cy - lab.h / 2) * height,
            (lab.cx + lab.w / 2) * width,
            (lab.cy + lab.h / 2) * height,
        )
        kept = clip_box(box, width, height, f"{where} line {n}", ds)
        if kept is not None:
            boxes.append(kept)
    return boxes


def yolo_label_text(boxes: list[Box], width: int, height: int) -> str:
    """Label file text of pixel boxes: ``class cx cy w h``, six decimals."""
    lines = []
    for b in boxes:
        cx, cy = (b.x1 + b.x2) / 2 / width, (b.y1 + b.y2) / 2 / height
        w, h = (b.x2 - b.x1) / width, (b.y2 - b.y1) / height
        lines.append(f"{b.class_id} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return "".join(f"{line}\n" for line in lines)


def read_yolo(path: Path, names: list[str] | None = None) -> LabelledDataset:
    """Read a YOLO dataset folder (or its data.yaml).

    Raises:
        DatasetError: not a YOLO dataset, or no class names.
    """
    root = path.parent if path.is_file() else path
    class_names = dataset_names(root, names)
    if not class_names:
        raise DatasetError(
            f"no class names for {root}",
            hint="pass --names Car,Bus,... or add a data.yaml or classes.txt",
        )
    ds = LabelledDataset(dict(enumerate(class_names)))
    for split, images_dir, labels_dir in yolo_layout(root):
        split_name = None if split == "all" else split
        images = list_images(images_dir)
        stems = {p.stem for p in images}
        for img in images:
            _read_image(ds, img, labels_dir / f"{img.stem}.txt", split_name)
        if labels_dir.is_dir():
            for lab in sorted(labels_dir.glob("*.txt")):
                if lab.stem not in stems:
                    ds.warn(f"{lab.name}: a label file without an image: left out")
    if not ds.images:
        raise DatasetError(f"no image in {root}", hint="point at a folder with images/")
    return ds


def _read_image(ds: LabelledDataset, img: Path, label: Path, split: str | None) -> None:
    try:
        width, height = image_size(img)
    except (OSError, ValueError) as exc:
        ds.warn(f"{img.name}: not a readable image ({exc}): left out")
        return
    boxes: list[Box] = []
    if label.is_file():
        try:
            text = label.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            ds.warn(f"{label.name}: unreadable ({exc}): image kept without boxes")
            text = ""
        boxes = parse_yolo_labels(text, width, height, ds.names, label.name, ds)
    else:
        ds.warn(f"{img.name}: no label file: kept without boxes")
    ds.images.append(LabelledImage(img.name, width, height, boxes, split, img))


def write_yolo(
    ds: LabelledDataset, out: Path, *, link: bool = True, source: Path | None = None
) -> ConvertResult:
    """Write ``ds`` as a YOLO dataset under ``out`` (images, labels, data.yaml, classes.txt).

    Raises:
        DatasetError: ``out`` holds the source.
    """
    reset_folders(out, ("images", "labels"), source)
    names = yolo_names(ds.names, ds)
    result = ConvertResult(out, "yolo", ds.names)
    for img in unique_files(ds, by_stem=True):
        folder = img.split or ""
        name = flat_name(img.file)
        if img.path is not None:
            place_image(img.path, out / "images" / folder / name, link)
        label = out / "labels" / folder / f"{Path(name).stem}.txt"
        write_atomic(label, yolo_label_text(img.boxes, img.width, img.height))
        result.images += 1
        result.boxes += len(img.boxes)
        key = img.split or "all"
        result.splits[key] = result.splits.get(key, 0) + 1
    splits = [s for s in ds.splits if s is not None]
    train = next((s for s in splits if s.startswith("train")), splits[0] if splits else None)
    val = next((s for s in splits if s.startswith("val")), train)
    test = next((s for s in splits if s.startswith("test")), None)
    yaml_text = data_yaml_text(
        out,
        names,
        train=f"images/{train}" if train else "images",
        val=f"images/{val}" if val else "images",
        test=f"images/{test}" if test else None,
    )
    write_atomic(out / "data.yaml", yaml_text)
    write_atomic(out / "classes.txt", "".join(f"{n}\n" for n in names))
    result.files = [out / "data.yaml"]
    result.problems = ds.problems
    return result
