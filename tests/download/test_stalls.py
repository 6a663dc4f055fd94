"""A body that stalls mid-way frees its host slot and is retried; object stores get more slots."""

from __future__ import annotations

from pathlib import Path

from tests.download.helpers import fast_settings, media_files, study_row, write_manifest
from tests.fixtures.common import Workspace
from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes
from vigie.download import download
from vigie.download.fetch import Fetcher, is_object_store

N = 40
STALLED = range(0, N, 8)  # 5 URLs whose first answer stalls mid-body


def _run(server: FaultServer, workspace: Workspace, tmp_path: Path, stall: Reply) -> None:
    bodies = {i: jpeg_bytes(64, 48, seed=i) for i in range(N)}
    rows = []
    for i, body in bodies.items():
        first = Reply(fault=stall.fault, body=body, byte_interval=stall.byte_interval)
        replies = [first, Reply(body=body)] if i in STALLED else [Reply(body=body)]
        rows.append(study_row(server.route(f"/s/{i}.jpg", *replies), f"53_P{i}_1.jpg"))
    manifest = write_manifest(tmp_path / "m.jsonl", rows)
    settings = fast_settings(
        workspace.root, per_host=2, read_timeout=30.0, item_deadline=60.0, retry_budget=120.0,
        stall_timeout=0.5, idle_release=0.2, min_rate=2000,
    )  # fmt: skip
    result = download(
        study=53, manifest=manifest, out=tmp_path / "out", settings=settings,
        catalog=workspace.catalog, purpose="media_analysis",
    )  # fmt: skip
    assert (result.done, result.failed) == (N, 0)
    folder = tmp_path / "out" / "images_53"
    assert media_files(folder) == {f"53_P{i}_1.jpg" for i in range(N)}
    for i, body in bodies.items():
        assert (folder / f"53_P{i}_1.jpg").read_bytes() == body
    for i in STALLED:
        assert server.hits(f"/s/{i}.jpg") == 2  # the stalled answer, then the retry
    rows_by_key = {r.filename: r for r in workspace.catalog.items(key_prefix="study:53:")}
    assert {rows_by_key[f"53_P{i}_1.jpg"].attempts for i in STALLED} == {2}


def test_bodies_that_stall_mid_way_are_retried_and_every_file_completes(
    fault_server: FaultServer, workspace: Workspace, tmp_path: Path
) -> None:
    # one byte, then silence for 30 s: without the stall deadline each would hold one of the
    # host's two slots for the whole read timeout
    _run(fault_server, workspace, tmp_path, Reply(fault="slow", byte_interval=30.0))


def test_a_trickling_body_below_the_minimum_rate_counts_as_stalled(
    fault_server: FaultServer, workspace: Workspace, tmp_path: Path
) -> None:
    _run(fault_server, workspace, tmp_path, Reply(fault="slow", byte_interval=0.02))


def test_object_store_hosts_get_their_own_per_host_limit(workspace: Workspace) -> None:
    assert is_object_store("my-bucket.s3.eu-west-3.amazonaws.com")
    assert is_object_store("s3.amazonaws.com") and is_object_store("b.s3-eu-west-1.amazonaws.com")
    assert not is_object_store("pbs.twimg.com") and not is_object_store("ec2.amazonaws.com")
    assert is_object_store("minio.lab", frozenset({"minio.lab"}))
    cfg = workspace.settings.download.model_copy(
        update={"per_host": 4, "object_store_per_host": 48}
    )
    fetcher = Fetcher([], cfg, object_hosts=frozenset({"minio.lab"}))
    assert fetcher._host_slot("https://bucket.s3.amazonaws.com/a.jpg")._value == 48
    assert fetcher._host_slot("http://minio.lab:9000/b/a.jpg")._value == 48
    assert fetcher._host_slot("https://pbs.twimg.com/media/a.jpg")._value == 4


def test_shards_divide_every_per_host_limit_so_a_host_sees_the_runs(workspace: Workspace) -> None:
    from vigie.download.parallel import shard_settings

    cfg = workspace.settings.model_copy(
        update={
            "download": workspace.settings.download.model_copy(
                update={"concurrency": 32, "per_host": 8, "object_store_per_host": 64}
            )
        }
    )
    forked = shard_settings(cfg, 4, split_concurrency=True).download  # processes of one machine
    assert (forked.concurrency, forked.per_host, forked.object_store_per_host) == (8, 2, 16)
    on_ray = shard_settings(cfg, 4).download  # Ray workers: each its own CPU and network
    assert (on_ray.concurrency, on_ray.per_host, on_ray.object_store_per_host) == (32, 2, 16)
    assert forked.processes == on_ray.processes == 1
    assert shard_settings(cfg, 100).download.per_host == 1  # never below one connection
