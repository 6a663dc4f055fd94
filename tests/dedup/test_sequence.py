from __future__ import annotations

import io
from pathlib import Path

import imagehash
import pytest
from PIL import Image

from tests.fixtures.media import jpeg_bytes, png_bytes
from vigie.dedup import find_duplicates, hamming, hash_refined, hash_with_margin, keep_decisions


def _reencode(data: bytes, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def make_sequence(folder: Path) -> tuple[Path, list[tuple[str, bool]]]:
    """Frames in time order and whether the capture rule keeps each one."""
    folder.mkdir(parents=True)
    a, b = jpeg_bytes(640, 360, seed=2), jpeg_bytes(640, 360, seed=3)
    plan = [
        (a, True),
        (a, False),  # same bytes
        (_reencode(a, 85), False),  # same picture (ahash distance 0, checked below)
        (b, True),
        (b, False),
        (a, True),  # back to a: differs from the last kept (b)
        (b"<html>oops</html>", None),  # unreadable: neither kept nor dropped
    ]
    expected = []
    for i, (data, keep) in enumerate(plan):
        name = f"20250101000{i:03d}.jpg"
        (folder / name).write_bytes(data)
        if keep is not None:
            expected.append((name, keep))
    return folder, expected


def _baseline_decisions(paths: list[Path], threshold: int) -> list[bool]:
    keep, last = [], None
    for p in paths:
        h = imagehash.average_hash(Image.open(p))
        k = last is None or (h - last) > threshold
        keep.append(k)
        if k:
            last = h
    return keep


def test_keep_decisions_follow_capture_rule(tmp_path: Path) -> None:
    folder, expected = make_sequence(tmp_path / "seq")
    paths = sorted(folder.glob("*.jpg"))
    dec = keep_decisions(paths)
    assert dec.keep[:-1] == [keep for _, keep in expected]
    assert dec.keep[-1] is None and list(dec.errors) == [6]
    assert dec.identical == 3  # a twice more, b once more
    good = paths[:-1]
    assert dec.keep[:-1] == _baseline_decisions(good, 0)


@pytest.mark.parametrize("threshold", [0, 3])
def test_keep_decisions_agree_with_full_decode_on_a_drifting_scene(
    tmp_path: Path, threshold: int
) -> None:
    paths = []
    for i in range(24):
        p = tmp_path / f"{i:04d}.jpg"
        seed = i // 3  # three snapshots of each scene, re-encoded at different qualities
        p.write_bytes(_reencode(jpeg_bytes(640, 360, seed=seed), 70 + 10 * (i % 3)))
        paths.append(p)
    dec = keep_decisions(paths, threshold=threshold, workers=2)
    assert dec.keep == _baseline_decisions(paths, threshold)


def test_hash_with_margin_marks_uncertain_bits() -> None:
    data = jpeg_bytes(1280, 720, seed=5)
    fast, mask = hash_with_margin(data)
    full = int(str(imagehash.average_hash(Image.open(io.BytesIO(data)))), 16)
    assert hamming(fast & ~mask, full & ~mask) == 0
    _, wide = hash_with_margin(data, margin=300.0)
    assert wide == (1 << 64) - 1
    with pytest.raises(ValueError):
        hash_with_margin(data, method="phash")


def test_find_duplicates_consecutive_keeps_first_of_each_run(tmp_path: Path) -> None:
    folder, expected = make_sequence(tmp_path / "seq")
    report = find_duplicates(folder, consecutive=True)
    assert [g.keep.name for g in report.groups] == [expected[0][0], expected[3][0]]
    dropped = sorted(p.name for g in report.groups for p in g.duplicates)
    assert dropped == [n for n, keep in expected if not keep]
    assert len(report.failures) == 1
    # across the whole folder, the later copy of `a` is a duplicate too
    assert report.duplicate_count < find_duplicates(folder).duplicate_count


def test_hash_refined_agrees_with_imagehash_outside_its_uncertain_bits() -> None:
    for seed in range(4):
        data = jpeg_bytes(1280, 720, seed=seed)
        refined = hash_refined(data)
        assert refined is not None
        bits, mask = refined
        full = int(str(imagehash.average_hash(Image.open(io.BytesIO(data)))), 16)
        assert bits & ~mask == full & ~mask
        assert mask.bit_count() <= 2
    assert hash_refined(png_bytes()) is None
    with pytest.raises(ValueError):
        hash_refined(jpeg_bytes(), method="phash")


def _repeated_sequence(folder: Path, pictures: int = 12) -> list[Path]:
    """Each picture twice in a row, then re-encoded once: A A A' B B B' ..."""
    paths = []
    for i in range(pictures):
        data = jpeg_bytes(640, 360, seed=i)
        for j, frame in enumerate((data, data, _reencode(data, 75))):
            p = folder / f"{i:03d}_{j}.jpg"
            p.write_bytes(frame)
            paths.append(p)
    return paths


@pytest.mark.parametrize("workers", [1, 4])
def test_keep_decisions_repeats_are_decided_once_whatever_the_threads(
    tmp_path: Path, workers: int
) -> None:
    paths = _repeated_sequence(tmp_path)
    for _ in range(3):  # threads race on the repeated bytes
        dec = keep_decisions(paths, workers=workers)
        assert dec.keep == _baseline_decisions(paths, 0)
        assert dec.identical == 12


def test_keep_decisions_decodes_at_full_size_first_when_most_frames_need_it(
    tmp_path: Path,
) -> None:
    paths = _repeated_sequence(tmp_path)
    # a huge 1/8-decode margin leaves every decision open: frames soon start at full-size luma
    dec = keep_decisions(paths, margin=300.0, workers=2)
    assert dec.luma_first > 0
    assert dec.keep == _baseline_decisions(paths, 0)
    exact = keep_decisions(paths, margin=300.0, refine_margin=300.0, workers=2)
    assert exact.keep == dec.keep and exact.full_decodes > 0
