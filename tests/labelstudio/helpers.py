"""Helpers for the tests that talk to the real Label Studio server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.labelstudio import LabelStudioServer


def api(server: LabelStudioServer, method: str, path: str, **kwargs: Any) -> Any:
    """Call the server's API with the legacy token; return the JSON answer."""
    resp = httpx.request(
        method,
        f"{server.url}/{path.lstrip('/')}",
        headers={"Authorization": f"Token {server.token}"},
        timeout=60,
        **kwargs,
    )
    resp.raise_for_status()
    return resp.json() if resp.content else None


def tasks_of(server: LabelStudioServer, project: int) -> list[dict[str, Any]]:
    data = api(
        server, "GET", "api/tasks/", params={"project": project, "page_size": 1000, "fields": "all"}
    )
    return list(data["tasks"])


def annotate(
    server: LabelStudioServer,
    task_id: int,
    boxes: list[tuple[str, float, float, float, float]],
    *,
    cancelled: bool = False,
) -> None:
    """Add an annotation: boxes are (label, x, y, w, h) in percent."""
    result = [
        {
            "from_name": "label",
            "to_name": "image",
            "type": "rectanglelabels",
            "original_width": 160,
            "original_height": 120,
            "value": {
                "x": x,
                "y": y,
                "width": w,
                "height": h,
                "rotation": 0,
                "rectanglelabels": [lab],
            },
        }
        for lab, x, y, w, h in boxes
    ]
    api(
        server,
        "POST",
        f"api/tasks/{task_id}/annotations/",
        json={"result": result, "was_cancelled": cancelled},
    )


def make_images(folder: Path, make_jpeg: Any, n: int, start_seed: int = 0) -> list[Path]:
    return [make_jpeg(folder / f"img{i:03d}.jpg", 160, 120, seed=start_seed + i) for i in range(n)]
