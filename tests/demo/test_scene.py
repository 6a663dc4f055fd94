"""The synthetic street scene: deterministic pixels and ground truth, video and snapshots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vigie.demo import CLASSES, Scene, mot_lines, render_video, write_snapshots, yolo_label_lines


def test_scene_is_deterministic_by_seed() -> None:
    a, b, c = Scene(seed=4), Scene(seed=4), Scene(seed=5)
    assert np.array_equal(a.render(37), b.render(37))
    assert a.boxes(37) == b.boxes(37)
    assert not np.array_equal(a.render(37), c.render(37))


def test_scene_shows_every_class_on_a_busy_street() -> None:
    scene = Scene(seed=0)
    seen = {b.class_name for f in range(0, 600, 10) for b in scene.boxes(f)}
    assert seen == set(CLASSES)
    assert all(len(scene.boxes(f)) >= 3 for f in range(0, 600, 50))
    counts = scene.class_counts(600)
    assert set(counts) == set(CLASSES) and list(counts.values()) == sorted(counts.values())[::-1]


def test_ground_truth_boxes_lie_in_the_frame_and_cover_drawn_objects() -> None:
    scene = Scene(seed=2)
    img, bg = scene.render(120).astype(int), scene.background.astype(int)
    boxes = scene.boxes(120)
    assert boxes
    for b in boxes:
        assert 0 <= b.x1 < b.x2 <= scene.width and 0 <= b.y1 < b.y2 <= scene.height
        patch = np.abs(
            img[int(b.y1) : int(b.y2), int(b.x1) : int(b.x2)]
            - bg[int(b.y1) : int(b.y2), int(b.x1) : int(b.x2)]
        )
        assert patch.sum(axis=-1).max() > 60  # something was drawn inside every box


def test_object_ids_are_stable_while_objects_move() -> None:
    scene = Scene(seed=1)
    first = {b.object_id: b for b in scene.boxes(50)}
    second = {b.object_id: b for b in scene.boxes(51)}
    common = set(first) & set(second)
    assert len(common) >= 3
    assert any(first[i].x1 != second[i].x1 for i in common)
    assert all(first[i].class_name == second[i].class_name for i in common)


def test_yolo_labels_are_normalised_class_centre_size() -> None:
    scene = Scene(seed=0)
    lines = yolo_label_lines(scene, 10)
    assert len(lines) == len(scene.boxes(10))
    for line in lines:
        cls, *vals = line.split()
        assert 0 <= int(cls) < len(CLASSES)
        assert all(0.0 <= float(v) <= 1.0 for v in vals)


def test_render_video_writes_h264_and_mot_ground_truth(tmp_path: Path) -> None:
    import av

    scene = Scene(seed=0, width=160, height=120)
    path = render_video(scene, tmp_path / "street.mp4", frames=20, start=5)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(decoded) == 20 and decoded[0].shape == (120, 160, 3)
    assert np.abs(decoded[3].astype(int) - scene.render(8).astype(int)).mean() < 12
    gt = (tmp_path / "street.gt.txt").read_text().splitlines()
    assert gt == mot_lines(scene, range(5, 25))
    frames = {int(line.split(",")[0]) for line in gt}
    assert frames <= set(range(1, 21)) and 1 in frames
    assert not list(tmp_path.glob("*.part"))


def test_write_snapshots_writes_jpegs_with_label_files(tmp_path: Path) -> None:
    scene = Scene(seed=3)
    paths = write_snapshots(scene, tmp_path / "shots", [0, 30])
    assert [p.name for p in paths] == ["street_000000.jpg", "street_000030.jpg"]
    assert paths[0].read_bytes()[:2] == b"\xff\xd8"
    assert paths[1].with_suffix(".txt").read_text().splitlines() == yolo_label_lines(scene, 30)


def test_scene_refuses_odd_sizes() -> None:
    with pytest.raises(ValueError):
        Scene(width=321)
