"""Videos of one encoder joined by a stream copy: every frame, in order, timestamps strictly rising."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from vigie.errors import MediaError
from vigie.media import VideoWriter
from vigie.media.concat import concat_videos


def _part(path: Path, frames: list[np.ndarray], size: tuple[int, int] = (160, 120)) -> Path:
    writer = VideoWriter(path, Fraction(25), *size)
    for img in frames:
        writer.write(img)
    writer.close()
    return path


def _pictures(n: int, shift: int) -> list[np.ndarray]:
    out = []
    for i in range(n):
        img = np.full((120, 160, 3), (40 + 3 * i + shift) % 200, np.uint8)
        img[20:50, i % 120 : i % 120 + 30] = 250
        out.append(img)
    return out


def test_parts_are_joined_frame_for_frame(tmp_path: Path) -> None:
    pictures = [_pictures(n, 60 * k) for k, n in enumerate((37, 50, 1, 13))]
    parts = [_part(tmp_path / f"p{k}.mp4", p) for k, p in enumerate(pictures)]
    target = concat_videos(parts, tmp_path / "all.mp4")
    expected = [img for p in pictures for img in p]
    with av.open(str(target)) as c:
        stream = c.streams.video[0]
        frames = list(c.decode(stream))
        assert stream.average_rate == 25
    assert len(frames) == len(expected) == 101
    pts = [f.pts for f in frames]
    assert len(set(np.diff(pts))) == 1  # one frame duration throughout: no gap at the joins
    for frame, img in zip(frames, expected, strict=True):
        assert np.abs(frame.to_ndarray(format="rgb24").astype(int) - img).mean() < 3
    assert not list(tmp_path.glob("*.part"))


def test_a_part_of_another_size_or_nothing_to_join_is_a_media_error(tmp_path: Path) -> None:
    a = _part(tmp_path / "a.mp4", _pictures(5, 0))
    b = _part(tmp_path / "b.mp4", [np.zeros((96, 128, 3), np.uint8)] * 5, size=(128, 96))
    with pytest.raises(MediaError, match="not the size"):
        concat_videos([a, b], tmp_path / "ab.mp4")
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    with pytest.raises(MediaError, match="cannot join"):
        concat_videos([a, tmp_path / "broken.mp4"], tmp_path / "ab.mp4")
    with pytest.raises(MediaError, match="nothing to join"):
        concat_videos([], tmp_path / "ab.mp4")
    assert not (tmp_path / "ab.mp4").exists() and not list(tmp_path.glob("*.part"))
