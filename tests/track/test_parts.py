"""The annotated video drawn in parts (as Ray workers draw a segmented video) and joined is the
video drawn in one go: same frames, same pictures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
import numpy as np

from tests.track.helpers import render_video
from vigie.config import TrackSettings
from vigie.media import scan
from vigie.track.pipeline.options import track_options
from vigie.track.pipeline.parts import draw_part, join_parts, part_job, plan_parts
from vigie.track.pipeline.render import FrameStore, render


def _decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(c.streams.video[0])]


def test_a_video_drawn_in_parts_and_joined_is_the_video_drawn_at_once(tmp_path: Path) -> None:
    video = render_video(tmp_path / "in" / "street.mp4", frames=40)
    info, index = scan(video)
    opts = dataclasses.replace(track_options(TrackSettings()), stride=2)
    names = {0: "car"}
    analysed = list(range(0, 40, 2))  # stride 2: the odd frames show the last tracks
    per_frame = [np.array([[4.0 + i, 10, 40 + i, 44, 7, 0.9, 0]]) for i in analysed]
    store = FrameStore(0)
    store.missing = 0
    whole = render(tmp_path / "whole.mp4", store, info, index, per_frame, analysed, names, opts)

    parts = plan_parts(video, "street", tmp_path / "out", [(0, 17), (12, 31), (26, 39)])
    assert [(p.first, p.last) for p in parts] == [(0, 11), (12, 25), (26, 39)]
    for part in parts:
        draw_part(part_job(part, info, index, per_frame, analysed, names, opts))
    joined = join_parts(parts, tmp_path / "out" / "street.mp4")
    assert not (tmp_path / "out" / ".parts").exists()  # the parts are gone once joined

    a, b = _decoded(whole), _decoded(joined)
    assert len(a) == len(b) == 40
    assert max(float(np.abs(x - y).mean()) for x, y in zip(a, b, strict=True)) < 3
    # the boxes are there: the drawn frames differ from the source where a box is drawn
    source = _decoded(video)
    assert all(float(np.abs(x - y).mean()) > 0.2 for x, y in zip(source, b, strict=True))
