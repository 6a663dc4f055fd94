"""The track stage's rooms keep their doors: what each may import (read from the source, no run)."""

from __future__ import annotations

import ast
from pathlib import Path

import vigie

SRC = Path(vigie.__file__).parent


def imports_of(folder: Path) -> dict[str, set[str]]:
    """Module file -> the vigie modules it imports (anywhere in the file, lazy imports too)."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
        found[str(path.relative_to(SRC))] = {n for n in names if n.startswith("vigie")}
    return found


def test_trackers_import_no_other_room_of_the_stage() -> None:
    for module, names in imports_of(SRC / "track" / "trackers").items():
        others = {n for n in names if n.startswith("vigie.track.") and ".trackers" not in n}
        assert not others, f"{module} imports {others}"


def test_evaluation_imports_nothing_of_the_stage() -> None:
    for module, names in imports_of(SRC / "track" / "evaluation").items():
        others = {n for n in names if n.startswith("vigie.track") and ".evaluation" not in n}
        assert not others, f"{module} imports {others}"


def test_detect_and_track_drive_ultralytics_through_vigie_models_not_train() -> None:
    for stage in ("detect", "track"):
        for module, names in imports_of(SRC / stage).items():
            assert not {n for n in names if n.startswith("vigie.train")}, module
    track_uses = set().union(*imports_of(SRC / "track").values())
    detect_internals = {n for n in track_uses if n.startswith("vigie.detect.")}
    assert not detect_internals  # the detector comes from vigie.detect's public names


def test_every_module_of_the_stage_stays_under_400_lines() -> None:
    for path in (SRC / "track").rglob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 400, path
