"""YOLO format: label lines, class names, data.yaml (readers take text, writers are atomic)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigie.errors import DatasetError
from vigie.files import write_atomic
from vigie.media import list_media

SPLITS = ("train", "val")


@dataclass(frozen=True)
class LabelLine:
    class_id: int
    cx: float
    cy: float
    w: float
    h: float


def parse_label_line(line: str) -> LabelLine:
    """One ``class cx cy w h`` line; raises ValueError with the reason when malformed."""
    parts = line.split()
    if len(parts) != 5:
        raise ValueError(f"expected 5 fields, got {len(parts)}")
    try:
        class_id = int(parts[0])
        cx, cy, w, h = (float(p) for p in parts[1:])
    except ValueError:
        raise ValueError("a field is not a number") from None
    if class_id < 0:
        raise ValueError("negative class id")
    return LabelLine(class_id, cx, cy, w, h)


def out_of_bounds(box: LabelLine, tol: float = 1e-6) -> bool:
    """True when the box leaves the image or has no area."""
    if box.w <= 0 or box.h <= 0:
        return True
    x1, y1 = box.cx - box.w / 2, box.cy - box.h / 2
    x2, y2 = box.cx + box.w / 2, box.cy + box.h / 2
    return x1 < -tol or y1 < -tol or x2 > 1 + tol or y2 > 1 + tol


def list_images(folder: Path) -> list[Path]:
    """Image files directly in ``folder`` (:func:`vigie.media.list_media`), sorted by name;
    ``[]`` when the folder is missing or holds none."""
    return list_media(folder, "image", allow_empty=True)


def read_names(path: Path) -> list[str]:
    """Class names of a ``classes.txt`` (one per line) or a ``data.yaml`` (``names``)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        return names_from_yaml(text)
    return [line.strip() for line in text.splitlines() if line.strip()]


def names_from_yaml(text: str) -> list[str]:
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DatasetError(f"data.yaml is not valid YAML: {exc}") from None
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict):
        return [str(names[k]) for k in sorted(names, key=int)]
    if isinstance(names, list):
        return [str(n) for n in names]
    raise DatasetError("data.yaml has no names", hint="add names: {0: Car, 1: Bus, ...}")


def data_yaml_text(
    root: Path,
    names: list[str],
    train: str = "images/train",
    val: str = "images/val",
    test: str | None = None,
) -> str:
    """The data.yaml of a dataset at ``root`` with classes in this fixed order."""
    import yaml

    data: dict[str, Any] = {"path": str(root.resolve()), "train": train, "val": val}
    if test is not None:
        data["test"] = test
    data.update(nc=len(names), names=dict(enumerate(names)))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, text)


def yolo_layout(root: Path) -> list[tuple[str, Path, Path]]:
    """(split, images dir, labels dir): train/val folders, else the flat pulled layout (``all``).

    Raises:
        DatasetError: ``root`` has no images/ or labels/ folder.
    """
    split_dirs = [
        (s, root / "images" / s, root / "labels" / s)
        for s in SPLITS
        if (root / "images" / s).is_dir() or (root / "labels" / s).is_dir()
    ]
    if split_dirs:
        return split_dirs
    if (root / "images").is_dir() or (root / "labels").is_dir():
        return [("all", root / "images", root / "labels")]
    raise DatasetError(
        f"{root} has no images/ or labels/ folder",
        hint="point at a dataset from `vigie dataset build` or a `vigie ls pull` folder",
    )


def dataset_names(root: Path, names: list[str] | None = None) -> list[str]:
    """Class names: ``names``, else data.yaml, else classes.txt, else none."""
    if names:
        return names
    if (root / "data.yaml").is_file():
        return names_from_yaml((root / "data.yaml").read_text(encoding="utf-8"))
    if (root / "classes.txt").is_file():
        return read_names(root / "classes.txt")
    return []
