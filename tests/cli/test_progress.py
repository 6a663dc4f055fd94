"""Long runs off a terminal: timestamped log lines, a progress line every --progress-every."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.media import write_video
from vigie.cli import app
from vigie.cli.progress import IsoFormatter, Reporter, progress_log

runner = CliRunner()
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"


def test_a_folder_run_off_a_terminal_prints_timestamped_progress_lines(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    for name in ("a", "b"):
        write_video(videos / f"{name}.mp4", frames=20, fps=10)
    result = runner.invoke(
        app,
        ["-w", str(tmp_path / "ws"), "--progress-every", "0.05", "frames", str(videos),
         "--mode", "step", "--value", "5", "--workers", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "progress" in line]
    final = [line for line in lines if "finished" in line]
    assert final, result.output
    assert re.match(
        rf"{ISO} INFO vigie\.progress: progress videos: finished 2/2 done, 0 failed, ", final[-1]
    )
    assert re.search(r"\d+\.\d\d/s", final[-1])


def test_a_warning_off_a_terminal_carries_an_iso_timestamp(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["-w", str(tmp_path), "track", str(tmp_path / "nope.mp4"), "-m", "x.onnx",
              "--device", "cuda"],
    )  # fmt: skip
    warning = next(line for line in result.output.splitlines() if "WARNING" in line)
    assert re.match(rf"{ISO} WARNING vigie\.devices: --device cuda:0 asked", warning), warning
    assert "onnxruntime-gpu" in warning


def test_quiet_drops_the_progress_lines(tmp_path: Path) -> None:
    write_video(tmp_path / "v" / "a.mp4", frames=10, fps=10)
    result = runner.invoke(
        app, ["-q", "-w", str(tmp_path / "ws"), "frames", str(tmp_path / "v"), "--mode", "all"]
    )
    assert result.exit_code == 0, result.output
    assert "vigie.progress" not in result.output


@pytest.mark.parametrize(
    ("flags", "level"),
    [([], logging.WARNING), (["-v"], logging.INFO), (["-vv"], logging.DEBUG),
     (["-q"], logging.WARNING), (["-q", "-vv"], logging.WARNING)],
)  # fmt: skip
def test_verbose_raises_the_log_level(flags: list[str], level: int, tmp_path: Path) -> None:
    result = runner.invoke(app, [*flags, "-w", str(tmp_path), "status"])
    assert result.exit_code == 0, result.output
    assert logging.getLogger("vigie").level == level
    quiet = "-q" in flags
    assert progress_log.level == (logging.WARNING if quiet else logging.INFO)


def test_verbose_shows_info_logs_that_the_default_hides(tmp_path: Path) -> None:
    write_video(tmp_path / "v" / "a.mp4", frames=10, fps=10)
    args = ["-w", str(tmp_path / "ws"), "frames", str(tmp_path / "v" / "a.mp4"), "--mode", "all"]
    quiet, loud = runner.invoke(app, args), runner.invoke(app, ["-vv", *args])
    assert quiet.exit_code == 0 and loud.exit_code == 0, loud.output
    assert " DEBUG " not in quiet.output
    assert " DEBUG " in loud.output or " INFO " in loud.output


def test_progress_every_takes_the_time_format(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["--progress-every", "soon", "status"])
    assert bad.exit_code == 2 and "not a time" in bad.output
    ok = runner.invoke(app, ["--progress-every", "1:00", "-w", str(tmp_path), "status"])
    assert ok.exit_code == 0, ok.output


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.seen.set()


def test_reporter_logs_a_line_per_period_then_a_final_one() -> None:
    lines = _Lines()
    progress_log.addHandler(lines)
    progress_log.setLevel(logging.INFO)
    try:
        rep = Reporter(None, every=0.01)
        task = rep.add_task("detect", total=10)
        rep.advance(task, 3, failed=1)
        assert lines.seen.wait(timeout=30)  # the timer thread, not the advance, logs
        rep.close()
    finally:
        progress_log.removeHandler(lines)
    assert lines.lines[0].startswith("progress detect: 3/10 done, 1 failed, ")
    assert lines.lines[-1].startswith("progress detect: finished 3/10 done, 1 failed, ")
    assert len([line for line in lines.lines if "finished" not in line]) == 1  # no repeats


def test_reporter_with_no_period_logs_only_the_final_line() -> None:
    lines = _Lines()
    progress_log.addHandler(lines)
    progress_log.setLevel(logging.INFO)
    try:
        rep = Reporter(None, every=0)
        task = rep.add_task("pull")
        rep.update(task, total=4)
        rep.advance(task, 4)
        rep.close()
    finally:
        progress_log.removeHandler(lines)
    assert lines.lines == [lines.lines[0]]
    assert lines.lines[0].startswith("progress pull: finished 4/4 done, 0 failed")


def test_iso_formatter_writes_local_time_with_its_offset() -> None:
    record = logging.LogRecord("vigie.x", logging.WARNING, __file__, 1, "disk %s", ("full",), None)
    line = IsoFormatter().format(record)
    assert re.fullmatch(rf"{ISO} WARNING vigie\.x: disk full", line), line
