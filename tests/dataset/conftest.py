"""A small YOLO dataset shaped like a real export: mixed sizes and formats, train/val."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from tests.fixtures.media import scene_array

NAMES = ["Car", "Pedestrian", "Truck", "Bus"]
# (split, name, width, height): phone JPEGs landscape and portrait, a PNG screenshot
IMAGES = [
    ("train", "cam_001.jpg", 160, 120),
    ("train", "cam_002.jpg", 120, 160),
    ("train", "shot_003.png", 200, 100),
    ("train", "empty_004.jpg", 160, 120),  # a negative image: empty label file
    ("val", "cam_101.jpg", 160, 120),
    ("val", "shot_102.png", 96, 96),
]


def write_image(path: Path, width: int, height: int, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fmt = "PNG" if path.suffix == ".png" else "JPEG"
    Image.fromarray(scene_array(width, height, seed)).save(buf, fmt)
    path.write_bytes(buf.getvalue())
    return path


def label_lines(width: int, height: int, seed: int, whole_pixels: bool = True) -> list[str]:
    """YOLO lines of 1-3 boxes inside the image; whole-pixel corners unless asked otherwise."""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(int(rng.integers(1, 4))):
        cls = int(rng.integers(0, len(NAMES)))
        w, h = int(rng.integers(8, width // 2)), int(rng.integers(8, height // 2))
        x0 = int(rng.integers(0, width - w)) + (0.0 if whole_pixels else 0.37)
        y0 = int(rng.integers(0, height - h)) + (0.0 if whole_pixels else 0.81)
        cx, cy = (x0 + w / 2) / width, (y0 + h / 2) / height
        lines.append(f"{cls} {cx:.6f} {cy:.6f} {w / width:.6f} {h / height:.6f}")
    return lines


def make_yolo_dataset(root: Path, whole_pixels: bool = True) -> Path:
    for i, (split, name, w, h) in enumerate(IMAGES):
        write_image(root / "images" / split / name, w, h, seed=i)
        lines = [] if name.startswith("empty") else label_lines(w, h, i, whole_pixels)
        label = root / "labels" / split / f"{Path(name).stem}.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text("".join(f"{line}\n" for line in lines))
    (root / "data.yaml").write_text(
        yaml.safe_dump(
            {"train": "images/train", "val": "images/val", "names": dict(enumerate(NAMES))}
        )
    )
    return root


def read_labels(root: Path) -> dict[str, list[list[float]]]:
    """{split/stem: [[class, cx, cy, w, h], ...]} of a YOLO dataset."""
    out = {}
    for label in sorted((root / "labels").rglob("*.txt")):
        key = f"{label.parent.name}/{label.stem}"
        out[key] = [[float(v) for v in line.split()] for line in label.read_text().splitlines()]
    return out


@pytest.fixture
def yolo_dataset(tmp_path: Path) -> Path:
    return make_yolo_dataset(tmp_path / "yolo")
