"""Tracking quality on simulated scenes, checked against a checked-in baseline.

Regenerate the baseline after a deliberate change with:
    .venv/bin/python -m tests.track.test_quality
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from vigie.track import evaluate_frames, make_tracker, simulate

BASELINE = Path(__file__).with_name("baseline_metrics.json")
SCENES = (("pedestrian", 0), ("traffic", 0))
TRACKERS = ("vigie", "sort", "bytetrack", "botsort", "ocsort")
FRAMES = 300
TOLERANCE = 0.02
KEYS = ("mota", "idf1", "hota")


@cache
def scene_metrics(kind: str, seed: int, name: str) -> dict[str, float]:
    scene = simulate(kind, frames=FRAMES, seed=seed)
    params = {"image_size": (scene.width, scene.height)} if name == "vigie" else {}
    tracker = make_tracker(name, **params)
    for dets in scene.detections:
        tracker.update(dets)
    frames = tracker.finish()
    m = evaluate_frames(scene.gt_mot(), ((i + 1, t) for i, t in enumerate(frames)))
    return {k: round(m[k], 4) for k in KEYS}


@pytest.mark.parametrize("name", TRACKERS)
@pytest.mark.parametrize(("kind", "seed"), SCENES)
def test_tracker_accuracy_matches_checked_in_baseline(kind: str, seed: int, name: str) -> None:
    expected = json.loads(BASELINE.read_text())[f"{kind}-{seed}"][name]
    got = scene_metrics(kind, seed, name)
    for key in KEYS:
        assert got[key] == pytest.approx(expected[key], abs=TOLERANCE), (key, got, expected)


@pytest.mark.parametrize(("kind", "seed"), SCENES)
def test_vigie_beats_every_ultralytics_tracker_on_mota_and_idf1(kind: str, seed: int) -> None:
    ours = scene_metrics(kind, seed, "vigie")
    for name in ("bytetrack", "botsort", "ocsort"):
        theirs = scene_metrics(kind, seed, name)
        assert ours["mota"] > theirs["mota"] + 0.05, (name, ours, theirs)
        assert ours["idf1"] > theirs["idf1"], (name, ours, theirs)


@pytest.mark.parametrize(("kind", "seed"), SCENES)
def test_plain_sort_is_well_behind_bytetrack_on_noisy_detections(kind: str, seed: int) -> None:
    assert (
        scene_metrics(kind, seed, "sort")["mota"]
        < scene_metrics(kind, seed, "bytetrack")["mota"] - 0.08
    )


def _write_baseline() -> None:
    data = {
        f"{kind}-{seed}": {name: scene_metrics(kind, seed, name) for name in TRACKERS}
        for kind, seed in SCENES
    }
    BASELINE.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps(data, indent=2))


if __name__ == "__main__":
    _write_baseline()
