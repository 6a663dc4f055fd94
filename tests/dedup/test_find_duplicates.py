from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from tests.fixtures.media import jpeg_bytes
from vigie.dedup import find_duplicates
from vigie.errors import ConfigError


def _reencode(data: bytes, quality: int = 70) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def make_folder(root: Path) -> Path:
    """a.jpg; b.jpg = exact copy of a; sub/c.jpg = a re-encoded; d.jpg different; x.jpg broken."""
    root.mkdir(parents=True)
    a = jpeg_bytes(320, 240, seed=1)
    for i, (name, data) in enumerate(
        [
            ("a.jpg", a),
            ("b.jpg", a),
            ("sub/c.jpg", _reencode(a)),
            ("d.jpg", jpeg_bytes(320, 240, seed=2)),
            ("x.jpg", b"<html>not an image</html>"),
        ]
    ):
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.utime(p, (1_000_000 + i, 1_000_000 + i))  # a is the oldest
    return root


def test_find_duplicates_groups_copies_and_reencodes_across_folder(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "imgs")
    report = find_duplicates(folder, threshold=2)
    assert report.scanned == 5
    assert len(report.groups) == 1
    group = report.groups[0]
    assert group.keep == folder / "a.jpg"
    assert sorted(group.duplicates) == [folder / "b.jpg", folder / "sub/c.jpg"]
    assert report.duplicate_count == 2
    assert [p.name for p, _ in report.failures] == ["x.jpg"]
    assert report.moved == []
    assert (folder / "b.jpg").exists()  # nothing moved or deleted without move_to


def test_find_duplicates_moves_duplicates_aside_and_keeps_oldest(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "imgs")
    aside = folder / "dups"  # inside the scanned folder: it must not be scanned
    report = find_duplicates(folder, threshold=2, move_to=aside)
    assert (folder / "a.jpg").exists() and (folder / "d.jpg").exists()
    assert not (folder / "b.jpg").exists() and not (folder / "sub/c.jpg").exists()
    assert (aside / "b.jpg").exists() and (aside / "sub/c.jpg").exists()
    assert len(report.moved) == 2
    again = find_duplicates(folder, threshold=2, move_to=aside)
    assert again.groups == [] and again.scanned == 3  # a, d, x


def test_move_aside_never_overwrites(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "imgs")
    aside = tmp_path / "aside"
    aside.mkdir()
    (aside / "b.jpg").write_bytes(b"already here")
    find_duplicates(folder, threshold=2, move_to=aside)
    assert (aside / "b.jpg").read_bytes() == b"already here"
    assert (aside / "b_1.jpg").exists()


def test_find_duplicates_non_recursive_and_threshold_zero(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "imgs")
    report = find_duplicates(folder, threshold=0, recursive=False)
    assert report.scanned == 4
    assert [sorted(p.name for p in g.duplicates) for g in report.groups] == [["b.jpg"]]


def test_find_duplicates_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        find_duplicates(tmp_path / "missing")
    with pytest.raises(ConfigError):
        find_duplicates(tmp_path, method="md5")
