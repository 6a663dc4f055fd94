"""Exit codes a scheduler can read, and the one output rule (README "Exit codes", "Outputs")."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes, write_video
from vigie.cli import app
from vigie.config import load_settings

runner = CliRunner()


def _urls(server: FaultServer, tmp_path: Path, *replies: Reply) -> Path:
    lines = [server.route(f"/m/{i}.jpg", reply) for i, reply in enumerate(replies)]
    path = tmp_path / "urls.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def _download(tmp_path: Path, urls: Path, *extra: str) -> tuple[int, str]:
    res = runner.invoke(
        app,
        ["-w", str(tmp_path / "ws"), "download", "--urls", str(urls), "--out",
         str(tmp_path / "d"), "--allow-private-networks", "--retries", "0", *extra],
    )  # fmt: skip
    return res.exit_code, res.output


def test_exit_codes_are_documented_in_the_help() -> None:
    res = runner.invoke(app, ["--help"])
    text = " ".join(res.output.replace("│", " ").split())
    assert res.exit_code == 0
    for part in ("0 all done", "1 fatal error", "2 usage error", "3 the run finished but some",
                 "130 interrupted"):  # fmt: skip
        assert part in text, text


def test_zero_when_every_item_is_done(fault_server: FaultServer, tmp_path: Path) -> None:
    urls = _urls(fault_server, tmp_path, Reply(body=jpeg_bytes()), Reply(body=jpeg_bytes(seed=2)))
    code, out = _download(tmp_path, urls)
    assert code == 0, out
    code, out = _download(tmp_path, urls)  # a rerun that skips everything is done too
    assert code == 0 and "skipped" in out


def test_three_when_some_or_all_items_failed(fault_server: FaultServer, tmp_path: Path) -> None:
    some = _urls(fault_server, tmp_path, Reply(body=jpeg_bytes()), Reply(status=404))
    code, out = _download(tmp_path, some)
    assert code == 3 and "1 of 2 downloads failed" in " ".join(out.split())
    every = tmp_path / "every.txt"
    every.write_text(fault_server.route("/gone.jpg", Reply(status=410)) + "\n")
    code, out = _download(tmp_path, every)
    assert code == 3 and "1 of 1 downloads failed" in " ".join(out.split())


def test_three_when_every_capture_poll_failed(fault_server: FaultServer, tmp_path: Path) -> None:
    url = fault_server.route("/cam.jpg", Reply(status=503))
    res = runner.invoke(
        app,
        ["-w", str(tmp_path), "capture", "--url", url, "--camera", "cam", "--every", "0.05",
         "--count", "2", "--timeout", "2"],
    )  # fmt: skip
    assert res.exit_code == 3, res.output
    assert "2 of 2 polls failed" in " ".join(res.output.split())


def test_one_on_a_fatal_error_and_two_on_a_usage_error(tmp_path: Path) -> None:
    fatal = runner.invoke(app, ["-w", str(tmp_path), "download"])
    assert fatal.exit_code == 1 and "error: nothing to download" in fatal.output
    usage = runner.invoke(app, ["download", "--no-such-flag"])
    assert usage.exit_code == 2 and "No such option" in usage.output


def test_130_when_interrupted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def interrupted(**kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module("vigie.download"), "download", interrupted)
    res = runner.invoke(app, ["-w", str(tmp_path), "download", "--study", "1"])
    assert res.exit_code == 130 and "rerun to resume" in res.output


# -- the output rule ----------------------------------------------------------------------------


def test_relative_outputs_lie_in_the_workspace_absolute_ones_stay(tmp_path: Path) -> None:
    cfg = load_settings(workspace=tmp_path / "ws")
    assert cfg.output_path("data") == (tmp_path / "ws" / "data").absolute()
    assert cfg.output_path(tmp_path / "abs") == tmp_path / "abs"
    assert load_settings().output_path("data") == Path.cwd() / "data"  # no workspace: cwd


@pytest.mark.parametrize("how", ["flag", "env", "toml", "none"])
def test_every_way_of_naming_the_workspace_places_relative_outputs_in_it(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    urls = _urls(fault_server, tmp_path, Reply(body=jpeg_bytes()))
    ws = tmp_path / "team-ws"
    argv = ["download", "--urls", str(urls), "--out", "media", "--allow-private-networks"]
    if how == "flag":
        argv = ["-w", str(ws), *argv]
    elif how == "env":
        monkeypatch.setenv("VIGIE_WORKSPACE", str(ws))
    elif how == "toml":
        Path("vigie.toml").write_text(f'workspace = "{ws}"\n')
    res = runner.invoke(app, argv)
    assert res.exit_code == 0, res.output
    root = Path.cwd() if how == "none" else ws
    assert (root / "media" / "0.jpg").is_file()
    assert (root / "vigie.db").is_file()  # the catalog lives in the same workspace


def test_default_output_folders_lie_in_the_workspace_too(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", frames=20, fps=10)
    ws = tmp_path / "ws"
    res = runner.invoke(
        app, ["-w", str(ws), "frames", str(video), "--mode", "step", "--value", "10"]
    )
    assert res.exit_code == 0, res.output
    assert len(list((ws / "frames" / "clip").glob("*.jpg"))) == 2
    res = runner.invoke(app, ["-w", str(ws), "report"])
    assert res.exit_code == 0, res.output
    assert (ws / "report" / "index.html").is_file()
