"""Packaging promises: version ranges in the metadata, exact versions in requirements.lock, a
light core, extras that bring what they say, one OpenCV, and commands that name a missing extra."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.fixtures.common import REPO

SELF = "vigie-cv"
OPENCV = {
    "opencv-python",
    "opencv-python-headless",
    "opencv-contrib-python",
    "opencv-contrib-python-headless",
}
# what a core install must not pull, directly or through another package
NOT_IN_CORE = {
    "torch",
    "torchvision",
    "ultralytics",
    "ultralytics-opencv-headless",
    "label-studio-sdk",
    "boto3",
    "botocore",
    "pymysql",
    "onnxruntime",
    "ray",
    "imagehash",
    *OPENCV,
}
# each extra lists (at least) these distributions
EXTRAS = {
    "labelstudio": {"label-studio-sdk"},
    "s3": {"boto3"},
    "mysql": {"pymysql"},
    "onnx": {"onnxruntime", "opencv-python-headless"},
    "yolo": {"ultralytics-opencv-headless", "torch", "torchvision", "lap", "onnx", "onnxruntime"},
    "eval": {"motmetrics"},
    "serve": {"starlette", "uvicorn", "jinja2"},
    "ray": {"ray"},
    "test": {"pytest", "imagehash", "packaging"},
}


@cache
def _project() -> dict:  # type: ignore[type-arg]
    return dict(tomllib.loads((REPO / "pyproject.toml").read_text())["project"])


def _own(extras: Iterable[str] = ()) -> list[Requirement]:
    """The project's requirements for ``extras``, its self-references (``vigie-cv[onnx]``) expanded."""
    project = _project()
    out = [Requirement(r) for r in project["dependencies"]]
    todo, done = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in done:
            continue
        done.add(extra)
        for raw in project["optional-dependencies"][extra]:
            req = Requirement(raw)
            if canonicalize_name(req.name) == SELF:
                todo += sorted(req.extras)
            else:
                out.append(req)
    return out


def _extra_only(extra: str) -> set[str]:
    core = {canonicalize_name(r.name) for r in _own()}
    return {canonicalize_name(r.name) for r in _own([extra])} - core


@cache
def _closure(extras: tuple[str, ...] = ()) -> tuple[dict[str, str], set[str]]:
    """Walk the installed metadata from the project's requirements for ``extras`` (markers and
    the extras of each requirement honoured).

    Returns:
        {distribution: installed version} reached, and the names required but not installed.
    """
    found: dict[str, str] = {}
    missing: set[str] = set()
    done: set[tuple[str, str]] = set()
    todo = [(r, "") for r in _own(extras)]
    while todo:
        req, via_extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": via_extra}):
            continue
        name = canonicalize_name(req.name)
        for extra in ("", *sorted(req.extras)):
            if (name, extra) in done:
                continue
            done.add((name, extra))
            try:
                dist = distribution(name)
            except PackageNotFoundError:
                missing.add(name)
                continue
            found[name] = dist.version
            todo += [(Requirement(r), extra) for r in dist.requires or []]
    return found, missing


@cache
def _lock() -> dict[str, str]:
    pins = re.findall(
        r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", (REPO / "requirements.lock").read_text(), re.M
    )
    return {canonicalize_name(name): version for name, version in pins}


def test_metadata_has_ranges_not_pins() -> None:
    """Every dependency and extra: a lower and an upper bound, never `==` (that is the lock's job)."""
    bad = []
    for req in _own(_project()["optional-dependencies"]):
        ops = {s.operator for s in req.specifier}
        if not {">=", "<"} <= ops or ops & {"==", "==="}:
            bad.append(str(req))
    assert bad == []


def test_the_distribution_name_is_vigie_cv_and_the_command_vigie() -> None:
    project = _project()
    assert project["name"] == SELF
    assert project["scripts"] == {"vigie": "vigie.cli:main"}
    (everything,) = (Requirement(r) for r in project["optional-dependencies"]["all"])
    assert canonicalize_name(everything.name) == SELF and everything.extras == set(EXTRAS)
    assert set(project["optional-dependencies"]) == {*EXTRAS, "all"}


def test_lock_versions_are_inside_the_ranges() -> None:
    lock = _lock()
    outside = [
        f"{r} (locked {lock.get(canonicalize_name(r.name))})"
        for r in _own(_project()["optional-dependencies"])
        if lock.get(canonicalize_name(r.name)) not in r.specifier
    ]
    assert outside == []


def test_lock_pins_exactly_the_all_install_as_tested() -> None:
    """The `[all]` install of this environment is the lock, package for package, version for
    version (`make install` builds it with `pip install -c requirements.lock`)."""
    found, missing = _closure(("all",))
    lock = _lock()
    assert missing == set(), f"not installed: {sorted(missing)} (run make install)"
    assert set(found) == set(lock), (sorted(set(found) - set(lock)), sorted(set(lock) - set(found)))
    differ = {n: (v, lock[n]) for n, v in found.items() if v.split("+")[0] != lock[n]}
    assert differ == {}


