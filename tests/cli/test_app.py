"""The root CLI: help, version, python -m vigie, lazy imports, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import typer
from typer.testing import CliRunner

from vigie.cli import app

runner = CliRunner()
HEAVY = ("torch", "ultralytics", "av", "cv2", "label_studio_sdk", "onnxruntime", "boto3")
HEAVY += ("starlette", "uvicorn", "jinja2")


def _all_commands() -> list[list[str]]:
    root = typer.main.get_command(app)
    out: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        out.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])
    return out


def test_version_prints_package_version() -> None:
    from vigie import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"vigie {__version__}"


def test_every_command_has_help() -> None:
    commands = _all_commands()
    assert ["status"] in commands
    for path in commands:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; from vigie.cli import app; "
        "from typer.testing import CliRunner; CliRunner().invoke(app, ['--help']); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_python_dash_m_vigie_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "vigie", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("vigie ")


def test_vigie_error_becomes_one_line_and_exit_1(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["--catalog", "mysql+pymysql://u:pw@127.0.0.1:1/x", "status"])
    assert result.exit_code == 1
    assert "error:" in result.output
    assert "Traceback" not in result.output
    assert "pw@" not in result.output  # the password is masked


def test_bad_config_file_is_reported_not_raised(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "vigie.toml"
    bad.write_text("[capture\n")
    result = runner.invoke(app, ["--config", str(bad), "status"])
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_status_lists_items_and_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vigie.catalog import Catalog

    cat = Catalog(f"sqlite:///{tmp_path / 'vigie.db'}")
    src = cat.source("camera", "CWL9018")
    cat.upsert_items([{"key": "k1", "kind": "image", "status": "done", "source_id": src}])
    with cat.run("capture", {}) as run:
        run.counts.done = 1
    cat.close()
    result = runner.invoke(app, ["--workspace", str(tmp_path), "status"])
    assert result.exit_code == 0, result.output
    assert "CWL9018" in result.output
    assert "capture" in result.output
