"""The routes: each page is an HTML view and a JSON endpoint over the same query function."""

from __future__ import annotations

import json
import math
import time as time_
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from vigie.serve import charts, queries
from vigie.serve.health import iso
from vigie.serve.media import annotated, media
from vigie.types import SIZE_LARGE, SIZE_MEDIUM, SIZE_NEGLIGIBLE, SIZE_SMALL

SIZES = (SIZE_LARGE, SIZE_MEDIUM, SIZE_SMALL, SIZE_NEGLIGIBLE)
FILTER_PARAMS = (
    "camera",
    "study",
    "model",
    "class",
    "size",
    "min_conf",
    "max_conf",
    "since",
    "until",
)
API = {
    "/api/cameras": "every camera: last kept frame, polls per hour, last success, health",
    "/api/cameras/{id}": "one camera",
    "/api/counts?since=&until=": "objects per class over time per camera; per study and platform",
    "/api/detections?camera=&study=&model=&class=&size=&min_conf=&max_conf=&since=&until="
    "&before=&after=&limit=": "a page of images with their matching boxes",
    "/api/detections/{id}": "one image with every box",
    "/api/videos": "every analysed video",
    "/api/videos/{id}?model=&tracker=": "one video with its tracks",
    "/api/downloads?study=": "progress of every study; one study's failures by reason",
    "/api/models": "registered models: metrics, parameters, training curves",
}


