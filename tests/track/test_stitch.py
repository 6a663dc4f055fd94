"""Cutting a video into overlapping segments and stitching the segments' tracks back."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigie.track.pipeline.stitch import Piece, cut, iou, match, stitch

FPS = 10.0


def _times(n: int) -> list[float]:
    return [i / FPS for i in range(n)]


def _video(tracks: list[tuple[int, int]], frames: int) -> Piece:
    """Tracks ``(first, length)``, each in its own lane (no two overlap), moving right."""
    piece = Piece(list(range(frames)), _times(frames), [])
    for f in range(frames):
        rows = []
        for n, (first, length) in enumerate(tracks):
            if first <= f < first + length:
                x, y = 3.0 * f, 40.0 * n
                rows.append([x, y, x + 20, y + 30, n + 1, 0.9, n % 2])
        piece.per_frame.append(np.array(rows, dtype=np.float64).reshape(-1, 7))
    return piece


def _segment(piece: Piece, first: int, last: int, offset: int) -> Piece:
    """The frames ``first..last`` of ``piece``, tracked on their own: other ids."""
    per_frame = []
    for arr in piece.per_frame[first : last + 1]:
        arr = arr.copy()
        arr[:, 4] = arr[:, 4] * 10 + offset
        per_frame.append(arr)
    return Piece(piece.index[first : last + 1], piece.times[first : last + 1], per_frame)


def _same(a: Piece, b: Piece) -> bool:
    return a.index == b.index and all(
        x.shape == y.shape and np.allclose(x, y)
        for x, y in zip(a.per_frame, b.per_frame, strict=True)
    )


def test_a_short_video_or_no_cutting_is_one_range() -> None:
    times = _times(50)
    assert cut(times, None, None, 10.0, 1.0) == [(0, 49)]
    assert cut(times, None, None, 0.0, 1.0) == [(0, 49)]
    assert cut(times, 9.0, 1.0, 2.0, 0.5) == []


def test_segments_cover_the_range_and_overlap() -> None:
    times = _times(100)  # 9.9 s
    ranges = cut(times, None, None, 3.0, 0.5)
    assert ranges[0][0] == 0 and ranges[-1][1] == 99
    assert [a for a, _ in ranges] == [0, 30, 60, 90]
    assert [a for a, _ in cut(_times(95), None, None, 3.0, 0.5)] == [0, 30, 60]  # 0.4 s joins
    for (_, b), (a, _) in pairwise(ranges):
        assert b == a + 5  # 0.5 s shared
    assert cut(times, 2.0, 6.0, 3.0, 0.5) == [(20, 55), (50, 60)]


def test_segments_start_on_the_stride_grid() -> None:
    ranges = cut(_times(100), 0.1, None, 2.5, 0.2, stride=4)
    assert all((a - 1) % 4 == 0 for a, _ in ranges)
    for (_, b), (a, _) in pairwise(ranges):
        assert b >= a + 4  # two analysed frames shared at least


def test_iou() -> None:
    a = np.array([0.0, 0.0, 10.0, 10.0])
    assert iou(a, a) == 1.0
    assert iou(a, np.array([5.0, 0.0, 15.0, 10.0])) == 50 / 150
    assert iou(a, np.array([20.0, 0.0, 30.0, 10.0])) == 0.0


def test_tracks_are_matched_on_the_shared_frames() -> None:
    video = _video([(0, 40), (10, 40)], 60)
    a, b = _segment(video, 0, 34, 1), _segment(video, 30, 59, 2)
    assert match(a, b) == {12: 11, 22: 21}
    far = _segment(video, 36, 59, 2)  # no shared frame: nothing matched
    assert match(a, far) == {}


def test_stitched_ids_follow_first_appearance() -> None:
    video = _video([(20, 30), (0, 15)], 60)
    whole = stitch([video])
    firsts = {}
    for f, arr in zip(whole.index, whole.per_frame, strict=True):
        for row in arr:
            firsts.setdefault(int(row[4]), f)
    assert firsts == {1: 0, 2: 20}


@settings(max_examples=60, deadline=None)
@given(
    tracks=st.lists(st.tuples(st.integers(0, 110), st.integers(1, 60)), min_size=1, max_size=6),
    seconds=st.floats(1.0, 5.0),
    overlap=st.floats(0.2, 0.9),
)
def test_a_video_cut_anywhere_is_stitched_back_into_the_same_tracks(
    tracks: list[tuple[int, int]], seconds: float, overlap: float
) -> None:
    video = _video(tracks, 120)
    ranges = cut(video.times, None, None, seconds, overlap)
    assert ranges[0][0] == 0 and ranges[-1][1] == 119
    pieces = [_segment(video, a, b, n) for n, (a, b) in enumerate(ranges)]
    assert _same(stitch(pieces), stitch([video]))


def test_a_track_missed_by_one_segment_in_the_overlap_is_kept() -> None:
    video = _video([(0, 60)], 60)
    a, b = _segment(video, 0, 34, 1), _segment(video, 30, 59, 2)
    for k in range(3):  # the later segment's tracker confirms the track 3 frames late
        b.per_frame[k] = b.per_frame[k][:0]
    out = stitch([a, b])
    assert [len(arr) for arr in out.per_frame] == [1] * 60
    assert {int(arr[0, 4]) for arr in out.per_frame} == {1}


def test_an_overlap_as_long_as_the_segments_is_refused() -> None:
    from vigie.errors import ConfigError
    from vigie.track.pipeline.on_ray import track_on_ray

    with pytest.raises(ConfigError, match="segment_overlap"):
        track_on_ray("127.0.0.1:1", [], None, False, None, print, None, (2.0, 2.0))
