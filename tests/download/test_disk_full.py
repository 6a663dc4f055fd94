"""Disk full (docs/reliability.md): a 2 MiB tmpfs as the download target.

Run as root, the target really is a small tmpfs (``mount -t tmpfs -o size=2m``, unmounted in
teardown). Elsewhere (no root, or no mount allowed) the test falls back to monkeypatching the
``.part`` writer to write half the body and then raise ``ENOSPC``, as a full disk does.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.download.helpers import fast_settings, study_row, write_manifest
from tests.fixtures.common import Workspace
from tests.fixtures.http import FaultServer, Reply
from vigie.download import download
from vigie.download import finish as finish_mod

TMPFS_BYTES = 2 * 1024 * 1024


def _noisy_jpeg(seed: int) -> bytes:
    """A JPEG of ~250-350 KB (noise compresses badly): a handful fill 2 MiB."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, size=(480, 640, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=95)
    return buf.getvalue()


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder that holds about 2 MiB: a real tmpfs when we may mount one, else a patched
    writer that fails with ENOSPC once 2 MiB have been written under it."""
    target = tmp_path / "tiny"
    target.mkdir()
    mounted = False
    if os.geteuid() == 0 and shutil.which("mount"):
        cmd = ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(target)]
        mounted = subprocess.run(cmd, capture_output=True, check=False).returncode == 0
    if not mounted:
        real = finish_mod.write_part

        def full_disk_writer(part: Path, data: bytes) -> None:
            used = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
            if used + len(data) > TMPFS_BYTES:
                part.write_bytes(data[: len(data) // 2])  # what a full disk leaves behind
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(part))
            real(part, data)

        monkeypatch.setattr(finish_mod, "write_part", full_disk_writer)
    try:
        yield target
    finally:
        if mounted:
            subprocess.run(["umount", str(target)], capture_output=True, check=False)


def test_disk_full_fails_items_clearly_and_keeps_earlier_files_intact(
    fault_server: FaultServer,
    workspace: Workspace,
    small_disk: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bodies = [_noisy_jpeg(i) for i in range(12)]
    rows = [
        study_row(fault_server.route(f"/d/{i}.jpg", Reply(body=body)), f"53_D{i}_1.jpg")
        for i, body in enumerate(bodies)
    ]
    settings = fast_settings(workspace.root, concurrency=4, processes=1)
    folder = small_disk / "images_53"

    # a first run that fits: three files
    first = download(
        study=53,
        purpose="media_analysis",
        manifest=write_manifest(tmp_path / "first.jsonl", rows[:3]),
        out=small_disk,
        settings=settings,
        catalog=workspace.catalog,
    )
    assert first.done == 3
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    # then the whole list: the disk fills up part of the way
    result = download(
        study=53,
        purpose="media_analysis",
        manifest=write_manifest(tmp_path / "all.jsonl", rows),
        out=small_disk,
        settings=settings,
        catalog=workspace.catalog,
    )
    assert result.total == 12 and result.skipped == 3
    assert result.done + result.skipped + result.failed == result.total
    assert result.failed >= 1 and set(result.failures) == {"disk_full"}
    failed = workspace.catalog.items(key_prefix="study:53:", status="failed")
    assert len(failed) == result.failed
    assert all(r.error_class == "disk_full" and "no space" in (r.error or "") for r in failed)

    # no partial file anywhere, earlier files untouched, catalog rows == files, bytes as served
    assert not list(small_disk.rglob("*.part"))
    assert all((folder / name).read_bytes() == data for name, data in before.items())
    files = {p.name for p in folder.iterdir()}
    done = workspace.catalog.items(key_prefix="study:53:", status="done")
    assert {Path(r.path).name for r in done} == files and len(files) == 3 + result.done
    served = {f"53_D{i}_1.jpg": hashlib.sha256(b).hexdigest() for i, b in enumerate(bodies)}
    for r in done:
        assert hashlib.sha256(Path(r.path).read_bytes()).hexdigest() == served[r.filename]
        assert r.sha256 == served[r.filename]
    assert "--retry-failed" in caplog.text and "disk is full" in caplog.text
