"""The annotated video is drawn on the frames the analysis decoded: one decoding pass, same tracks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from tests.track.helpers import ColourDetector, render_video
from vigie.media import FrameReader
from vigie.track import track
from vigie.track.pipeline import core, render


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]


def tracks_of(res: Any) -> tuple[list[dict[str, Any]], str]:
    data = json.loads(res.outputs["json"].read_text())
    return data["tracks"], res.outputs["mot"].read_text()


@pytest.mark.parametrize(("tracker", "stride"), [("vigie", 1), ("vigie", 3), ("sort", 2)])
def test_tracks_are_the_same_with_and_without_the_annotated_video(
    tmp_path: Path, tracker: str, stride: int
) -> None:
    video = render_video(tmp_path / "in" / "street.mp4", frames=40)
    runs = {}
    for draw in (True, False):
        det = ColourDetector()
        (res,) = track(
            video, detector=det, out=tmp_path / str(draw), tracker=tracker, stride=stride,
            video=draw,
        ).results  # fmt: skip
        runs[draw] = (tracks_of(res), det.images, res.frames_analysed, res.frames_decoded)
    assert runs[True] == runs[False]
    assert runs[True][0][0] and runs[True][1] == -(-40 // stride)


class CountingReader(FrameReader):
    opened = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        CountingReader.opened += 1
        super().__init__(*args, **kwargs)


def test_each_frame_is_decoded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "FrameReader", CountingReader)
    monkeypatch.setattr(render, "FrameReader", CountingReader)
    CountingReader.opened = 0
    video = render_video(tmp_path / "street.mp4", frames=30)
    (res,) = track(video, detector=ColourDetector(), out=tmp_path / "o", stride=2).results
    assert CountingReader.opened == 1  # the analysis pass only
    assert len(decoded(res.outputs["video"])) == 30


@pytest.mark.parametrize("budget_frames", [0, 12])
def test_a_video_over_the_buffer_is_drawn_the_same_from_a_second_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget_frames: int
) -> None:
    video = render_video(tmp_path / "street.mp4", frames=30)
    (whole,) = track(video, detector=ColourDetector(), out=tmp_path / "mem", stride=2).results
    monkeypatch.setattr(render, "BUFFER_BYTES", budget_frames * 160 * 120 * 3)
    monkeypatch.setattr(core, "FrameReader", CountingReader)
    monkeypatch.setattr(render, "FrameReader", CountingReader)
    CountingReader.opened = 0
    (again,) = track(video, detector=ColourDetector(), out=tmp_path / "tail", stride=2).results
    assert CountingReader.opened == 2  # the frames past the buffer were decoded again
    a, b = decoded(whole.outputs["video"]), decoded(again.outputs["video"])
    assert len(a) == len(b) == 30
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert tracks_of(whole) == tracks_of(again)


def test_a_range_is_drawn_from_its_first_frame(tmp_path: Path) -> None:
    video = render_video(tmp_path / "street.mp4", frames=60, fps=10)
    (res,) = track(
        video, detector=ColourDetector(), out=tmp_path / "o", start=2.0, end=4.0, stride=2
    ).results
    assert res.frames_analysed == 11
    assert len(decoded(res.outputs["video"])) == 21
