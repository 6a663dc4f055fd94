"""The reader's yuv420p pictures: the decoder's own planes, upright like the RGB frames."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests.frames.videos import write_rotated
from vigie.media import FrameReader


def as_rgb(yuv: np.ndarray) -> np.ndarray:
    return av.VideoFrame.from_ndarray(yuv, format="yuv420p").to_ndarray(format="rgb24")


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_the_yuv_picture_is_the_rgb_frame_upright(tmp_path: Path, degrees: int) -> None:
    video = write_rotated(tmp_path / f"r{degrees}.mp4", degrees, frames=4)
    frames = list(FrameReader(video, yuv=True))
    assert len(frames) == 4
    for f in frames:
        assert f.yuv is not None
        h, w = f.image.shape[:2]
        assert f.yuv.shape == (h * 3 // 2, w)
        assert np.abs(as_rgb(f.yuv).astype(int) - f.image).mean() < 2  # the same picture


def test_without_asking_there_are_no_yuv_pictures(tmp_path: Path) -> None:
    video = write_rotated(tmp_path / "r.mp4", 0, frames=2)
    assert [f.yuv for f in FrameReader(video)] == [None, None]
