"""One consistent CLI: short flags, choices, time options, --device and defaults from settings.

Walks the whole command tree (``typer.main.get_command``), so a new command or option is held
to the same rules without a new test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.core import TyperOption
from typer.testing import CliRunner

from vigie.cli import app
from vigie.cli.common import TIME_METAVAR, default_of, default_text

runner = CliRunner()

# The one short-flag table: each short flag means this long option in every command.
SHORT_FLAGS = {
    "-h": "--help",
    "-w": "--workspace",
    "-v": "--verbose",
    "-q": "--quiet",
    "-m": "--model",
    "-o": "--out",
    "-f": "--format",
    "-r": "--recursive",
    "-d": "--data",
    "-n": "--name",
}
# Long options that take one of a fixed set of values.
CHOICE_OPTIONS = {"--mode", "--strategy", "--format", "--backend", "--tracker", "--hash",
                  "--timezone", "--kind", "--storage", "--purpose"}  # fmt: skip
TIME_OPTIONS = {"--start", "--end", "--every", "--timeout", "--progress-every"}
MODEL_COMMANDS = {"detect", "track", "train", "ls push", "labelstudio push"}
# Command -> the settings section whose fields its options override.
SECTIONS = {
    "capture": "capture", "links": "links", "download": "download", "frames": "frames",
    "train": "train", "detect": "detect", "track": "track", "serve": "serve",
    "ls push": "labelstudio", "ls pull": "labelstudio", "ls setup": "labelstudio",
}  # fmt: skip
# Options named after a settings field that is not theirs (a different meaning), and
# train --device, whose unset train.device is shown as what it means: auto;
# ls pull --labels defaults to the project's own labels, not labelstudio.labels.
NOT_SETTINGS = {("train", "--workers"), ("serve", "--token"), ("train", "--device"),
                ("ls pull", "--labels")}  # fmt: skip


def _commands() -> Iterator[tuple[str, Any]]:
    def walk(cmd: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        yield " ".join(path), cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, [*path, name])

    yield from walk(typer.main.get_command(app), [])


def _options() -> Iterator[tuple[str, TyperOption]]:
    for path, cmd in _commands():
        for param in cmd.params:
            if isinstance(param, TyperOption):
                yield path, param


def _text(output: str) -> str:
    """Rich's help and error boxes as one line of words."""
    return " ".join(output.replace("│", " ").split())


def _long(opt: TyperOption) -> str:
    return next(o for o in opt.opts if o.startswith("--"))


def test_each_short_flag_means_one_long_option_everywhere() -> None:
    seen: dict[str, set[str]] = {}
    for path, opt in _options():
        for short in (o for o in [*opt.opts, *opt.secondary_opts] if not o.startswith("--")):
            seen.setdefault(short, set()).add(_long(opt))
            assert SHORT_FLAGS.get(short) == _long(opt), (path or "vigie", short, _long(opt))
    assert seen["-m"] == {"--model"} and seen["-o"] == {"--out"}


def test_a_long_option_with_a_short_flag_has_it_in_every_command() -> None:
    by_long = {v: k for k, v in SHORT_FLAGS.items()}
    for path, opt in _options():
        long = _long(opt)
        if long in by_long and long != "--help":
            assert by_long[long] in opt.opts, f"`vigie {path} {long}` lacks {by_long[long]}"


def test_every_option_with_fixed_values_is_a_choice() -> None:
    listed = re.compile(r"\b[a-z-]+ \| [a-z-]+\b")  # "jpg | png": a choice written by hand
    for path, opt in _options():
        assert not listed.search(opt.help or ""), (path, _long(opt), opt.help)
        if _long(opt) in CHOICE_OPTIONS:
            assert opt.type_descriptor.is_choice, f"`vigie {path} {_long(opt)}` is not a choice"


def test_every_time_option_takes_the_one_time_format() -> None:
    found = set()
    for path, opt in _options():
        if _long(opt) in TIME_OPTIONS:
            found.add(f"{path} {_long(opt)}".strip())
            assert opt.metavar == TIME_METAVAR, (path, _long(opt))
    assert {"frames --start", "track --end", "capture --every", "--progress-every"} <= found


