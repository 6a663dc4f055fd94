"""The rules between rooms of docs/architecture.md, read from the code with ``ast``.

What counts as an import: every ``import``/``from ... import`` statement of a module under
src/vigie, wherever it stands: at module level, under ``if TYPE_CHECKING:``, or inside a function
(a lazy import is still a dependency, and the cycles of the past hid in such imports).
``from pkg import name`` depends on the submodule ``pkg.name`` when there is one, else on ``pkg``.
A module's implicit dependency on its own parent packages (Python imports them first) is not an
edge. Dynamic imports (``importlib.import_module``) are not seen.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.fixtures.common import REPO

SRC = REPO / "src"
ROOT = SRC / "vigie"

# The floor every stage stands on; it imports no stage.
FLOOR = (
    "vigie.media",
    "vigie.net",
    "vigie.models",
    "vigie.files",
    "vigie.catalog",
    "vigie.config",
    "vigie.config_layers",
    "vigie.types",
    "vigie.detections",
    "vigie.errors",
    "vigie.identity",
    "vigie.studydb",
    "vigie.timeparse",
    "vigie.devices",
    "vigie.cluster",
    "vigie._api",
)
STAGES = (
    "capture",
    "links",
    "download",
    "dedup",
    "frames",
    "labelstudio",
    "dataset",
    "train",
    "detect",
    "track",
    "report",
    "serve",
    "demo",
)
HEAVY = ("torch", "ultralytics", "av", "ray", "label_studio_sdk", "onnxruntime", "boto3", "cv2")
MAX_LINES = 400

# Modules allowed over the budget while a split is under way (empty: every module fits).
OVER_BUDGET_ALLOWED: set[str] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _known(name: str) -> str | None:
    """The module of src/vigie that ``name`` (maybe ``module.attribute``) lives in."""
    mods = modules()
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> list[str]:
    """The vigie modules one import statement depends on."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = (
                module if modules()[module].name == "__init__.py" else module.rpartition(".")[0]
            )
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, base] if base else parts)
        subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules()]
        names = subs if len(subs) == len(node.names) else [base, *subs]
    found = {_known(n) for n in names if n == "vigie" or n.startswith("vigie.")}
    ancestors = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    return sorted(m for m in found if m and m != module and m not in ancestors)


def _walk(
    body: list[ast.stmt], at_import_time: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement of ``body``, and whether it runs when the module is imported
    (module or class level, outside ``if TYPE_CHECKING:`` and functions)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, at_import_time
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _walk(node.body, False)
            yield from _walk(node.orelse, at_import_time)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _walk(node.body, False)
        else:  # if/try/with/for/class...: their statements run when the module runs
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    yield from _walk([child], at_import_time)
                elif isinstance(child, ast.ExceptHandler):
                    yield from _walk(child.body, at_import_time)


@cache
def _statements(module: str) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    return list(_walk(tree.body, True))


@cache
def imports(module: str) -> dict[str, list[str]]:
    """``{"all": [...], "runtime_top": [...]}``: every vigie module ``module`` imports, and those
    it imports when it is imported."""
    every: set[str] = set()
    top: set[str] = set()
    for node, at_import_time in _statements(module):
        targets = _targets(node, module)
        every.update(targets)
        if at_import_time:
            top.update(targets)
    return {"all": sorted(every), "runtime_top": sorted(top)}


def _heavy_at_import_time(module: str) -> list[str]:
    """Heavy third-party packages ``module`` imports when it is imported."""
    found = []
    for node, at_import_time in _statements(module):
        if not at_import_time:
            continue
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in HEAVY]
        elif node.level == 0 and (node.module or "").split(".")[0] in HEAVY:
            found.append(node.module or "")
    return found


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in imports(v)["all"]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in modules():
        if v not in index:
            strongconnect(v)
    return out


def _stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_the_import_graph_is_read() -> None:
    """Guards the rules below against an empty graph: known edges are seen."""
    assert "vigie.demo.steps" in imports("vigie.demo.pipeline")["all"]
    assert "vigie.detect.recording" in imports("vigie.detect.pipeline")["all"]  # in a function
    assert "vigie.catalog" in imports("vigie.frames.core")["runtime_top"]


def test_no_import_cycles() -> None:
    assert _cycles() == []


@pytest.mark.parametrize("floor", FLOOR)
def test_the_floor_imports_no_stage(floor: str) -> None:
    offenders = {
        (m, dep)
        for m in modules()
        if m == floor or m.startswith(floor + ".")
        for dep in imports(m)["all"]
        if _stage_of(dep) is not None
    }
    assert offenders == set()


def test_a_stage_imports_another_stage_only_through_its_package() -> None:
    offenders = [
        (m, dep)
        for m in modules()
        if (stage := _stage_of(m)) is not None
        for dep in imports(m)["all"]
        if (other := _stage_of(dep)) is not None and other != stage and dep != f"vigie.{other}"
    ]
    assert offenders == []


def test_no_module_is_over_the_line_budget() -> None:
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in modules().items()}
    over = {m: n for m, n in sizes.items() if n > MAX_LINES and m not in OVER_BUDGET_ALLOWED}
    assert over == {}


def test_the_line_budget_allow_list_holds_only_modules_still_over_it() -> None:
    """So that the allow-list empties itself: a module back under budget must leave it."""
    for m in OVER_BUDGET_ALLOWED:
        if m in modules():
            assert len(modules()[m].read_text(encoding="utf-8").splitlines()) > MAX_LINES, m


def test_heavy_packages_are_imported_lazily() -> None:
    eager = {m: found for m in modules() if (found := _heavy_at_import_time(m))}
    assert eager == {}


def test_vigie_help_imports_no_heavy_package() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['vigie', '--help']\n"
        "from vigie.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = {HEAVY!r}\n"
        "print('HEAVY=' + ','.join(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "120"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("HEAVY=")]
    assert lines == ["HEAVY="], out.stdout[-2000:] + out.stderr[-2000:]
    assert "Usage" in out.stdout


def test_the_cli_records_no_run_itself() -> None:
    """The cores record their runs (the stage contract); a CLI command only calls them."""
    recorders = {"start_run", "finish_run", "stage_run"}
    offenders = []
    for m, path in modules().items():
        if not m.startswith("vigie.cli"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            literal = bool(node.args) and isinstance(node.args[0], ast.Constant)
            if name in recorders or (name == "run" and literal):  # catalog.run("frames", ...)
                offenders.append(f"{m}:{node.lineno}")
    assert offenders == []