class Json(Response):
    """JSON with non-finite floats (a ``nan`` in results.csv) written as null."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(_finite(content), ensure_ascii=False, separators=(",", ":")).encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


# -- parameters ---------------------------------------------------------------------------------
def _param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    return value or None


def _number(request: Request, name: str, kind: Callable[[str], Any]) -> Any:
    value = _param(request, name)
    try:
        number = kind(value) if value is not None else None
    except ValueError:
        number = math.nan
    if isinstance(number, float) and not math.isfinite(number):
        raise HTTPException(400, f"{name} must be a number, not {value!r}")
    return number


def _relative(url: Any) -> str:
    """``/path?query`` of a URL (links that work behind any host name or proxy)."""
    return f"{url.path}?{url.query}" if url.query else str(url.path)


def _date(request: Request, name: str, end_of_day: bool = False) -> datetime | None:
    """``YYYY-MM-DD`` (a whole day), ``YYYY-MM-DDTHH:MM[:SS]`` or ISO 8601; UTC unless given."""
    value = _param(request, name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(
            400, f"{name} must be a date (YYYY-MM-DD[THH:MM]), not {value!r}"
        ) from None
    if end_of_day and len(value) == 10:
        parsed = datetime.combine(parsed.date(), time.max)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def detection_filter(request: Request) -> queries.DetectionFilter:
    """The filters of ``/detections`` and ``/api/detections`` from the query string."""
    size = _param(request, "size")
    if size is not None and size not in SIZES:
        raise HTTPException(400, f"size must be one of {', '.join(SIZES)}")
    return queries.DetectionFilter(
        camera=_param(request, "camera"),
        study=_number(request, "study", int),
        model=_param(request, "model"),
        class_name=_param(request, "class"),
        size=size,
        min_conf=_number(request, "min_conf", float),
        max_conf=_number(request, "max_conf", float),
        since=_date(request, "since"),
        until=_date(request, "until", end_of_day=True),
    )


def _catalog(request: Request) -> Any:
    return request.app.state.catalog


def _now() -> datetime:
    return datetime.now(UTC)


def _cached(request: Request, name: str, seconds: float, compute: Callable[[], Any]) -> Any:
    """``compute()``, reused for ``seconds`` (what changes rarely but costs a scan to list)."""
    cache = request.app.state.cache
    now = time_.monotonic()
    hit = cache.get(name)
    if hit is None or hit[0] < now:
        hit = cache[name] = (now + seconds, compute())
    return hit[1]


def _render(request: Request, template: str, **context: Any) -> Response:
    return request.app.state.templates.TemplateResponse(request, template, context)


def _found(value: Any, what: str) -> Any:
    if value is None:
        raise HTTPException(404, f"no such {what}")
    return value


# -- cameras ------------------------------------------------------------------------------------
def api_cameras(request: Request) -> Response:
    now = _now()
    return Json({"now": iso(now), "cameras": queries.cameras(_catalog(request), now)})


def api_camera(request: Request) -> Response:
    cam = queries.camera(_catalog(request), request.path_params["source_id"], _now())
    return Json(_found(cam, "camera"))


def cameras_page(request: Request) -> Response:
    cams = queries.cameras(_catalog(request), _now())
    return _render(request, "cameras.html", cameras=cams, chart=charts.polls_per_hour)


def camera_card(request: Request) -> Response:
    cam = _found(
        queries.camera(_catalog(request), request.path_params["source_id"], _now()), "camera"
    )
    return _render(request, "_camera.html", cam=cam, chart=charts.polls_per_hour)


# -- counts -------------------------------------------------------------------------------------
def _counts(request: Request) -> dict[str, Any]:
    return queries.counts(
        _catalog(request),
        since=_date(request, "since"),
        until=_date(request, "until", end_of_day=True),
        platforms=request.app.state.platforms,
    )


def api_counts(request: Request) -> Response:
    return Json(_counts(request))


def counts_page(request: Request) -> Response:
    data = _counts(request)
    classes = [c for cam in data["cameras"] for c in cam["series"]]
    colors = charts.class_colors(classes)
    return _render(
        request,
        "counts.html",
        data=data,
        camera_charts=[(cam, charts.objects_over_time(cam, colors)) for cam in data["cameras"]],
        study_chart=charts.objects_per_study(data["studies"]),
        since=_param(request, "since") or "",
        until=_param(request, "until") or "",
    )


# -- detections ---------------------------------------------------------------------------------
def _detections(request: Request) -> dict[str, Any]:
    limit = _number(request, "limit", int)
    limit = queries.PAGE_SIZE if limit is None else limit
    if not 1 <= limit <= 500:
        raise HTTPException(400, "limit must be between 1 and 500")
    page = queries.detection_page(
        _catalog(request),
        detection_filter(request),
        before=_number(request, "before", int),
        after=_number(request, "after", int),
        limit=limit,
    )
    return page


def api_detections(request: Request) -> Response:
    return Json(_detections(request))


def detections_page(request: Request) -> Response:
    page = _detections(request)
    choices = _cached(
        request, "choices", 30.0, lambda: queries.detection_choices(_catalog(request))
    )
    url = request.url.remove_query_params(["before", "after"])
    return _render(
        request,
        "detections.html",
        page=page,
        choices=choices,
        sizes=SIZES,
        colors=charts.class_colors(choices["classes"]),
        form={k: _param(request, k) or "" for k in FILTER_PARAMS},
        next_url=_relative(url.include_query_params(before=page["next"])) if page["next"] else None,
        prev_url=_relative(url.include_query_params(after=page["prev"])) if page["prev"] else None,
    )


def api_detection(request: Request) -> Response:
    item = queries.detection_item(_catalog(request), request.path_params["item_id"])
    return Json(_found(item, "media item"))


def detection_page(request: Request) -> Response:
    item = _found(
        queries.detection_item(_catalog(request), request.path_params["item_id"]), "media item"
    )
    colors = charts.class_colors([b["class"] for b in item["boxes"]])
    return _render(
        request,
        "detection.html",
        item=item,
        colors=colors,
        as_json=json.dumps(_finite(item), indent=2, ensure_ascii=False),
    )


# -- videos and tracks --------------------------------------------------------------------------
def api_videos(request: Request) -> Response:
    return Json({"videos": queries.videos(_catalog(request))})


def videos_page(request: Request) -> Response:
    return _render(request, "videos.html", videos=queries.videos(_catalog(request)))


def _video(request: Request) -> dict[str, Any]:
    found = queries.video(
        _catalog(request),
        request.path_params["item_id"],
        _param(request, "model"),
        _param(request, "tracker"),
    )
    return dict(_found(found, "analysed video"))


def api_video(request: Request) -> Response:
    return Json(_video(request))


def video_page(request: Request) -> Response:
    video = _video(request)
    colors = charts.class_colors([r["class"] for r in video["track_rows"]])
    return _render(
        request,
        "video.html",
        video=video,
        colors=colors,
        timeline=charts.track_timeline(video, colors),
        starts=json.dumps([_start(r, video.get("fps")) for r in video["track_rows"]]),
    )


def _start(track: dict[str, Any], fps: float | None) -> float:
    """Where the annotated video shows a track's first frame: its frame index over the frame
    rate (the annotated video has every frame at the source's rate), a hair past the boundary."""
    if fps:
        return round(track["first_frame"] / fps + 0.001, 4)
    return float(track["first_time"])


# -- downloads and models -----------------------------------------------------------------------
def _downloads(request: Request) -> dict[str, Any]:
    data = queries.downloads(_catalog(request), _number(request, "study", int))
    data["runs"] = queries.download_runs(_catalog(request))
    return data


def api_downloads(request: Request) -> Response:
    return Json(_downloads(request))


def downloads_page(request: Request) -> Response:
    data = _downloads(request)
    study = data["study"]
    chart = charts.items_by_status(study["by_kind"]) if study else ""
    return _render(request, "downloads.html", data=data, study=study, chart=chart)


def api_models(request: Request) -> Response:
    return Json({"models": queries.models(_catalog(request))})


def models_page(request: Request) -> Response:
    found = queries.models(_catalog(request))
    return _render(request, "models.html", models=[(m, charts.training_curves(m)) for m in found])


def api_index(request: Request) -> Response:
    return Json({"endpoints": API})


def home(request: Request) -> Response:
    return RedirectResponse("/cameras", status_code=303)


ROUTES = [
    Route("/", home),
    Route("/cameras", cameras_page),
    Route("/cameras/{source_id:int}/card", camera_card),
    Route("/counts", counts_page),
    Route("/detections", detections_page),
    Route("/detections/{item_id:int}", detection_page),
    Route("/videos", videos_page),
    Route("/videos/{item_id:int}", video_page),
    Route("/downloads", downloads_page),
    Route("/models", models_page),
    Route("/api", api_index),
    Route("/api/cameras", api_cameras),
    Route("/api/cameras/{source_id:int}", api_camera),
    Route("/api/counts", api_counts),
    Route("/api/detections", api_detections),
    Route("/api/detections/{item_id:int}", api_detection),
    Route("/api/videos", api_videos),
    Route("/api/videos/{item_id:int}", api_video),
    Route("/api/downloads", api_downloads),
    Route("/api/models", api_models),
    Route("/media/{item_id:int}", media),
    Route("/media/{item_id:int}/annotated", annotated),
]

__all__ = ["ROUTES", "detection_filter"]
