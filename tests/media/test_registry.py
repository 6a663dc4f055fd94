"""The suffix registry and the one listing rule every stage uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.errors import SourceError
from vigie.media import IMAGE_SUFFIXES, VIDEO_SUFFIXES, kind_of, list_media
from vigie.types import MediaKind


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_kinds_come_from_the_suffix_whatever_its_case() -> None:
    assert kind_of("IMG_0001.JPG") is MediaKind.IMAGE
    assert kind_of(Path("cam01/20260101.ts")) is MediaKind.VIDEO
    assert kind_of("clip.M2TS") is MediaKind.VIDEO
    assert kind_of("notes.txt") is kind_of("no_suffix") is MediaKind.UNKNOWN
    assert not IMAGE_SUFFIXES & VIDEO_SUFFIXES
    assert {".bmp", ".tif", ".heic"}.isdisjoint(IMAGE_SUFFIXES)  # not in the decode allow-list


def test_a_folder_lists_its_media_sorted_without_hidden_or_other_files(tmp_path: Path) -> None:
    for name in ("b.PNG", "a.jpg", "c.webp", "._a.jpg", ".thumb.jpg", "notes.txt", "v.mp4"):
        touch(tmp_path / name)
    (tmp_path / "dir.jpg").mkdir()
    touch(tmp_path / "sub" / "d.gif")
    assert list_media(tmp_path, "image") == [tmp_path / n for n in ("a.jpg", "b.PNG", "c.webp")]
    assert list_media(tmp_path, MediaKind.IMAGE, recursive=True)[-1] == tmp_path / "sub" / "d.gif"
    assert list_media(tmp_path, "video") == [tmp_path / "v.mp4"]


def test_a_file_is_a_list_of_one_whatever_its_suffix(tmp_path: Path) -> None:
    odd = touch(tmp_path / "recording.bin")
    assert list_media(odd, "video") == [odd]


def test_several_sources_list_each_file_once(tmp_path: Path) -> None:
    a, b = touch(tmp_path / "a.mp4"), touch(tmp_path / "sub" / "b.mov")
    assert list_media([tmp_path, a, b], "video", recursive=True) == [a, b]


def test_an_excluded_folder_is_not_listed(tmp_path: Path) -> None:
    keep = touch(tmp_path / "a.jpg")
    touch(tmp_path / "dups" / "a.jpg")
    assert list_media(tmp_path, "image", recursive=True, exclude=tmp_path / "dups") == [keep]


def test_nothing_found_is_one_clear_error_naming_the_suffixes(tmp_path: Path) -> None:
    touch(tmp_path / "sub" / "a.jpg")
    with pytest.raises(SourceError) as info:
        list_media(tmp_path, "image")
    assert "no image in" in info.value.message and ".jpeg .jpg .png .webp" in info.value.message
    assert info.value.hint is not None and "--recursive" in info.value.hint
    with pytest.raises(SourceError, match=r"no video in .*\.m4v .*\.ts"):
        list_media(tmp_path, "video", recursive=True)
    with pytest.raises(SourceError, match="does not exist"):
        list_media(tmp_path / "nope", "video")


def test_allow_empty_gives_an_empty_list(tmp_path: Path) -> None:
    assert list_media(tmp_path, "image", allow_empty=True) == []
    assert list_media(tmp_path / "nope", "image", allow_empty=True) == []
