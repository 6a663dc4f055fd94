"""Failure logs: ``errors_<study>.log`` as the seed writes it, and the same as JSONL."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def write_failure_logs(out: Path, label: str, failed: Sequence[Any]) -> tuple[Path, Path]:
    """Write the failures of a run (one line each; the files are replaced atomically).

    ``errors_<label>.log`` lines are ``<url>\\t<file name>\\t<error class>: <message>``;
    ``errors_<label>.jsonl`` has one object per failure with the same fields and the attempts.

    Raises:
        OSError: a file cannot be written (its ``.part`` is removed first).
    """
    out.mkdir(parents=True, exist_ok=True)
    text_path, jsonl_path = out / f"errors_{label}.log", out / f"errors_{label}.jsonl"
    lines, records = [], []
    for item in failed:
        message = " ".join(str(item.error or "").split())
        lines.append(f"{item.url}\t{item.filename}\t{item.error_class}: {message}\n")
        records.append(
            json.dumps(
                {
                    "key": item.key,
                    "url": item.url,
                    "filename": item.filename,
                    "error_class": item.error_class,
                    "error": item.error,
                    "attempts": item.attempts,
                },
                ensure_ascii=False,
            )
            + "\n"
        )
    for path, content in ((text_path, lines), (jsonl_path, records)):
        part = path.with_name(path.name + ".part")
        try:
            part.write_text("".join(content), encoding="utf-8")
            os.replace(part, path)
        except OSError:
            part.unlink(missing_ok=True)  # no partial log left behind (e.g. a full disk)
            raise
    return text_path, jsonl_path
