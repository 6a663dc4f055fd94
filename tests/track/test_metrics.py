"""MOT text and the HOTA / MOTA / IDF1 evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from vigie.errors import SourceError
from vigie.track import evaluate, format_mot, parse_mot


def mot(rows: list[tuple[int, int, float]]) -> str:
    """(frame, id, x) rows of 20x20 boxes at y=10."""
    return "".join(f"{f},{i},{x},10,20,20,1,0,1\n" for f, i, x in rows)


GT = mot([(f, 1, 10 * f) for f in range(1, 5)] + [(f, 2, 200) for f in range(1, 5)])


def test_perfect_tracks_score_one_everywhere() -> None:
    m = evaluate(GT, GT)
    assert m["mota"] == pytest.approx(1.0)
    assert m["idf1"] == pytest.approx(1.0)
    assert m["hota"] == pytest.approx(1.0)
    assert m["num_switches"] == 0


def test_an_identity_switch_costs_idf1_and_hota_but_not_detections() -> None:
    pred = mot(
        [(f, 7, 10 * f) for f in (1, 2)]
        + [(f, 8, 10 * f) for f in (3, 4)]
        + [(f, 2, 200) for f in range(1, 5)]
    )
    m = evaluate(GT, pred)
    assert m["num_switches"] == 1
    assert m["mota"] == pytest.approx(1 - 1 / 8)
    assert m["idf1"] == pytest.approx(0.75)
    assert m["deta"] == pytest.approx(1.0)
    # object 1: two pred ids, 2 matches each -> A = 2/(4+2-2) = 0.5 on 4 TPs; object 2: A = 1
    assert m["assa"] == pytest.approx((4 * 0.5 + 4 * 1.0) / 8)
    assert m["hota"] == pytest.approx(np.sqrt(0.75))


def test_missed_and_false_boxes_count_against_mota() -> None:
    pred = mot([(f, 1, 10 * f) for f in range(1, 5)] + [(1, 9, 600)])
    m = evaluate(GT, pred)
    assert m["num_misses"] == 4
    assert m["num_false_positives"] == 1
    assert m["mota"] == pytest.approx(1 - 5 / 8)
    empty = evaluate(GT, "")
    assert empty["mota"] == 0.0 and empty["hota"] == 0.0


def test_boxes_under_half_iou_do_not_match() -> None:
    shifted = GT.replace(",10,20,20,", ",21,20,20,")  # shifted down by 11 px: IoU 0.29
    assert evaluate(GT, shifted)["num_misses"] == 8


def test_parse_mot_skips_ignored_ground_truth_and_refuses_garbage() -> None:
    frames = parse_mot("1,1,0,0,10,10,1,1,1\n1,2,50,50,10,10,0,1,1\n", ground_truth=True)
    assert list(frames[1].ids) == [1]
    with pytest.raises(SourceError, match="line 2"):
        parse_mot("1,1,0,0,10,10\nnot,a,line\n")
    with pytest.raises(SourceError, match="no boxes"):
        evaluate("", GT)


def test_format_mot_writes_class_and_confidence() -> None:
    text = format_mot([(3, np.array([[10, 20, 30, 60, 4, 0.875, 2]]))])
    assert text == "3,4,10.00,20.00,20.00,40.00,0.8750,2,-1\n"
    back = parse_mot(text)
    assert back[3].boxes.tolist() == [[10.0, 20.0, 20.0, 40.0]]


def test_hota_matches_trackeval_on_a_simulated_scene() -> None:
    """Reference values computed with TrackEval 1.3.0 (metrics.HOTA / CLEAR / Identity) on the
    same boxes: pedestrian scene, seed 4, 200 frames, tracked by Vigie's SORT."""
    from vigie.track import make_tracker, simulate

    scene = simulate("pedestrian", frames=200, seed=4)
    tracker = make_tracker("sort")
    for dets in scene.detections:
        tracker.update(dets)
    pred = format_mot((i + 1, t) for i, t in enumerate(tracker.finish()))
    m = evaluate(scene.gt_mot(), pred)
    assert m["hota"] == pytest.approx(0.57892, abs=1e-5)
    assert m["deta"] == pytest.approx(0.59042, abs=1e-5)
    assert m["assa"] == pytest.approx(0.56765, abs=1e-5)
    assert m["mota"] == pytest.approx(0.66130, abs=1e-5)
    assert m["idf1"] == pytest.approx(0.76625, abs=1e-5)


def test_hota_comes_from_trackeval_and_the_fallback_port_agrees() -> None:
    """`make install` installs TrackEval (--no-deps); the port is only a fallback."""
    from vigie.track import make_tracker, simulate
    from vigie.track.evaluation.metrics import _trackeval_hota_class, hota_port, trackeval_hota

    assert _trackeval_hota_class() is not None, "TrackEval missing: run `make install`"
    scene = simulate("traffic", frames=120, seed=2)
    tracker = make_tracker("bytetrack")
    for dets in scene.detections:
        tracker.update(dets)
    pred = parse_mot(format_mot((i + 1, t) for i, t in enumerate(tracker.finish())))
    gt = parse_mot(scene.gt_mot(), ground_truth=True)
    official, port = trackeval_hota(gt, pred), hota_port(gt, pred)
    for key in ("hota", "deta", "assa", "loca"):
        assert port[key] == pytest.approx(official[key], abs=1e-9)
