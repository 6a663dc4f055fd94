"""``detect --ray`` (actor pool) and ``track --ray`` (one video per task): the same files,
catalog rows and study-DB rows as on this machine."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from tests.cluster.conftest import RayCluster
from tests.cluster.helpers import rows, tree
from tests.detect.conftest import write_scene
from tests.fixtures.media import write_video
from typer.testing import CliRunner

from vigie.catalog import Catalog
from vigie.cli import app
from vigie.config import load_settings
from vigie.studydb import create_schema

ROW_FIELDS = ("key", "kind", "status", "filename", "width", "height", "error_class")


def _study_rows(url: str, table: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(text(f"SELECT * FROM {table}")).mappings().all()
    finally:
        engine.dispose()
    return sorted(tuple((k, v) for k, v in sorted(r.items()) if k != "id") for r in found)


def _frames(video: Path) -> tuple[int, int, int]:
    """Frame count and size of an MP4."""
    import av

    with av.open(str(video)) as container:
        frames = [f for f in container.decode(video=0)]
    return len(frames), frames[0].width, frames[0].height


def _invoke(root: Path, args: list[str], ray: str | None, exit_code: int) -> dict[str, Any]:
    url = f"sqlite:///{root / 'study.db'}"
    root.mkdir(parents=True)
    create_schema(create_engine(url))
    result = CliRunner().invoke(
        app,
        ["--workspace", str(root), *args, "--out", str(root / "out"), "--db", url]
        + (["--ray", ray] if ray else []),
    )
    assert result.exit_code == exit_code, result.output
    catalog = Catalog.from_settings(load_settings(workspace=root))
    try:
        files = {k: v.replace(str(root).encode(), b"ROOT") for k, v in tree(root / "out").items()}
        return {"files": files, "rows": rows(catalog, fields=ROW_FIELDS), "url": url}
    finally:
        catalog.close()


def test_detect_on_ray_gives_the_same_outputs_and_rows_as_locally(
    ray_cluster: RayCluster, tiny_model: Path, tmp_path: Path
) -> None:
    images = tmp_path / "images"
    for i in range(9):
        write_scene(images / f"53_IG{i}_1.jpg", seed=i)
    (images / "broken.jpg").write_bytes(b"\xff\xd8 half a jpeg")
    args = ["detect", str(images), "-m", str(tiny_model), "--conf", "0.05", "--imgsz", "160",
            "--csv", "--batch", "2"]  # fmt: skip
    local = _invoke(tmp_path / "local", args, None, 3)
    on_ray = _invoke(tmp_path / "ray", args, ray_cluster.address, 3)
    assert on_ray["files"] == local["files"]
    assert on_ray["rows"] == local["rows"]
    assert sum(name.endswith(".json") for name in local["files"]) == 9
    study = _study_rows(local["url"], "yolo_image_detection")
    assert study and _study_rows(on_ray["url"], "yolo_image_detection") == study


def test_track_on_ray_gives_the_same_outputs_and_rows_as_locally(
    ray_cluster: RayCluster, tiny_model: Path, tmp_path: Path
) -> None:
    videos = tmp_path / "videos"
    for i in range(2):
        write_video(videos / f"53_V{i}_1.mp4", frames=12 + 4 * i)
    (videos / "broken.mp4").write_bytes(b"not a video")
    shutil.copy(tiny_model, tmp_path / "model.pt")
    args = ["track", str(videos), "-m", str(tmp_path / "model.pt"), "--conf", "0.05",
            "--imgsz", "160", "--min-frames", "1", "--tracker", "sort"]  # fmt: skip
    local = _invoke(tmp_path / "local", args, None, 3)
    on_ray = _invoke(tmp_path / "ray", args, ray_cluster.address, 3)
    assert on_ray["files"].keys() == local["files"].keys()
    for name, data in local["files"].items():
        if name.endswith(".mp4"):  # x264's bytes vary with its threads: compare the frames
            assert _frames(tmp_path / "ray" / "out" / name) == _frames(
                tmp_path / "local" / "out" / name
            )
        else:
            assert on_ray["files"][name] == data, name
    assert on_ray["rows"] == local["rows"]
    assert sum(name.endswith(".tracks.json") for name in local["files"]) == 2
    assert _study_rows(on_ray["url"], "yolo_video_detection") == _study_rows(
        local["url"], "yolo_video_detection"
    )
