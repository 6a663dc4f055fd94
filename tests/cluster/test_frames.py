"""``frames --ray``: one video per task, the same frame files and catalog rows as locally."""

from __future__ import annotations

from pathlib import Path

from tests.cluster.conftest import RayCluster
from tests.cluster.helpers import rows, tree
from tests.fixtures.media import write_video
from typer.testing import CliRunner

from vigie.catalog import Catalog
from vigie.cli import app
from vigie.config import load_settings

FIELDS = ("key", "kind", "status", "filename", "sha256", "frame_index", "timestamp", "error_class")


def _frames(videos: Path, root: Path, ray: str | None) -> tuple[dict[str, bytes], list[object]]:
    args = ["--workspace", str(root), "frames", str(videos), "--mode", "step", "--value", "7",
            "--out", str(root / "out")]  # fmt: skip
    result = CliRunner().invoke(app, args + (["--ray", ray] if ray else []))
    assert result.exit_code == 3, result.output  # bad.mp4 fails, the others are done
    catalog = Catalog.from_settings(load_settings(workspace=root))
    try:
        files = {
            k: v.replace(str(root).encode(), b"ROOT")  # manifests name the output folder
            for k, v in tree(root / "out").items()
        }
        return files, rows(catalog, fields=FIELDS)
    finally:
        catalog.close()


def test_frames_on_ray_writes_the_same_frames_and_rows_as_locally(
    ray_cluster: RayCluster, tmp_path: Path
) -> None:
    videos = tmp_path / "videos"
    for i in range(3):
        write_video(videos / f"clip{i}.mp4", frames=20 + 5 * i)
    (videos / "bad.mp4").write_bytes(b"not a video at all")
    local = _frames(videos, tmp_path / "local", None)
    on_ray = _frames(videos, tmp_path / "ray", ray_cluster.address)
    assert sum(name.endswith(".jpg") for name in local[0]) == 3 + 4 + 5
    assert on_ray[0] == local[0]
    assert on_ray[1] == local[1]
    assert [r[2] for r in local[1] if r[1] == "video" and r[2] == "failed"] == ["failed"]
