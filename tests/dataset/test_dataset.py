"""dataset build (group-aware split, data.yaml) and dataset check, API and CLI."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from tests.fixtures.media import scene_array
from vigie.cli import app
from vigie.dataset import build_dataset, check_dataset, video_of_name
from vigie.errors import DatasetError

runner = CliRunner()
NAMES = ["Car", "Pedestrian", "Bus"]


def _jpeg(path: Path, seed: int, quality: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.fromarray(scene_array(96, 72, seed)).save(buf, "JPEG", quality=quality)
    path.write_bytes(buf.getvalue())
    return path


def _pulled(root: Path, n_unique: int = 12) -> Path:
    """A pulled folder: unique scenes, near-duplicate pairs, frames of two videos."""
    (root / "labels").mkdir(parents=True)
    (root / "classes.txt").write_text("\n".join(NAMES) + "\n")
    stems = []
    for i in range(n_unique):
        _jpeg(root / "images" / f"cam_{i:03d}.jpg", seed=100 + i)
        stems.append(f"cam_{i:03d}")
    for i in range(3):  # the same scene re-encoded: a near-duplicate
        _jpeg(root / "images" / f"dup_{i}.jpg", seed=100 + i, quality=60)
        stems.append(f"dup_{i}")
    for video in ("clipA", "clipB"):
        for f in range(3):
            _jpeg(
                root / "images" / f"{video}_every_f{f:06d}_{f / 10:.3f}s.jpg",
                seed=500 + f * 7 + len(video),
            )
            stems.append(f"{video}_every_f{f:06d}_{f / 10:.3f}s")
    for s in stems:
        (root / "labels" / f"{s}.txt").write_text("0 0.5 0.5 0.2 0.2\n2 0.25 0.25 0.1 0.1\n")
    _jpeg(root / "images" / "unlabelled.jpg", seed=999)
    return root


def _sides(out: Path) -> dict[str, str]:
    with (out / "split.csv").open() as fh:
        return {r["file"]: r["split"] for r in csv.DictReader(fh)}


def test_build_keeps_near_duplicates_and_video_frames_on_one_side(tmp_path: Path) -> None:
    src = _pulled(tmp_path / "pulled")
    for seed in range(6):
        out = tmp_path / f"ds{seed}"
        res = build_dataset(src, out, val_fraction=0.3, seed=seed)
        sides = _sides(out)
        assert res.train + res.val == 21 and res.val > 0 and res.train > 0
        for i in range(3):
            assert sides[f"cam_{i:03d}.jpg"] == sides[f"dup_{i}.jpg"]
        for video in ("clipA", "clipB"):
            assert len({v for k, v in sides.items() if k.startswith(video)}) == 1
        assert res.unlabelled == ["unlabelled.jpg"]


def test_build_is_deterministic_by_seed_and_writes_data_yaml_in_label_order(tmp_path: Path) -> None:
    src = _pulled(tmp_path / "pulled")
    a = build_dataset(src, tmp_path / "a", seed=3)
    build_dataset(src, tmp_path / "b", seed=3)
    assert _sides(tmp_path / "a") == _sides(tmp_path / "b")
    data = yaml.safe_load(a.data_yaml.read_text())
    assert data["names"] == {0: "Car", 1: "Pedestrian", 2: "Bus"}
    assert data["train"] == "images/train" and data["val"] == "images/val"
    assert len(list((tmp_path / "a" / "images" / "val").iterdir())) == a.val
    assert len(list((tmp_path / "a" / "labels" / "train").iterdir())) == a.train


def test_build_groups_frames_by_catalog_parent_and_by_manifest(
    tmp_path: Path, workspace: Any
) -> None:
    src = tmp_path / "pulled"
    (src / "labels").mkdir(parents=True)
    (src / "classes.txt").write_text("Car\n")
    cat = workspace.catalog
    video_id = cat.upsert_item(key="video:v1", kind="video", status="done")
    for i in range(8):
        p = _jpeg(src / "images" / f"x{i}.jpg", seed=300 + i * 11)
        (src / "labels" / f"x{i}.txt").write_text("0 0.5 0.5 0.1 0.1\n")
        if i < 4:  # these four came from the same video
            cat.upsert_item(
                key=f"frame:{i}",
                kind="frame",
                status="done",
                parent_id=video_id,
                sha256=hashlib.sha256(p.read_bytes()).hexdigest(),
            )
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,video\nx4.jpg,other.mp4\nx5.jpg,other.mp4\n")
    for seed in range(5):
        build_dataset(
            src,
            tmp_path / f"o{seed}",
            seed=seed,
            val_fraction=0.4,
            dedup_threshold=-1,
            catalog=cat,
            frame_manifests=[manifest],
        )
        sides = _sides(tmp_path / f"o{seed}")
        assert len({sides[f"x{i}.jpg"] for i in range(4)}) == 1
        assert sides["x4.jpg"] == sides["x5.jpg"]


def test_video_of_name_reads_frame_file_names() -> None:
    assert video_of_name("clip_every_f000012_1.200s") == "clip"
    assert video_of_name("street cam_f0042") == "street cam"
    assert video_of_name("20250312100000") is None
    assert video_of_name("CWL9018_20250312100000") is None


def test_check_reports_every_kind_of_problem(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    for split in ("train", "val"):
        (root / "labels" / split).mkdir(parents=True)
    (root / "data.yaml").write_text(yaml.safe_dump({"names": {0: "Car", 1: "Bus"}}))
    _jpeg(root / "images" / "train" / "ok.jpg", 1)
    (root / "labels" / "train" / "ok.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n")
    _jpeg(root / "images" / "train" / "nolabel.jpg", 2)
    (root / "labels" / "train" / "noimage.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    _jpeg(root / "images" / "val" / "empty.jpg", 3)
    (root / "labels" / "val" / "empty.txt").write_text("")
    _jpeg(root / "images" / "val" / "bad.jpg", 4)
    (root / "labels" / "val" / "bad.txt").write_text(
        "0 0.95 0.5 0.2 0.2\nfoo bar\n7 0.5 0.5 0.1 0.1\n"
    )
    report = check_dataset(root)
    assert report.count("image without label") == 1
    assert report.count("label without image") == 1
    assert report.count("empty label") == 1
    assert report.count("box out of bounds") == 1
    assert report.count("malformed") == 1
    assert report.count("unknown class") == 1
    assert report.class_counts["train"] == {0: 2, 1: 1}
    assert report.images == {"train": 2, "val": 2}
    res = runner.invoke(app, ["dataset", "check", str(root)])
    assert res.exit_code == 1 and "image without label" in res.output
    assert runner.invoke(app, ["dataset", "check", str(root), "--warn-only"]).exit_code == 0


def test_check_passes_a_built_dataset_and_cli_build_prints_a_summary(tmp_path: Path) -> None:
    src = _pulled(tmp_path / "pulled")
    res = runner.invoke(
        app,
        [
            "-w",
            str(tmp_path / "ws"),
            "dataset",
            "build",
            str(src),
            "--out",
            str(tmp_path / "ds"),
            "--val",
            "0.25",
            "--seed",
            "1",
            "--hash",
            "phash",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "data.yaml" in res.output
    ok = runner.invoke(app, ["dataset", "check", str(tmp_path / "ds")])
    assert ok.exit_code == 0, ok.output
    assert "0 errors" in ok.output
    flat = runner.invoke(app, ["dataset", "check", str(src)])
    assert flat.exit_code == 1  # the unlabelled image of the pulled folder


def test_build_without_labels_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty" / "labels").mkdir(parents=True)
    (tmp_path / "empty" / "classes.txt").write_text("Car\n")
    with pytest.raises(DatasetError, match="no labelled image"):
        build_dataset(tmp_path / "empty", tmp_path / "out")
    res = runner.invoke(
        app, ["dataset", "build", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 1 and "error:" in res.output