@pytest.mark.parametrize(
    "args",
    [
        ["frames", "{v}", "--mode", "all", "--start", "1:30", "--end", "0:01:30.5"],
        ["track", "{v}", "-m", "x.pt", "--start", "00:00:01.5"],
    ],
)
def test_time_options_accept_every_spelling(args: list[str], tmp_path: Any) -> None:
    line = [a.replace("{v}", str(tmp_path / "nope.mp4")) for a in args]
    result = runner.invoke(app, ["-w", str(tmp_path), *line])
    assert "not a time" not in result.output  # parsed; the missing video is what fails
    assert result.exit_code in (1, 2)


def test_a_bad_time_is_a_usage_error_naming_the_forms(tmp_path: Any) -> None:
    result = runner.invoke(app, ["capture", "--url", "http://x/a.jpg", "--every", "soon"])
    assert result.exit_code == 2
    assert "not a time" in result.output and "1:30" in _text(result.output)


def test_every_command_that_runs_a_model_takes_device() -> None:
    with_device = {path for path, opt in _options() if _long(opt) == "--device"}
    assert with_device >= MODEL_COMMANDS
    for _path, opt in _options():
        if _long(opt) == "--device":
            assert opt.metavar == "<device>"


def test_a_bad_device_is_a_usage_error(tmp_path: Any) -> None:
    result = runner.invoke(app, ["detect", str(tmp_path), "-m", "x.pt", "--device", "gpu"])
    assert result.exit_code == 2
    assert "cpu, cuda, cuda:N, mps or auto" in _text(result.output)


def test_options_backed_by_settings_show_the_settings_default() -> None:
    from vigie.config import Settings

    marker = re.compile(r"\[default: (.*) \(([a-z0-9_.]+)\)\]$")
    checked = 0
    for path, opt in _options():
        help_text = opt.help or ""
        m = marker.search(help_text.replace("\\[", "["))
        section = SECTIONS.get(path)
        name = _long(opt)[2:].replace("-", "_")
        fields = Settings.model_fields[section].annotation.model_fields if section else {}  # type: ignore[union-attr]
        if section and name in fields and (path, _long(opt)) not in NOT_SETTINGS:
            assert m, f"`vigie {path} {_long(opt)}` does not show its settings default"
            assert opt.default is None, f"`vigie {path} {_long(opt)}` restates its default"
        if m:
            checked += 1
            assert m.group(1) == default_text(m.group(2)), (path, _long(opt))
    assert checked >= 40


def test_no_help_restates_a_number_as_its_default() -> None:
    restated = re.compile(r"\(default:? [^)]*\d")
    for path, opt in _options():
        assert not restated.search(opt.help or ""), (path, _long(opt), opt.help)


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (["detect"], "[default: 0.25 (detect.conf)]"),
        (["track"], "[default: 0.35 (track.conf)]"),
        (["frames"], "[default: 95 (frames.quality)]"),
        (["capture"], "[default: 60.0 (capture.every)]"),
        (["download"], "[default: 64 (download.concurrency)]"),
    ],
)
def test_help_shows_the_settings_default(command: list[str], text: str) -> None:
    result = runner.invoke(
        app, [*command, "--help"], env={"COLUMNS": "200", "TERMINAL_WIDTH": "200"}
    )
    assert result.exit_code == 0
    assert text in _text(result.output)


def test_default_of_reads_the_settings_table() -> None:
    from vigie.config import DetectSettings, Settings

    assert default_of("detect.conf") == DetectSettings().conf
    assert default_of("workspace") == Settings.model_fields["workspace"].default
    assert default_text("labelstudio.labels").startswith("Car,Pedestrian")
    assert default_text("links.s3_bucket") == "none"


def test_tracker_choices_are_the_trackers() -> None:
    from vigie.cli.track import TrackerName
    from vigie.track import TRACKERS

    assert [t.value for t in TrackerName] == list(TRACKERS)


def test_frames_choices_are_the_frames_modes_and_strategies() -> None:
    from vigie.cli.frames import Mode, Strategy
    from vigie.frames import MODES, STRATEGIES

    assert tuple(m.value for m in Mode) == tuple(MODES)
    assert tuple(s.value for s in Strategy) == tuple(STRATEGIES)


def test_hash_choices_are_the_settings_literals() -> None:
    from typing import get_args

    from vigie.cli.common import HashMethod
    from vigie.config import CaptureSettings, DatasetSettings

    values = tuple(h.value for h in HashMethod)
    assert values == get_args(CaptureSettings.model_fields["hash"].annotation)
    assert values == get_args(DatasetSettings.model_fields["hash_method"].annotation)
