"""``download --ray``: the same files and catalog rows as the local executor; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cluster.conftest import RayCluster
from tests.cluster.helpers import rows, tree
from tests.download.helpers import fast_settings, study_row, write_manifest
from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes
from typer.testing import CliRunner

from vigie.catalog import Catalog
from vigie.cli import app
from vigie.download import download

N = 30


def _manifest(server: FaultServer, path: Path) -> Path:
    entries = []
    for i in range(N):
        body = jpeg_bytes(64, 48, seed=i)
        if i % 7 == 3:
            replies = [Reply(status=404)]
        elif i % 7 == 5:
            replies = [Reply(status=503), Reply(body=body)]
        else:
            replies = [Reply(body=body)]
        url = server.route(f"/m/{i}.jpg", *replies)
        entries.append(study_row(url, f"53_P{i}_1.jpg"))
    return write_manifest(path, entries)


def _run(root: Path, manifest: Path, ray: str | None) -> tuple[dict[str, bytes], list[object]]:
    settings = fast_settings(root, ray={"address": ray, "shard_size": 4})
    catalog = Catalog.from_settings(settings)
    try:
        result = download(
            study=53, manifest=manifest, out=root / "out", settings=settings, catalog=catalog,
            purpose="media_analysis",
        )  # fmt: skip
        assert result.total == N and result.done + result.failed == N
        return tree(root / "out", ("errors_53.log", "errors_53.jsonl")), rows(catalog, "study:53:")
    finally:
        catalog.close()


def test_download_on_ray_gives_the_same_files_and_rows_as_locally(
    ray_cluster: RayCluster, fault_server: FaultServer, tmp_path: Path
) -> None:
    manifest = _manifest(fault_server, tmp_path / "m.jsonl")
    local = _run(tmp_path / "local", manifest, None)
    fault_server.routes.clear()
    manifest = _manifest(fault_server, tmp_path / "m.jsonl")  # scripts replayed
    on_ray = _run(tmp_path / "ray", manifest, ray_cluster.address)
    assert on_ray[0] == local[0]  # files, failure logs included
    assert on_ray[1] == local[1]
    assert len([r for r in local[1] if r[2] == "failed"]) == len(range(3, N, 7))


def test_download_cli_takes_ray_and_reruns_skip_what_is_done(
    ray_cluster: RayCluster, fault_server: FaultServer, tmp_path: Path
) -> None:
    urls = [
        fault_server.route(f"/u/{i}.jpg", Reply(body=jpeg_bytes(64, 48, seed=i))) for i in range(6)
    ]
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join(urls) + "\n")
    ws, out = tmp_path / "ws", tmp_path / "out"
    args = ["--workspace", str(ws), "download", "--urls", str(listing), "--out", str(out),
            "--allow-private-networks", "--ray", ray_cluster.address]  # fmt: skip
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert len(list(out.rglob("*.jpg"))) == 6
    hits = len(fault_server.requests)
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert len(fault_server.requests) == hits  # nothing fetched twice


def test_a_malformed_or_unreachable_address_is_one_clear_line(tmp_path: Path) -> None:
    from vigie.cluster import parse_address

    assert parse_address("ray://10.0.0.5:10001")[1:] == ("10.0.0.5", 10001)
    assert parse_address("auto") == ("auto", None, None)
    result = CliRunner().invoke(
        app, ["--workspace", str(tmp_path), "download", "--urls", __file__, "--ray", "nohost"]
    )
    assert result.exit_code == 1
    assert "is not a Ray address" in result.output and "Traceback" not in result.output


def test_a_path_the_workers_cannot_see_is_a_clear_error(ray_cluster: RayCluster) -> None:
    from vigie.cluster import check_visible
    from vigie.errors import ConfigError

    assert check_visible([Path(__file__)]) == 2  # both nodes see the repository
    with pytest.raises(ConfigError, match="cannot see /nonexistent/vigie-input"):
        check_visible([Path("/nonexistent/vigie-input")])


def test_an_address_where_no_cluster_answers_is_one_clear_line(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    proc = subprocess.run(
        [sys.executable, "-m", "vigie", "--workspace", str(tmp_path), "download", "--urls",
         __file__, "--ray", f"127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert f"no Ray cluster answers at 127.0.0.1:{port}" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
