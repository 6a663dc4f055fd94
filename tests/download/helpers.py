"""Shared helpers of the download tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vigie.config import Settings, load_settings

FAST = {
    "backoff_base": 0.01,
    "backoff_cap": 0.05,
    "retries": 3,
    "connect_timeout": 2.0,
    "read_timeout": 1.0,
    "item_deadline": 3.0,
    "retry_budget": 8.0,
    "retry_after_max": 1.5,
    "concurrency": 16,
}


def fast_settings(root: Path, allow_private: bool = True, **download: Any) -> Settings:
    """Settings with short timeouts and backoff, loopback allowed, catalog in ``root``."""
    return load_settings(
        workspace=root, allow_private_networks=allow_private, download={**FAST, **download}
    )


def write_manifest(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def study_row(url: str, filename: str, kind: str = "image", study: int = 53) -> dict[str, Any]:
    stem = filename.rsplit(".", 1)[0].split("_")
    return {
        "study_id": study,
        "platform_id": int(stem[-1]) if stem[-1].isdigit() else 1,
        "publication_id": stem[1] if len(stem) > 2 else stem[0],
        "media_type": kind,
        "url": url,
        "filename": filename,
    }


def media_files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file()} if folder.exists() else set()
