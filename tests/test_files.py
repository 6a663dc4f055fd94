"""Atomic writes: no partial file under the final name, ever."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.files import write_atomic


def test_write_atomic_writes_bytes_and_text_and_creates_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.bin"
    assert write_atomic(target, b"\x00\x01") == target
    assert target.read_bytes() == b"\x00\x01"
    write_atomic(target, "é\n", durable=True)
    assert target.read_text(encoding="utf-8") == "é\n"
    assert not list(tmp_path.rglob("*.part"))


def test_failed_write_leaves_neither_part_nor_a_changed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x.jpg"
    target.write_bytes(b"old")

    def boom(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("vigie.files.os.replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert not (tmp_path / "x.jpg.part").exists()


def test_sweep_parts_removes_what_a_killed_run_left(tmp_path: Path) -> None:
    from vigie.files import sweep_parts

    (tmp_path / "a" / "deep").mkdir(parents=True)
    for name in ("a/x.jpg.part", "a/deep/y.json.part", "a/keep.jpg"):
        (tmp_path / name).write_bytes(b"1")
    assert sweep_parts(tmp_path / "a") == 1
    assert sweep_parts([tmp_path / "a", tmp_path / "missing"], recursive=True) == 1
    assert [p.name for p in (tmp_path / "a").rglob("*") if p.is_file()] == ["keep.jpg"]
