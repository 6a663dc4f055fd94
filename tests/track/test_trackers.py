"""The Tracker interface, SORT's bookkeeping, Vigie's offline refinement, and the simulator."""

from __future__ import annotations

import numpy as np
import pytest

from vigie.errors import ConfigError
from vigie.track import TRACKERS, Tracker, make_tracker, simulate


def box(
    x: float, y: float = 50.0, w: float = 40.0, h: float = 80.0, conf: float = 0.9
) -> list[float]:
    return [x, y, x + w, y + h, conf]


def moving_pair(frames: int = 30) -> list[np.ndarray]:
    """Two boxes moving in parallel, far apart."""
    return [np.array([box(10 + 3 * i), box(400 - 3 * i, y=300)]) for i in range(frames)]


@pytest.mark.parametrize("name", TRACKERS)
def test_every_tracker_takes_n5_or_n6_arrays_and_returns_n7_tracks(name: str) -> None:
    tracker = make_tracker(name)
    assert isinstance(tracker, Tracker)
    for i, dets in enumerate(moving_pair(12)):
        with_class = np.hstack([dets, [[2.0], [5.0]]]) if i % 2 else dets
        out = tracker.update(with_class)
        assert out.ndim == 2 and out.shape[1] == 7
    assert tracker.update(np.zeros((0, 5))).shape[1] == 7
    final = tracker.finish()
    assert len(final) == 13
    ids = {int(t[4]) for f in final for t in f}
    assert len(ids) == 2


def test_make_tracker_refuses_unknown_names_and_parameters() -> None:
    with pytest.raises(ConfigError, match="unknown tracker"):
        make_tracker("deepsort")
    with pytest.raises(ConfigError, match="bad parameter"):
        make_tracker("sort", max_agee=3)


def test_update_refuses_arrays_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match=r"\(N, 5\)"):
        make_tracker("sort").update(np.zeros((2, 4)))


def test_sort_reports_a_track_only_after_min_hits_and_keeps_ids_apart() -> None:
    tracker = make_tracker("sort", max_age=20, min_hits=3, iou_threshold=0.3)
    outs = [tracker.update(d) for d in moving_pair(6)]
    # SORT reports everything during its first min_hits frames, then only confirmed tracks
    assert all(len(o) == 2 for o in outs)
    assert {int(t[4]) for t in outs[-1]} == {1, 2}
    # a missed detection resets the hit streak: the track is hidden until min_hits again
    tracker.update(np.array([box(10 + 3 * 6)]))
    back = tracker.update(np.array([box(10 + 3 * 7), box(400 - 3 * 7, y=300)]))
    assert {int(t[4]) for t in back} == {1}


def test_sort_forgets_tracks_after_max_age() -> None:
    tracker = make_tracker("sort", max_age=2, min_hits=1)
    tracker.update(np.array([box(10)]))
    for _ in range(4):
        tracker.update(None)
    tracker.update(np.array([box(10)]))  # a new track is hidden on its first frame
    out = tracker.update(np.array([box(10)]))
    assert [int(t[4]) for t in out] == [2]


def test_vigie_fills_missed_detections_by_interpolation() -> None:
    tracker = make_tracker("vigie", min_len=3, smooth=0)
    for i in range(20):
        tracker.update(np.zeros((0, 5)) if 8 <= i <= 11 else np.array([box(10 + 5 * i)]))
    frames = tracker.finish()
    assert all(len(f) == 1 for f in frames)
    assert frames[10][0, 0] == pytest.approx(10 + 5 * 10, abs=0.5)
    assert {int(f[0, 4]) for f in frames} == {1}


def test_vigie_relinks_a_track_lost_longer_than_its_online_memory() -> None:
    tracker = make_tracker("vigie", max_lost=5, link_gap=60, interp_gap=60, min_len=3)
    for i in range(60):
        hidden = 15 <= i < 40  # 25 frames behind an occluder
        tracker.update(np.zeros((0, 5)) if hidden else np.array([box(10 + 4 * i)]))
    assert tracker._next_id == 3  # online, it had to start a second track
    frames = tracker.finish()
    assert {int(t[4]) for f in frames for t in f} == {1}
    assert len(frames[30]) == 1  # filled while hidden


def test_vigie_drops_short_and_weak_tracks() -> None:
    tracker = make_tracker("vigie", min_len=5)
    for i in range(30):
        dets = [box(10 + 3 * i)]
        if 10 <= i < 13:  # a spurious object seen in 3 frames
            dets.append(box(600, y=400, conf=0.95))
        if i >= 5:  # a weak but steady false box
            dets.append(box(900, y=100, conf=0.62 if i % 2 else 0.5))
        tracker.update(np.array(dets))
    ids = {int(t[4]) for f in tracker.finish() for t in f}
    assert len(ids) == 1


def test_vigie_never_starts_a_track_from_weak_detections() -> None:
    tracker = make_tracker("vigie")
    for i in range(20):
        tracker.update(np.array([box(10 + 3 * i, conf=0.45)]))
    assert all(len(f) == 0 for f in tracker.finish())


def test_simulate_is_deterministic_and_matches_the_detector_statistics() -> None:
    a = simulate("traffic", frames=200, seed=3)
    b = simulate("traffic", frames=200, seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(a.detections, b.detections, strict=True))
    objects = sum(len(g) for g in a.gt)
    dets = np.vstack([d for d in a.detections if len(d)])
    false = dets[dets[:, 4] < 0.5]
    assert 0.3 * 200 < len(false) < 1.0 * 200  # about 0.5 false boxes per frame (some >= 0.5)
    assert dets[:, 4].min() >= 0.35 and dets[:, 4].max() <= 1.0
    found = len(dets) - 0.5 * 200
    assert 0.6 * objects < found < 0.86 * objects  # 15% missed plus the occluded ones


def test_simulated_pedestrians_cross_leave_and_come_back() -> None:
    scene = simulate("pedestrian", frames=400, seed=0)
    seen: dict[int, list[int]] = {}
    for i, g in enumerate(scene.gt):
        for tid in g[:, 0].astype(int):
            seen.setdefault(tid, []).append(i)
    gaps = [np.diff(f).max() for f in seen.values() if len(f) > 1]
    assert max(gaps) > 15  # someone left the picture and came back
    assert len(seen) >= 10
    assert scene.gt_mot().startswith("1,") or scene.gt_mot().count("\n") > 100
    with pytest.raises(ValueError, match="unknown scene"):
        simulate("aerial")
