"""The capture loop: poll each camera on its grid, keep only new pictures, record every poll.

Each camera runs as one asyncio task with its own folder and state (last kept picture, ETag /
Last-Modified, Retry-After). Every poll ends as one catalog item: ``done`` (file kept),
``duplicate`` (same bytes, same picture within the hash threshold, or 304) or ``failed`` with an
``error_class``. SIGINT/SIGTERM set a stop flag: the frame in flight may finish within
``stop_grace`` seconds, then the run ends with the run record marked ``interrupted``.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from vigie.capture.kinds import url_kind
from vigie.capture.registry import Camera, name_from_url, safe_name
from vigie.capture.runner import Runner
from vigie.capture.state import FRAME_NAME, CameraStats, CaptureResult, last_kept_frame
from vigie.catalog import Catalog
from vigie.config import Settings, load_settings, stage_options
from vigie.errors import ConfigError

__all__ = ["FRAME_NAME", "CameraStats", "CaptureResult", "capture", "last_kept_frame"]


def _resolve_cameras(
    urls: list[str], names: list[str], cameras: list[Camera], image_url: str | None, kind: str
) -> list[Camera]:
    cams = list(cameras)
    if not urls and not cams and image_url:
        urls = [image_url]
    if urls:
        if names and len(names) != len(urls):
            raise ConfigError(
                f"{len(names)} --camera names for {len(urls)} --url",
                hint="give one --camera NAME per --url, in the same order, or none",
            )
        for i, url in enumerate(urls):
            name = safe_name(names[i]) if names else name_from_url(url)
            cams.append(Camera(name=name, url=url))
    if not cams:
        raise ConfigError(
            "no camera to capture",
            hint="give --url URL, --cameras FILE, or IMAGE_URL in the environment or .env",
        )
    seen: Counter[str] = Counter()
    out = []
    for cam in cams:
        url_kind(cam.url, kind)  # raises ConfigError for a URL or --kind it cannot capture
        seen[cam.name] += 1
        if seen[cam.name] > 1:
            cam = Camera(**{**cam.as_dict(), "name": f"{cam.name}_{seen[cam.name]}"})
        out.append(cam)
    return out


def capture(
    urls: list[str] | None = None,
    *,
    names: list[str] | None = None,
    cameras: list[Camera] | None = None,
    every: float | None = None,
    count: int | None = None,
    out: Path | str | None = None,
    method: str | None = None,
    threshold: int | None = None,
    timezone: str | None = None,
    timeout: float | None = None,
    kind: str | None = None,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    stop_event: threading.Event | None = None,
    on_poll: Callable[[CameraStats, str], None] | None = None,
) -> CaptureResult:
    """Poll cameras on a fixed schedule and keep each new picture once.

    Args:
        urls: camera URLs (any address, LAN and loopback included): http(s) snapshots, HLS
            playlists (``.m3u8``), MJPEG streams (``multipart/x-mixed-replace``) or ``rtsp://``
            streams; a stream gives its latest frame at each tick and is reopened when it drops.
        names: folder names for ``urls`` (default: the URL's file stem).
        cameras: cameras from a registry (:func:`vigie.capture.list_cameras`).
        every, count, out, method, threshold, timezone, timeout, kind: override
            ``settings.capture`` (``count`` polls per camera, 0 = until stopped; ``kind`` one of
            ``auto``, ``snapshot``, ``hls``, ``rtsp``, ``mjpeg``).
        settings: the settings (default :func:`vigie.config.load_settings`); ``image_url`` is
            used when no URL or camera is given.
        catalog: the catalog to record into (default: the one of ``settings``).
        stop_event: set it to stop (SIGINT/SIGTERM do the same in the main thread).
        on_poll: called after every poll with the camera's stats and the outcome
            (``"done"``, ``"duplicate"`` or ``"failed"``).

    Returns:
        The per-camera stats and the kept frames (with ``count=0``, only the latest 1,000 kept
        frames, so that memory stays flat however long the run; the catalog has them all).

    Raises:
        ConfigError: no camera, a bad URL or a bad setting.
    """
    cfg = settings or load_settings()
    cap = stage_options(
        cfg.capture,
        "capture",
        every=every,
        count=count,
        out=out,
        hash=method,
        threshold=threshold,
        timezone=timezone,
        timeout=timeout,
        kind=kind,
    )
    cams = _resolve_cameras(
        list(urls or []), list(names or []), list(cameras or []), cfg.image_url, cap.kind
    )
    if not cap.camera_folders and len(cams) > 1:
        raise ConfigError(
            f"{len(cams)} cameras but no camera folders (capture.camera_folders = false)",
            hint="capture one camera per --out folder, or keep one folder per camera",
        )
    own_catalog = catalog is None
    cat = catalog or Catalog.from_settings(cfg)
    try:
        run_config = cfg.safe_dump()
        run_config["capture"] = cap.model_dump(mode="json")
        run_config["cameras"] = [c.as_dict() for c in cams]
        run_id = cat.start_run("capture", run_config)
        runner = Runner(cap, cat, run_id, on_poll)
        result = CaptureResult(run_id=run_id, cameras=[])
        try:
            states = [runner.prepare(cam) for cam in cams]
            result.cameras = [s.stats for s in states]
            result.interrupted = asyncio.run(runner.run_all(states, stop_event))
            result.frames = list(runner.frames)
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            cat.finish_run(run_id, status, runner.counts(), error=str(exc)[:2000] or None)
            raise
        status = "interrupted" if result.interrupted else "done"
        cat.finish_run(run_id, status, runner.counts())
        return result
    finally:
        if own_catalog:
            cat.close()
