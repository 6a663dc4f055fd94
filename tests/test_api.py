"""The public Python API: every documented name resolves, stages stay callable when imported,
and type checkers see the names that ``import vigie`` loads lazily."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import vigie
from tests.fixtures.common import REPO


@pytest.mark.parametrize("name", sorted(vigie._API))
def test_every_public_name_resolves_to_a_callable(name: str) -> None:
    assert callable(getattr(vigie, name))


@pytest.mark.parametrize("stage", ["capture", "download", "train", "detect", "track"])
def test_stage_package_import_does_not_shadow_the_function(stage: str) -> None:
    module = importlib.import_module(f"vigie.{stage}")
    func = getattr(module, stage)
    assert callable(getattr(vigie, stage))
    assert getattr(vigie, stage).__call__.__doc__ == func.__doc__


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        _ = vigie.no_such_function  # type: ignore[attr-defined]


def _type_checking_imports() -> dict[str, str]:
    """``{public name: "module:attr"}`` of the imports under ``if TYPE_CHECKING:``."""
    tree = ast.parse((REPO / "src" / "vigie" / "__init__.py").read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
    )
    out = {}
    for stmt in block.body:
        assert isinstance(stmt, ast.ImportFrom) and stmt.module
        for alias in stmt.names:
            out[alias.asname or alias.name] = f"{stmt.module}:{alias.name}"
    return out


def test_static_imports_name_exactly_the_lazy_api() -> None:
    assert _type_checking_imports() == vigie._API
    assert sorted(vigie.__all__) == sorted(["__version__", *vigie._API])


def test_import_vigie_stays_light() -> None:
    code = (
        "import sys, vigie; vigie.Detections; vigie.Detection; "
        "print(','.join(m for m in ('numpy', 'av', 'torch', 'cv2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_mypy_sees_the_public_names_and_their_signatures(tmp_path: Path) -> None:
    """What an editor sees: real signatures, not ``Any`` from a module ``__getattr__``."""
    snippet = (
        "import vigie\n"
        "reveal_type(vigie.detect)\n"
        "reveal_type(vigie.track)\n"
        "reveal_type(vigie.Detections.from_ultralytics)\n"
        "reveal_type(vigie.export_dataset)\n"
        "d = vigie.load_detector('m.onnx').predict([])[0]\n"
        "reveal_type(d[d.confidence > 0.5])\n"
        "vigie.detect('images/', model=3.5)\n"
    )
    (tmp_path / "snippet.py").write_text(snippet)
    env = {**os.environ, "MYPYPATH": str(REPO / "src")}
    out = subprocess.run(  # from the repo: its mypy config and warm cache (`make lint`)
        [sys.executable, "-m", "mypy", "--no-error-summary", str(tmp_path / "snippet.py")],
        capture_output=True, text=True, cwd=REPO, env=env, check=False,
    )  # fmt: skip
    lines = out.stdout.splitlines()
    revealed = [line for line in lines if "Revealed type" in line]
    assert len(revealed) == 5, out.stdout + out.stderr
    assert "model: str | pathlib.Path" in revealed[0] and "DetectResult" in revealed[0]
    assert "TrackRun" in revealed[1]
    assert "vigie.detections.Detections" in revealed[2]
    assert "ConvertResult" in revealed[3]
    assert revealed[4].endswith('"vigie.detections.Detections"')
    errors = [line for line in lines if ": error:" in line]
    assert len(errors) == 1 and 'Argument "model" to "detect"' in errors[0], out.stdout