def test_core_install_is_light() -> None:
    found, _ = _closure()
    assert {"numpy", "av", "pillow", "sqlalchemy", "httpcore"} <= set(found)
    assert set(found) & NOT_IN_CORE == set()


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_each_extra_brings_what_it_says(extra: str) -> None:
    assert EXTRAS[extra] <= _extra_only(extra)


def test_all_is_every_extra() -> None:
    every = set().union(*(_extra_only(e) for e in EXTRAS))
    assert _extra_only("all") == every


def test_onnx_extra_runs_without_torch() -> None:
    found, _ = _closure(("onnx",))
    assert {"onnxruntime", "opencv-python-headless"} <= set(found)
    assert (
        set(found) & {"torch", "torchvision", "ultralytics", "ultralytics-opencv-headless"} == set()
    )


def test_one_opencv_owns_cv2() -> None:
    """ultralytics-opencv-headless, label-studio-sdk and `[onnx]` all take the headless build."""
    found, _ = _closure(("all",))
    assert set(found) & OPENCV == {"opencv-python-headless"}
    assert set(_lock()) & OPENCV == {"opencv-python-headless"}


def test_every_require_names_the_extra_that_brings_the_module() -> None:
    """`require("cv2", "onnx")` and every `pip install 'vigie-cv[X]'` hint in src name a real
    extra, and that extra installs a distribution providing the module."""
    providers = packages_distributions()
    source = "\n".join(p.read_text() for p in (REPO / "src" / "vigie").rglob("*.py"))
    calls = set(re.findall(r"require\(\s*\"([\w.]+)\",\s*\"(\w+)\"\s*\)", source))
    assert ("cv2", "onnx") in calls and ("label_studio_sdk", "labelstudio") in calls
    hinted = set(re.findall(r"vigie-cv\[(\w+)\]", source))
    assert hinted - set(EXTRAS) - {"extra"} == set()  # "extra": the pip_hint docstring
    wrong = []
    for module, extra in sorted(calls):
        found, _ = _closure((extra,))
        if extra not in EXTRAS or not set(map(canonicalize_name, providers.get(module, []))) & set(
            found
        ):
            wrong.append(f"{module} -> [{extra}]")
    assert wrong == []


def test_make_install_builds_from_the_lock() -> None:
    makefile = (REPO / "Makefile").read_text()
    stamp = re.search(r"^\$\(VENV\)/\.installed:(.*)$", makefile, re.M)
    assert stamp is not None and "$(LOCK)" in stamp.group(1)
    assert "pip install -q -c $(LOCK) -e '.[all]'" in makefile
    assert re.search(r"^lock:", makefile, re.M)


# Run the CLI as if the extras' packages were not installed: a meta-path finder refuses them.
BLOCKER = """
import sys
BLOCKED = {"torch", "torchvision", "ultralytics", "label_studio_sdk", "boto3", "botocore",
           "pymysql", "cv2", "onnxruntime", "ray"}
class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NotInstalled())
"""
CLI = BLOCKER + "from vigie.cli import main\nmain(sys.argv[1:])\n"
IMPORT_ALL = (
    BLOCKER
    + """
import importlib, pkgutil, vigie
bad = []
for mod in pkgutil.walk_packages(vigie.__path__, "vigie."):
    try:
        importlib.import_module(mod.name)
    except ImportError as exc:
        bad.append(f"{mod.name}: {exc}")
print("\\n".join(bad))
sys.exit(1 if bad else 0)
"""
)


def _light(code: str, args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "200", "NO_COLOR": "1"}
    for key in ("VIGIE_CATALOG_URL", "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        env.pop(key, None)
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip


def test_light_install_imports_every_module(tmp_path: Path) -> None:
    """No module of vigie imports an extra's package when it is imported (only when run)."""
    out = _light(IMPORT_ALL, [], tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr


def test_light_install_help_works(tmp_path: Path) -> None:
    out = _light(CLI, ["--help"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Usage" in out.stdout and "detect" in out.stdout


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["--catalog", "mysql+pymysql://vigie@127.0.0.1:9/none", "status"], "mysql"),
        (
            ["ls", "pull", "--project", "1", "--url", "http://127.0.0.1:9", "--out", "o"],
            "labelstudio",
        ),
    ],
    ids=["mysql-catalog", "ls-pull"],
)
def test_command_missing_its_extra_names_it(tmp_path: Path, args: list[str], extra: str) -> None:
    out = _light(CLI, ["-w", str(tmp_path / "ws"), *args], tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    named = [line for line in out.stderr.splitlines() if f"[{extra}] extra" in line]
    assert len(named) == 1, out.stderr
    assert f"pip install '{SELF}[{extra}]'" in out.stderr
