"""Fixtures of the capture tests: live HLS and MJPEG streams on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.capture.streams import HlsServer, MjpegServer


@pytest.fixture
def hls_server(tmp_path: Path) -> Iterator[HlsServer]:
    server = HlsServer(tmp_path / "hls")
    yield server
    server.stop()


@pytest.fixture
def mjpeg_server() -> Iterator[MjpegServer]:
    server = MjpegServer()
    yield server
    server.stop()
