"""``vigie serve`` from the command line: the documented examples, and its clear errors."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tests.fixtures.common import Workspace
from tests.fixtures.http import wait_until
from tests.serve.test_live import _free_port
from vigie.cli import app

runner = CliRunner()


def test_serve_without_the_extra_says_what_to_install(
    shared: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        if name in ("starlette", "uvicorn", "jinja2"):
            return None
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    res = runner.invoke(app, ["serve", "-w", str(shared.root)])
    assert res.exit_code == 1
    assert "pip install 'vigie-cv[serve]'" in res.output and "Traceback" not in res.output


def test_serve_without_a_catalog_is_one_clear_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["serve", "-w", str(tmp_path / "empty")])
    assert res.exit_code == 1
    assert "error: no catalog at" in res.output and "run a vigie command" in res.output
    assert not (tmp_path / "empty").exists()


def test_serve_on_a_port_in_use_is_one_clear_error(shared: Workspace) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        res = runner.invoke(app, ["serve", "-w", str(shared.root), "--port", str(port)])
    assert res.exit_code == 1 and f"cannot listen on 127.0.0.1:{port}" in res.output


def test_cli_serve_runs_until_ctrl_c_with_the_token_from_the_environment(
    shared: Workspace,
) -> None:
    port = _free_port()
    env = {**os.environ, "VIGIE_SERVE__TOKEN": "token-from-the-environment"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigie", "serve", "-w", str(shared.root), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    base = f"http://127.0.0.1:{port}/"

    def up() -> bool:
        try:
            return httpx.get(base + "api", timeout=2).status_code == 401
        except httpx.HTTPError:
            return False

    try:
        assert wait_until(up, timeout=60, step=0.2)
        auth = {"Authorization": "Bearer token-from-the-environment"}
        assert httpx.get(base + "api/cameras", headers=auth).json()["cameras"][0]["name"] == "CAM1"
        assert httpx.get(base + "cameras", headers=auth).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert f"Vigie dashboard on http://127.0.0.1:{port}/" in out
    assert "every request needs the token" in out and "token-from-the-environment" not in out


def test_serve_help_shows_host_port_and_token() -> None:
    res = runner.invoke(app, ["serve", "--help"])
    assert res.exit_code == 0
    for flag in ("--workspace", "--host", "--port", "--token", "VIGIE_SERVE__TOKEN"):
        assert flag in res.output
