"""Per-track records, counts and counting-line crossings."""

from __future__ import annotations

import csv
import io

import numpy as np

from vigie.track import line_crossings, summarise
from vigie.track.pipeline.records import CSV_FIELDS, counts_per_class, records_csv

NAMES = {0: "Car", 1: "Truck"}


def frames_of(rows_per_frame: list[list[list[float]]]) -> list[np.ndarray]:
    return [np.array(r, dtype=float).reshape(-1, 7) for r in rows_per_frame]


def test_summarise_votes_the_class_and_keeps_the_most_confident_box() -> None:
    per_frame = frames_of(
        [
            [[0, 0, 10, 10, 1, 0.5, 0]],
            [[2, 0, 12, 10, 1, 0.9, 1]],
            [[4, 0, 14, 10, 1, 0.6, 1]],
            [[6, 0, 16, 10, 1, 0.7, 1]],
        ]
    )
    (rec,) = summarise(per_frame, [0, 2, 4, 6], [0.0, 0.2, 0.4, 0.6], NAMES, (100, 100))
    assert rec.class_name == "Truck" and rec.class_id == 1
    assert rec.max_confidence == 0.9
    assert rec.mean_confidence == round((0.5 + 0.9 + 0.6 + 0.7) / 4, 4)
    assert rec.best_box == (2.0, 0.0, 12.0, 10.0)
    assert (rec.first_frame, rec.last_frame, rec.frames_seen) == (0, 6, 4)
    assert (rec.first_time, rec.last_time) == (0.0, 0.6)
    assert rec.area == 100.0 and rec.area_percentage == 1.0 and rec.size == "medium"


def test_summarise_drops_short_tracks_and_tracks_never_confident() -> None:
    per_frame = frames_of(
        [
            [[0, 0, 10, 10, 1, 0.9, 0], [50, 50, 60, 60, 2, 0.3, 0], [20, 20, 30, 30, 3, 0.9, 0]],
            [[0, 0, 10, 10, 1, 0.9, 0], [50, 50, 60, 60, 2, 0.34, 0]],
            [[0, 0, 10, 10, 1, 0.9, 0], [50, 50, 60, 60, 2, 0.3, 0]],
        ]
    )
    recs = summarise(per_frame, [0, 1, 2], [0, 0.1, 0.2], NAMES, (100, 100), 3, 0.35)
    assert [r.track_id for r in recs] == [1]
    assert counts_per_class(recs) == {"Car": 1}


def test_csv_has_one_row_per_track_with_the_derived_fields() -> None:
    per_frame = frames_of([[[0, 0, 10, 10, 4, 0.8, 0]]] * 3)
    recs = summarise(per_frame, [0, 1, 2], [0, 0.1, 0.2], NAMES, (100, 100))
    rows = list(csv.DictReader(io.StringIO(records_csv(recs))))
    assert tuple(rows[0]) == CSV_FIELDS
    assert rows[0]["size"] == "medium" and rows[0]["track_id"] == "4"


def test_line_crossings_count_each_direction_per_class_once() -> None:
    # a vertical line x=50 drawn top to bottom; its left-hand side (looking down) is x > 50
    line = (50.0, 0.0, 50.0, 100.0)
    xs = [10, 30, 49, 51, 49.5, 52, 70, 90]  # jitter on the line counts once
    car = [[[x - 5, 40, x + 5, 50, 1, 0.9, 0]] for x in xs]
    truck = [[[x - 5, 60, x + 5, 70, 2, 0.9, 1]] for x in reversed(xs)]
    per_frame = frames_of([a + b for a, b in zip(car, truck, strict=True)])
    crossings = line_crossings(per_frame, line, NAMES)
    assert crossings == {"Car": {"in": 1, "out": 0}, "Truck": {"in": 0, "out": 1}}


def test_line_crossings_ignore_paths_that_pass_beside_a_short_line() -> None:
    line = (50.0, 0.0, 50.0, 20.0)
    per_frame = frames_of([[[x - 5, 60, x + 5, 70, 1, 0.9, 0]] for x in (10, 40, 60, 90)])
    assert line_crossings(per_frame, line, NAMES) == {}
