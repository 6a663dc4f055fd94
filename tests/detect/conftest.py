"""Image folders for the detect tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.fixtures.models import traffic_scene


def write_scene(path: Path, seed: int, size: int = 160) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img, _ = traffic_scene(size, seed=seed)
    fmt = {".png": "PNG", ".webp": "WEBP"}.get(path.suffix, "JPEG")
    Image.fromarray(img).save(path, fmt)
    return path


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    """Study-named and plain images, a corrupt JPEG, a text file and a sub-folder image."""
    root = tmp_path / "images"
    write_scene(root / "53_IG1_1.jpg", 1)
    write_scene(root / "53_TW4_3_2.jpg", 2)
    write_scene(root / "street.png", 3)
    write_scene(root / "corner.webp", 4)
    good = (root / "53_IG1_1.jpg").read_bytes()
    (root / "broken.jpg").write_bytes(good[: len(good) // 3])
    (root / "notes.txt").write_text("not an image")
    write_scene(root / "sub" / "deep.jpg", 5)
    return root
