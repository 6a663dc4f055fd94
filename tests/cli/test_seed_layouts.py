"""The seeds' folder layouts keep working (README "The seeds' layouts")."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes
from vigie.cli import app

runner = CliRunner()


def test_capture_without_camera_folders_writes_the_seeds_images_folder(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    url = fault_server.route(
        "/cam.jpg", Reply(body=jpeg_bytes(seed=1)), Reply(body=jpeg_bytes(seed=2))
    )
    res = runner.invoke(
        app,
        ["-w", str(tmp_path), "capture", "--url", url, "--every", "0.05", "--count", "2",
         "--out", "images", "--no-camera-folders"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    kept = sorted((tmp_path / "images").iterdir())
    assert len(kept) == 2 and all(p.is_file() and p.suffix == ".jpg" for p in kept)
    two = runner.invoke(
        app,
        ["-w", str(tmp_path), "capture", "--url", url, "--url", url + "?b", "--count", "1",
         "--out", "images", "--no-camera-folders"],
    )  # fmt: skip
    assert two.exit_code == 1 and "no camera folders" in two.output


def _local_files_export(path: Path, names: list[str]) -> Path:
    box = {"x": 10, "y": 10, "width": 30, "height": 30, "rotation": 0, "rectanglelabels": ["Car"]}
    tasks = [
        {
            "id": i + 1,
            "data": {"image": f"/data/local-files/?d=cam/{name}"},
            "annotations": [
                {
                    "id": i + 1,
                    "was_cancelled": False,
                    "result": [
                        {"from_name": "label", "to_name": "image", "type": "rectanglelabels",
                         "original_width": 320, "original_height": 240, "value": box}
                    ],
                }
            ],
        }
        for i, name in enumerate(names)
    ]  # fmt: skip
    path.write_text(json.dumps(tasks))
    return path


def test_ls_pull_into_the_seeds_images_labels_folder(tmp_path: Path) -> None:
    root = tmp_path / "served"
    (root / "cam").mkdir(parents=True)
    names = ["00001.jpg", "00002.jpg"]
    for i, name in enumerate(names):
        (root / "cam" / name).write_bytes(jpeg_bytes(seed=i))
    export = _local_files_export(tmp_path / "export.json", names)
    args = ["-w", str(tmp_path), "ls", "pull", "--export", str(export), "--out", "images_labels",
            "--images-dir", ".", "--document-root", str(root)]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    target = tmp_path / "images_labels"  # the output rule: in the workspace
    assert sorted(p.name for p in target.glob("*.jpg")) == names  # straight in images_labels/
    assert sorted(p.name for p in (target / "labels").iterdir()) == ["00001.txt", "00002.txt"]
    written = {p.name: p.stat().st_mtime_ns for p in target.glob("*.jpg")}
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert {p.name: p.stat().st_mtime_ns for p in target.glob("*.jpg")} == written  # kept as is
