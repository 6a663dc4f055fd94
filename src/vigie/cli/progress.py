"""Logging and progress of the CLI: one reporter for every long command.

On a terminal: rich log lines and a live progress bar. Elsewhere (nohup, cron, a notebook, a
pipe): log lines carry an ISO local timestamp, and a progress line per task (items done,
failed, rate) is logged every ``--progress-every`` seconds, then once more at the end.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

PROGRESS_EVERY = 30.0  # seconds between two progress lines off a terminal (--progress-every)
progress_log = logging.getLogger("vigie.progress")


@dataclass
class _State:
    every: float = PROGRESS_EVERY
    quiet: bool = False


_state = _State()


class IsoFormatter(logging.Formatter):
    """``2026-12-02T03:04:05.678+01:00 INFO vigie.capture: message`` (local time, ISO 8601)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return (
            datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")
        )


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a notebook or a test swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def setup_logging(
    verbose: int, quiet: bool, console: Console, progress_every: float = PROGRESS_EVERY
) -> None:
    """Vigie's log level (WARNING; -v INFO; -vv DEBUG; -q errors only... and warnings) and handler.

    Off a terminal the lines carry timestamps; progress lines stay on unless ``quiet``.
    """
    level = logging.WARNING
    if verbose == 1:
        level = logging.INFO
    elif verbose > 1:
        level = logging.DEBUG
    handler: logging.Handler
    if console.is_terminal:
        from rich.logging import RichHandler

        handler = RichHandler(console=console, show_path=False, show_time=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = _StderrHandler()
        handler.setFormatter(IsoFormatter())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("vigie").setLevel(logging.WARNING if quiet else level)
    progress_log.setLevel(logging.WARNING if quiet else logging.INFO)
    _state.every, _state.quiet = progress_every, quiet


@dataclass
class _Task:
    name: str
    total: float | None
    done: float = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)
    logged: tuple[float, int] | None = None  # (done, failed) of the last line

    def line(self, final: bool = False) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        of = f"/{self.total:g}" if self.total is not None else ""
        head = f"{self.name}: {'finished ' if final else ''}{self.done:g}{of} done"
        return f"{head}, {self.failed} failed, {self.done / elapsed:.2f}/s, {elapsed:.0f} s"


class Reporter:
    """The progress of a command's tasks, with the add_task/advance/update of rich's Progress.

    ``advance(task, n, failed=k)`` also counts failed items. On a terminal the rich bar is
    drawn; off a terminal a line per task is logged every ``every`` seconds (0: none) and at
    the end.
    """

    def __init__(self, bar: Progress | None, every: float) -> None:
        self._bar, self._every = bar, every
        self._tasks: dict[int, _Task] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if bar is None and every > 0:
            self._thread = threading.Thread(target=self._loop, name="vigie-progress", daemon=True)
            self._thread.start()

    def add_task(self, description: str, total: float | None = None, **fields: Any) -> int:
        """Start a task; returns its id."""
        task_id = (
            self._bar.add_task(description, total=total, **{"rate": "", **fields})
            if self._bar is not None
            else len(self._tasks)
        )
        with self._lock:
            self._tasks[int(task_id)] = _Task(description, total)
        return int(task_id)

    def advance(self, task_id: int, advance: float = 1, failed: int = 0) -> None:
        """``advance`` more items finished, ``failed`` of them failed."""
        self.update(task_id, advance=advance, failed=failed)

    def update(
        self,
        task_id: int,
        *,
        completed: float | None = None,
        total: float | None = None,
        advance: float | None = None,
        failed: int = 0,
        **fields: Any,
    ) -> None:
        """Set the completed count or total, or advance; as rich's ``Progress.update``."""
        with self._lock:
            task = self._tasks[task_id]
            if completed is not None:
                task.done = completed
            if advance:
                task.done += advance
            if total is not None:
                task.total = total
            task.failed += failed
        if self._bar is not None:
            self._bar.update(task_id, completed=completed, total=total, advance=advance, **fields)  # type: ignore[arg-type]

    def elapsed(self, task_id: int) -> float:
        """Seconds since the task was added."""
        return time.monotonic() - self._tasks[task_id].started

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            self._log()

    def _log(self, final: bool = False) -> None:
        """A line per task that moved since its last line; at the end, one line per task."""
        lines = []
        with self._lock:
            for t in self._tasks.values():
                if final or t.logged != (t.done, t.failed):
                    lines.append(t.line(final))
                    t.logged = (t.done, t.failed)
        for line in lines:
            progress_log.info("progress %s", line)

    def close(self) -> None:
        """Stop the periodic lines and log the final one per task (off a terminal)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._bar is None:
            self._log(final=True)


@contextmanager
def reporter(console: Console, transient: bool = False) -> Iterator[Reporter]:
    """A :class:`Reporter`: a rich bar with rate and ETA on a terminal, timed lines elsewhere."""
    if not console.is_terminal:
        rep = Reporter(None, 0 if _state.quiet else _state.every)
        try:
            yield rep
        finally:
            rep.close()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
    ) as bar:
        rep = Reporter(bar, 0)
        try:
            yield rep
        finally:
            rep.close()
