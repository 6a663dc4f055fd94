"""SIGINT / SIGTERM stop a running ``vigie capture`` cleanly (a real subprocess)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.capture.helpers import cycling, frames
from tests.fixtures.http import FaultServer, wait_until
from vigie.catalog import Catalog


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_capture_stops_cleanly_on_signal(
    sig: signal.Signals, fault_server: FaultServer, tmp_path: Path
) -> None:
    url = fault_server.route("/sig.jpg", cycling(*(frames(s) for s in range(70, 74))))
    ws, caps = tmp_path / "ws", tmp_path / "caps"
    cmd = [sys.executable, "-m", "vigie", "--workspace", str(ws), "capture", "--url", url]
    cmd += ["--camera", "sig", "--every", "0.1", "--count", "0", "--out", str(caps)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        folder = caps / "sig"
        assert wait_until(lambda: folder.is_dir() and len(list(folder.glob("*.jpg"))) >= 3, 60)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    assert b"stopped" in out
    assert not list(folder.glob("*.part"))
    files = sorted(folder.glob("*.jpg"))
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        done = cat.items(status="done")
        assert {r.path for r in done} == {str(p.resolve()) for p in files}
        assert cat.last_runs("capture")[0].status == "interrupted"
