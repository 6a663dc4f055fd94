"""Failure logs: ``errors_<study>.log`` as the seed writes it, and the same as JSONL.

The logs are records, not scratch (reliability promise 16): they are read back by
``--retry-failed`` (even in a workspace whose catalog never saw them) and rewritten atomically so
that they list exactly what still fails: an entry leaves the logs only when its item was part of
the run and did not fail again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigie.files import write_atomic

_URL = re.compile(r"https?://[^\s,;\"'<>]+", re.IGNORECASE)
_NAME = re.compile(r"^[\w.-]+\.[A-Za-z0-9]{2,5}$")


@dataclass(frozen=True, slots=True)
class LoggedFailure:
    """One entry of the failure logs."""

    url: str
    filename: str | None = None
    key: str | None = None
    error_class: str | None = None
    error: str | None = None
    attempts: int = 0

    @classmethod
    def of(cls, item: Any) -> LoggedFailure:
        """The entry of a failed :class:`~vigie.download.model.ItemResult`."""
        return cls(item.url, item.filename, item.key, item.error_class, item.error, item.attempts)


def log_paths(out: Path, label: str) -> tuple[Path, Path]:
    """``errors_<label>.log`` and ``errors_<label>.jsonl`` in ``out``."""
    return out / f"errors_{label}.log", out / f"errors_{label}.jsonl"


def parse_log_line(line: str) -> LoggedFailure | None:
    """An entry of ``errors_<study>.log``: Vigie's ``<url>\\t<file>\\t<class>: <message>``, or the
    seed's plainer lines (a URL alone, or a URL and a file name); None when no URL is there."""
    match = _URL.search(line)
    if match is None:
        return None
    url = match.group(0).rstrip(".)")
    rest = line[match.end() :]
    fields = [f.strip() for f in re.split(r"\t|,|;|\s+", rest) if f.strip()]
    filename = fields[0] if fields and _NAME.match(fields[0]) else None
    error_class = error = None
    if "\t" in rest:
        parts = rest.split("\t")
        if len(parts) >= 3:
            error_class, _, error = parts[2].strip().partition(": ")
    return LoggedFailure(url, filename, None, error_class or None, error or None)


def _jsonl_entry(line: str) -> LoggedFailure | None:
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        return parse_log_line(line)
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None
    return LoggedFailure(
        data["url"],
        data.get("filename") or None,
        data.get("key") or None,
        data.get("error_class"),
        data.get("error"),
        int(data.get("attempts") or 0),
    )


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []


def read_failure_logs(out: Path, label: str) -> list[LoggedFailure]:
    """Every entry of the two logs in ``out``, once each (the JSONL's, then the text log's
    entries the JSONL lacks), in file order. Missing logs read as empty.

    Raises:
        OSError: a log exists but cannot be read.
    """
    text_path, jsonl_path = log_paths(out, label)
    entries: list[LoggedFailure] = []
    seen: set[str] = set()
    jsonl = (_jsonl_entry(line) for line in _lines(jsonl_path) if line.strip())
    plain = (parse_log_line(line) for line in _lines(text_path) if line.strip())
    for entry in (*jsonl, *plain):
        if entry is None or entry.url in seen or (entry.key and entry.key in seen):
            continue
        seen.add(entry.url)
        if entry.key:
            seen.add(entry.key)
        entries.append(entry)
    return entries


def merge_failures(
    previous: Iterable[LoggedFailure], covered: set[int], failed: Sequence[Any]
) -> list[LoggedFailure]:
    """What the logs list after a run: the earlier entries the run did not cover (positions in
    ``previous``), then this run's failures."""
    kept = [e for i, e in enumerate(previous) if i not in covered]
    return kept + [LoggedFailure.of(item) for item in failed]


def write_failure_logs(out: Path, label: str, entries: Sequence[Any]) -> tuple[Path, Path]:
    """Write the failure logs (one line per entry; each file replaced atomically).

    ``errors_<label>.log`` lines are ``<url>\\t<file name>\\t<error class>: <message>``;
    ``errors_<label>.jsonl`` has one object per failure with the same fields and the attempts.
    ``entries`` are :class:`LoggedFailure` or failed item results.

    Raises:
        OSError: a file cannot be written (its ``.part`` is removed first).
    """
    text_path, jsonl_path = log_paths(out, label)
    lines, records = [], []
    for item in entries:
        message = " ".join(str(item.error or "").split())
        lines.append(f"{item.url}\t{item.filename or ''}\t{item.error_class}: {message}\n")
        record = {
            "key": item.key,
            "url": item.url,
            "filename": item.filename,
            "error_class": item.error_class,
            "error": item.error,
            "attempts": item.attempts,
        }
        records.append(json.dumps(record, ensure_ascii=False) + "\n")
    write_atomic(text_path, "".join(lines), durable=True)
    write_atomic(jsonl_path, "".join(records), durable=True)
    return text_path, jsonl_path
