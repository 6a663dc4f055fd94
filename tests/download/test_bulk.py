"""Bulk runs: every item ends in one state, no partial file, catalog rows == files; frames."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.download.helpers import fast_settings, media_files, study_row, write_manifest
from tests.fixtures.common import Workspace
from tests.fixtures.http import FaultServer, Reply, wait_until
from tests.fixtures.media import jpeg_bytes, write_video
from vigie.download import download

N = 150


def _mixed_routes(server: FaultServer) -> tuple[list[dict], int]:  # type: ignore[type-arg]
    rows, expected_failures = [], 0
    for i in range(N):
        body = jpeg_bytes(96, 64, seed=i)
        kind = i % 10
        if kind == 0:
            replies = [Reply(fault="reset", body=body), Reply(body=body)]
        elif kind == 1:
            replies = [Reply(status=503), Reply(body=body)]
        elif kind == 2:
            replies = [Reply(status=404)]
            expected_failures += 1
        elif kind == 3:
            replies = [Reply(body=b"<html>oops</html>")]
            expected_failures += 1
        elif kind == 4:
            replies = [Reply(fault="short", body=body), Reply(body=body)]
        else:
            replies = [Reply(body=body)]
        url = server.route(f"/m/{i}.jpg", *replies)
        rows.append(study_row(url, f"53_P{i}_1.jpg"))
    return rows, expected_failures


@pytest.mark.parametrize("processes", [1, 2])
def test_bulk_download_with_mixed_faults_loses_nothing(
    fault_server: FaultServer, workspace: Workspace, tmp_path: Path, processes: int
) -> None:
    rows, expected_failures = _mixed_routes(fault_server)
    rows.append(rows[0])  # the same link twice
    manifest = write_manifest(tmp_path / "m.jsonl", rows)
    out = tmp_path / "out"
    settings = fast_settings(workspace.root, concurrency=32, per_host=32, processes=processes)
    result = download(
        study=53,
        manifest=manifest,
        out=out,
        settings=settings,
        catalog=workspace.catalog,
        purpose="media_analysis",
    )
    assert result.total == N + 1
    assert result.done + result.skipped + result.failed == result.total
    assert result.failed == expected_failures and result.skipped == 1
    folder = out / "images_53"
    files = media_files(folder)
    assert not [f for f in files if f.endswith(".part")]
    done = workspace.catalog.items(key_prefix="study:53:", status="done")
    assert {Path(r.path).name for r in done} == files and len(files) == result.done
    for name in files:
        with Image.open(folder / name) as im:
            im.load()
    failed = workspace.catalog.items(key_prefix="study:53:", status="failed")
    assert len(failed) == expected_failures
    assert len((out / "errors_53.log").read_text().splitlines()) == expected_failures


@pytest.mark.parametrize("processes", [1, 2])
def test_large_run_keeps_counts_and_failures_without_one_result_per_item(
    fault_server: FaultServer,
    workspace: Workspace,
    tmp_path: Path,
    processes: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    import vigie.download.core as core

    monkeypatch.setattr(core, "ITEMS_KEPT_UP_TO", 10)  # this run counts as a large one
    rows, expected_failures = _mixed_routes(fault_server)
    manifest = write_manifest(tmp_path / "m.jsonl", rows)
    out = tmp_path / "out"
    settings = fast_settings(workspace.root, concurrency=32, per_host=32, processes=processes)
    result = download(
        study=53,
        manifest=manifest,
        out=out,
        settings=settings,
        catalog=workspace.catalog,
        purpose="media_analysis",
    )
    assert result.items == [] and result.videos == []
    assert (result.total, result.done + result.skipped + result.failed) == (N, N)
    assert result.failed == expected_failures == len(result.failed_items)
    assert sum(result.failures.values()) == expected_failures
    failed = workspace.catalog.items(key_prefix="study:53:", status="failed")
    assert {i.key for i in result.failed_items} == {r.key for r in failed}
    logged = [json.loads(line) for line in (out / "errors_53.jsonl").read_text().splitlines()]
    assert {r["key"] for r in logged} == {r.key for r in failed}
    done = workspace.catalog.items(key_prefix="study:53:", status="done")
    assert len(done) == result.done == len(media_files(out / "images_53"))
    kept = download(
        study=53, manifest=manifest, out=out, settings=settings, catalog=workspace.catalog,
        keep_items=True, retry_failed=True,
    )  # fmt: skip
    assert len(kept.items) == kept.total == expected_failures
    assert kept.failed == expected_failures  # 404 and HTML pages fail again


def test_items_of_a_worker_process_that_dies_are_run_in_the_parent(
    fault_server: FaultServer,
    workspace: Workspace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import vigie.download.core as core
    import vigie.download.parallel as parallel

    child = parallel._child

    def dying_child(*args: Any) -> None:
        if args[-1] == 1:  # the second worker takes a chunk and dies before reporting any item
            args[0].get()
            os._exit(1)
        time.sleep(0.2)  # the first one lets it take its chunk (either of the two)
        child(*args)

    monkeypatch.setattr(parallel, "_child", dying_child)
    monkeypatch.setattr(core, "CHUNK_SIZE", N // 2)  # the input in two chunks
    rows, expected_failures = _mixed_routes(fault_server)
    manifest = write_manifest(tmp_path / "m.jsonl", rows)
    out = tmp_path / "out"
    settings = fast_settings(workspace.root, concurrency=32, per_host=32, processes=2)
    result = download(
        study=53,
        manifest=manifest,
        out=out,
        settings=settings,
        catalog=workspace.catalog,
        purpose="media_analysis",
    )
    assert f"{N // 2} items were not reported by a worker process" in caplog.text
    assert (result.total, result.done + result.skipped + result.failed) == (N, N)
    assert result.failed == expected_failures and result.skipped == 0
    assert len({i.key for i in result.items}) == N
    done = workspace.catalog.items(key_prefix="study:53:", status="done")
    assert len(done) == result.done == len(media_files(out / "images_53"))
    assert len(workspace.catalog.items(key_prefix="study:53:")) == N


def test_dataset_purpose_cuts_short_videos_into_frames_and_moves_long_ones(
    fault_server: FaultServer, workspace: Workspace, tmp_path: Path
) -> None:
    short = write_video(tmp_path / "s.mp4", frames=40, fps=10, width=64, height=48).read_bytes()
    long = write_video(tmp_path / "l.mp4", frames=60, fps=10, width=64, height=48).read_bytes()
    rows = [
        study_row(fault_server.route("/s.mp4", Reply(body=short)), "53_S_2.mp4", kind="video"),
        study_row(fault_server.route("/l.mp4", Reply(body=long)), "53_L_2.mp4", kind="video"),
        study_row(fault_server.route("/i.jpg", Reply(body=jpeg_bytes())), "53_I_2.jpg"),
    ]
    manifest = write_manifest(tmp_path / "m.jsonl", rows)
    out = tmp_path / "out"
    settings = fast_settings(workspace.root, frame_threshold=50, frames_per_short_video=8)
    result = download(
        study=53, purpose="dataset", manifest=manifest, out=out, settings=settings,
        catalog=workspace.catalog, keep_items=False,
    )  # fmt: skip
    assert result.done == 3 and result.videos_to_cut == 1 and result.frames == 8
    assert result.items == [] and {v.filename for v in result.videos} == {
        "53_S_2.mp4",
        "53_L_2.mp4",
    }
    dataset = out / "dataset_53"
    frames = [p for p in dataset.iterdir() if p.suffix == ".jpg" and p.name != "53_I_2.jpg"]
    assert len(frames) == 8
    assert (out / "videos_to_be_cut" / "53_L_2.mp4").exists()
    moved = workspace.catalog.item("study:53:53_L_2.mp4")
    assert moved is not None and moved.path == str(
        (out / "videos_to_be_cut" / "53_L_2.mp4").resolve()
    )
    video = workspace.catalog.item("study:53:53_S_2.mp4")
    assert video is not None
    children = [r for r in workspace.catalog.items(kind="frame") if r.parent_id == video.id]
    assert len(children) == 8
    again = download(
        study=53, purpose="dataset", manifest=manifest, out=out, settings=settings,
        catalog=workspace.catalog,
    )  # fmt: skip
    assert again.skipped == 3 and again.done == 0
    assert len([p for p in dataset.iterdir() if p.suffix == ".jpg"]) == 9


def test_sigkill_mid_download_then_restart_completes_everything(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    n = 40
    urls = []
    for i in range(n):
        body = jpeg_bytes(96, 64, seed=i)
        urls.append(fault_server.route(f"/k/{i}.jpg", Reply(body=body, delay=0.15)))
    url_file = tmp_path / "urls.txt"
    url_file.write_text("\n".join(urls) + "\n")
    ws, out = tmp_path / "ws", tmp_path / "out"
    # two worker processes: killing the parent must not leave workers running
    env = {**os.environ, "VIGIE_ALLOW_PRIVATE_NETWORKS": "1", "VIGIE_DOWNLOAD__PROCESSES": "2"}
    cmd = [sys.executable, "-m", "vigie", "--workspace", str(ws), "download", "--urls", str(url_file),
           "--out", str(out), "--concurrency", "4"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: len(list(out.glob("*.jpg"))) >= 5, timeout=60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(list(out.glob("*.jpg"))) < n
    time.sleep(1.5)  # orphaned workers notice their parent is gone within 0.5 s
    frozen = sorted(p.name for p in out.iterdir())
    time.sleep(1.0)
    assert sorted(p.name for p in out.iterdir()) == frozen  # nothing writes any more
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    files = {p.name for p in out.glob("*.jpg")}
    assert len(files) == n and not list(out.glob("*.part"))
    from vigie.catalog import Catalog

    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        rows = cat.items(key_prefix="url:")
    assert len(rows) == n and all(r.status == "done" for r in rows)
    assert {Path(r.path).name for r in rows} == files
    for name in files:
        with Image.open(out / name) as im:
            im.load()
