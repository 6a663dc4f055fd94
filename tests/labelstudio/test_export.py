"""The export reader on Label Studio 1.23's real JSON and JSON_MIN exports, and on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vigie.errors import SourceError
from vigie.labelstudio.export import (
    AnnotatedTask,
    assign_names,
    choose_annotation,
    image_name,
    load_export_text,
    parse_export,
    percent_to_yolo,
    ref_basename,
    yolo_text,
)
from vigie.labelstudio.project import label_config_xml, parse_label_config

LABELS = ["Car", "Pedestrian", "Truck", "Scooter", "Motorbike", "Bus", "Bicycle", "Motor Scooter"]


def _load(shared_dir: Path, name: str) -> list:
    return json.loads((shared_dir / "fixtures" / name).read_text())


def test_json_export_keeps_annotated_tasks_and_excludes_cancelled(shared_dir: Path) -> None:
    parsed = parse_export(_load(shared_dir, "labelstudio-1.23-export.json"), LABELS)
    assert [t.task_id for t in parsed.tasks] == [2, 3, 5]
    assert parsed.cancelled == 1
    assert parsed.malformed == []
    first = parsed.tasks[0]
    assert first.file_upload == "6c9832a9-20250312100000.jpg"
    assert (first.width, first.height) == (1280, 720)
    assert yolo_text(first, LABELS).splitlines()[0] == "0 0.165000 0.242500 0.120000 0.080000"


def test_json_min_export_gives_the_same_boxes_as_json(shared_dir: Path) -> None:
    full = parse_export(_load(shared_dir, "labelstudio-1.23-export.json"), LABELS)
    mini = parse_export(_load(shared_dir, "labelstudio-1.23-export-min.json"), LABELS)
    assert [t.task_id for t in mini.tasks] == [t.task_id for t in full.tasks]
    for a, b in zip(full.tasks, mini.tasks, strict=True):
        assert yolo_text(a, LABELS) == yolo_text(b, LABELS)
        assert a.image_ref == b.image_ref


def test_export_names_strip_upload_prefix_and_take_local_files_basename(shared_dir: Path) -> None:
    parsed = parse_export(_load(shared_dir, "labelstudio-1.23-export.json"), LABELS)
    names = assign_names(parsed.tasks)
    assert names == {2: "20250312100000.jpg", 3: "20250312101000.jpg", 5: "00002.jpg"}


def test_ground_truth_annotation_wins_over_a_later_one() -> None:
    anns = [
        {"id": 1, "updated_at": "2026-01-02", "ground_truth": True, "result": []},
        {"id": 2, "updated_at": "2026-01-03", "result": []},
    ]
    assert choose_annotation(anns)["id"] == 1  # type: ignore[index]


def test_latest_non_cancelled_annotation_is_chosen() -> None:
    anns = [
        {"id": 1, "updated_at": "2026-01-02", "result": []},
        {"id": 2, "updated_at": "2026-01-04", "was_cancelled": True, "result": []},
        {"id": 3, "updated_at": "2026-01-03", "result": []},
    ]
    assert choose_annotation(anns)["id"] == 3  # type: ignore[index]


def test_malformed_items_are_reported_and_skipped_not_dropped_silently() -> None:
    good = {
        "id": 9,
        "data": {"image": "/data/upload/1/aaaaaaaa-x.jpg"},
        "annotations": [{"id": 1, "result": []}],
    }
    items = [
        "not an object",
        {"id": 1, "annotations": [{"id": 1, "result": []}]},  # no data
        {
            "id": 2,
            "data": {"image": "a.jpg"},
            "annotations": [
                {
                    "id": 1,
                    "result": [
                        {
                            "type": "rectanglelabels",
                            "value": {
                                "x": "a",
                                "y": 0,
                                "width": 1,
                                "height": 1,
                                "rectanglelabels": ["Car"],
                            },
                        }
                    ],
                }
            ],
        },
        {
            "id": 3,
            "data": {"image": "b.jpg"},
            "annotations": [
                {
                    "id": 1,
                    "result": [
                        {
                            "type": "rectanglelabels",
                            "value": {
                                "x": 1,
                                "y": 0,
                                "width": 1,
                                "height": 1,
                                "rectanglelabels": ["Tank"],
                            },
                        }
                    ],
                }
            ],
        },
        good,
    ]
    parsed = parse_export(items, LABELS)
    assert [t.task_id for t in parsed.tasks] == [9]
    assert parsed.tasks[0].boxes == ()  # annotated with no box: a negative image
    reasons = dict(parsed.malformed)
    assert set(reasons) == {"item #0", "task 1", "task 2", "task 3"}
    assert "Tank" in reasons["task 3"]


def test_export_that_is_not_a_list_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="not a list"):
        load_export_text('{"tasks": []}')
    with pytest.raises(SourceError, match="not valid JSON"):
        load_export_text("[{")


def test_box_out_of_image_is_clipped_and_rotation_gives_bounding_box() -> None:
    box, clipped = percent_to_yolo("Car", 95, 95, 10, 10)
    assert clipped and box is not None
    assert (round(box.w, 6), round(box.h, 6)) == (0.05, 0.05)
    rot, _ = percent_to_yolo("Car", 50, 50, 10, 10, rotation=90, size=(100, 100))
    assert rot is not None
    assert (round(rot.cx, 6), round(rot.cy, 6), round(rot.w, 6)) == (0.45, 0.55, 0.1)
    gone, _ = percent_to_yolo("Car", 120, 10, 5, 5)
    assert gone is None


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        ("/data/upload/2/6c9832a9-cam.jpg", "6c9832a9-cam.jpg"),
        ("/storage-data/uploaded/?filepath=upload/2/cam%201.jpg", "cam 1.jpg"),
        ("/data/local-files/?d=cam/00002.jpg", "00002.jpg"),
        ("https://example.org/a/b/c.png?sig=1", "c.png"),
        ("s3://bucket/dir/d.jpg", "d.jpg"),
    ],
)
def test_ref_basename_handles_every_url_form(ref: str, name: str) -> None:
    assert ref_basename(ref) == name


def test_image_name_never_escapes_the_folder() -> None:
    task = AnnotatedTask(7, "/data/local-files/?d=../../etc/passwd", None, ())
    assert image_name(task) == "passwd"
    dots = AnnotatedTask(8, "/data/local-files/?d=..", None, ())
    assert image_name(dots) == "task8.jpg"


def test_label_config_round_trips_labels_in_order() -> None:
    xml = label_config_xml(LABELS)
    cfg = parse_label_config(xml)
    assert cfg.labels == LABELS
    assert (cfg.image_field, cfg.from_name, cfg.to_name) == ("image", "label", "image")
