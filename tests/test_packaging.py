"""Packaging promises: pinned dependencies, and a core install that does not pull torch."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, requires

from tests.fixtures.common import REPO

HEAVY = {"torch", "torchvision", "ultralytics", "onnxruntime"}


def _name(req: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", req, maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_dependency_is_pinned() -> None:
    project = _pyproject()["project"]
    reqs = list(project["dependencies"])
    for name, extra in project["optional-dependencies"].items():
        if name != "all":
            reqs += extra
    unpinned = [r for r in reqs if "==" not in r]
    assert unpinned == []


def test_core_install_does_not_pull_torch() -> None:
    """Walk the installed dependency tree of the core requirements (no extras)."""
    todo = [_name(r) for r in _pyproject()["project"]["dependencies"]]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            sub = requires(name) or []
        except PackageNotFoundError:
            continue
        todo += [_name(r) for r in sub if "extra ==" not in r and "extra==" not in r]
    assert not (seen & HEAVY), sorted(seen & HEAVY)


def test_yolo_extra_brings_the_model_stack() -> None:
    extra = {_name(r) for r in _pyproject()["project"]["optional-dependencies"]["yolo"]}
    assert {"ultralytics", "onnxruntime", "torch"} <= extra
