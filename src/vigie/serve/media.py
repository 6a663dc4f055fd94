"""Files the dashboard serves: only media the catalog knows, only inside the workspace.

A file is named in the URL by its catalog id (``/media/42``), never by a path, and the path the
catalog holds must pass :func:`vigie.serve.security.inside_workspace` (resolved, symlinks
followed). Videos and full images are sent with HTTP Range support (seeking in a ``<video>``);
``?w=`` gives a JPEG thumbnail made in memory (the workspace is never written).
"""

from __future__ import annotations

import io
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from vigie.serve import queries
from vigie.serve.security import inside_workspace

THUMB_SIZES = (160, 240, 360, 480, 720)
_IMAGE_KINDS = ("image", "frame")


def _allowed(request: Request, stored: str | None) -> Path:
    found = inside_workspace(request.app.state.root, stored)
    if found is None:
        raise HTTPException(404, "no such file in this workspace")
    return found


def media(request: Request) -> Response:
    """``/media/{id}``: the file of a media item (``?w=`` a thumbnail of an image)."""
    item_id = request.path_params["item_id"]
    stored, kind = queries.media_path(request.app.state.catalog, item_id)
    if kind is None:
        raise HTTPException(404, f"no media item {item_id}")
    path = _allowed(request, stored)
    width = request.query_params.get("w")
    if width is not None and kind in _IMAGE_KINDS:
        if not width.isdigit() or int(width) not in THUMB_SIZES:
            raise HTTPException(400, f"w must be one of {', '.join(map(str, THUMB_SIZES))}")
        return _thumbnail(path, int(width))
    return FileResponse(path, headers={"Cache-Control": "private, max-age=60"})


def annotated(request: Request) -> Response:
    """``/media/{id}/annotated?model=&tracker=``: the annotated video of a tracks analysis."""
    item_id = request.path_params["item_id"]
    model = request.query_params.get("model")
    tracker = request.query_params.get("tracker")
    if not model or not tracker:
        raise HTTPException(400, "give model and tracker")
    stored = queries.annotated_path(request.app.state.catalog, item_id, model, tracker)
    path = _allowed(request, stored)
    return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "private"})


def _thumbnail(path: Path, width: int) -> Response:
    from PIL import Image, UnidentifiedImageError

    stat = path.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}-{width}"'
    try:
        with Image.open(path) as img:
            img.draft("RGB", (width, width))  # JPEG: decode at a reduced scale, much faster
            small = img.convert("RGB")
        small.thumbnail((width, width))
        buf = io.BytesIO()
        small.save(buf, "JPEG", quality=82)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        raise HTTPException(415, "this file is not an image that can be read") from None
    return Response(
        buf.getvalue(),
        media_type="image/jpeg",
        headers={"ETag": etag, "Cache-Control": "private, max-age=60"},
    )
