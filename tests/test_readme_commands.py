"""Every command the README shows outside the tour is a real command line.

The tour block runs for real in tests/test_readme_tour.py; the other blocks (install, the CLI
conventions, the cluster) would need a package index or a cluster, so here each ``vigie`` line is
parsed by the real command tree (every option exists, every value converts), each ``make``
target exists, and each ``pip install 'vigie-cv[...]'`` names extras the package declares.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from typing import Any

import pytest
import typer

from tests.fixtures.common import REPO
from vigie.cli import app

README = (REPO / "README.md").read_text(encoding="utf-8")
TOUR = re.search(r"## A 5-minute tour\s+```bash\n.*?```", README, re.S)


def _blocks() -> list[str]:
    rest = README.replace(TOUR.group(0), "") if TOUR else README
    return re.findall(r"```bash\n(.*?)```", rest, re.S)


def _commands() -> list[list[str]]:
    out = []
    for block in _blocks():
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            command: list[str] = []
            for word in [*words, "&&"]:
                if word in ("&&", "&", "|") or word.startswith(("2>", ">")):
                    if command:
                        out.append(command)
                    command = []
                elif not (command == [] and word == "nohup"):
                    command.append(word)
    return out


COMMANDS = _commands()


def _parse(args: list[str]) -> None:
    """Resolve ``args`` down the command tree as click would, without running anything: at each
    group the words before the first subcommand name are the group's options."""
    command: Any = typer.main.get_command(app)  # typer's own click: duck-typed
    ctx: Any = None
    name, rest = "vigie", list(args)
    while hasattr(command, "list_commands"):  # a group
        probe = command.context_class(command, info_name=name, parent=ctx)
        names = set(command.list_commands(probe))
        at = next(i for i, word in enumerate(rest) if word in names)
        ctx = command.make_context(name, rest[: at + 1], parent=ctx, resilient_parsing=False)
        sub = command.get_command(ctx, rest[at])
        assert sub is not None, rest[at]
        command, name, rest = sub, rest[at], rest[at + 1 :]
    command.make_context(name, rest, parent=ctx, resilient_parsing=False)


def test_the_readme_shows_commands_outside_the_tour() -> None:
    kinds = {c[0] for c in COMMANDS}
    assert {"make", "pip", "vigie"} <= kinds


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[0] == "vigie"], ids=shlex.join)
def test_every_vigie_command_of_the_readme_parses(command: list[str]) -> None:
    _parse(command[1:])


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[0] == "make"], ids=shlex.join)
def test_every_make_target_of_the_readme_exists(command: list[str]) -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for target in command[1:]:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), target


def test_every_extra_the_readme_installs_is_declared() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = set(project["optional-dependencies"])
    named = {
        extra.strip()
        for c in COMMANDS
        if c[:2] == ["pip", "install"]
        for word in c[2:]
        if (m := re.fullmatch(r"vigie-cv\[(.+)\]", word))
        for extra in m.group(1).split(",")
    }
    assert named and named <= declared, named - declared
    assert any(c[:3] == ["pip", "install", "vigie-cv"] for c in COMMANDS)
    assert project["name"] == "vigie-cv"
