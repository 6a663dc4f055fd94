"""Camera registry: the Grand Lyon CRITER open-data feed, and plain camera list files.

The feed is a GeoJSON FeatureCollection whose features carry ``properties`` (``nom``,
``libellelong``, ``identifiant``, ``numeromaintenance``, ``url`` of the JPEG snapshot,
``observation``) and a WGS84 Point. A plain JSON list of such objects, or the ``{"values": [...]}``
shape of the Grand Lyon REST API, are read the same way. A text/CSV list holds one camera per line:
``URL``, ``NAME URL`` or ``NAME,URL`` (``#`` starts a comment; a ``name,url`` header is skipped).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vigie.errors import ConfigError, NetworkError, SourceError

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Camera:
    """One camera: a folder-safe name and the URL of its current snapshot."""

    name: str
    url: str
    label: str | None = None  # "nom" in the Grand Lyon feed
    description: str | None = None  # "libellelong"
    identifier: str | None = None  # "identifiant"
    observation: str | None = None  # e.g. "Direction : Tunnel de la Croix Rousse"
    lon: float | None = None
    lat: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, text: str) -> bool:
        """Case-insensitive substring match on every descriptive field."""
        needle = text.casefold()
        fields = (self.name, self.label, self.description, self.identifier, self.observation)
        return any(needle in f.casefold() for f in fields if f)


def safe_name(text: str) -> str:
    """A name usable as a folder: letters, digits, ``.``, ``_``, ``-`` only, at most 100 chars."""
    cleaned = _UNSAFE.sub("_", text).strip("._-")[:100]
    return cleaned or "camera"


def name_from_url(url: str) -> str:
    """Folder name for a camera given only by URL: the file stem of its path, else its host."""
    parts = urlsplit(url)
    stem = Path(parts.path).stem
    return safe_name(stem or parts.hostname or "camera")


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def _is_camera_url(text: str) -> bool:
    return _is_url(text) or text.lower().startswith(("rtsp://", "rtsps://"))


def _opt_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _camera_from_record(record: dict[str, Any]) -> Camera | None:
    props = record.get("properties", record)
    if not isinstance(props, dict):
        return None
    url = _opt_str(props.get("url"))
    if not url:
        return None
    lon = lat = None
    geometry = record.get("geometry")
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        coords = geometry.get("coordinates") or []
        if len(coords) >= 2:
            lon, lat = float(coords[0]), float(coords[1])
    ident = _opt_str(props.get("numeromaintenance")) or _opt_str(props.get("identifiant"))
    label = _opt_str(props.get("nom"))
    return Camera(
        name=safe_name(ident or label or name_from_url(url)),
        url=url,
        label=label,
        description=_opt_str(props.get("libellelong")),
        identifier=_opt_str(props.get("identifiant")),
        observation=_opt_str(props.get("observation")),
        lon=lon,
        lat=lat,
    )


def parse_camera_feed(text: str) -> list[Camera]:
    """Cameras of a Grand Lyon feed (GeoJSON, JSON list or ``{"values": [...]}``).

    Raises:
        SourceError: not JSON, or not one of those shapes.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"the camera feed is not JSON ({exc.msg} at line {exc.lineno})",
            hint="give the GeoJSON of the Grand Lyon CRITER cameras, or a text list of URLs",
        ) from None
    records = data.get("features", data.get("values")) if isinstance(data, dict) else data
    if not isinstance(records, list):
        raise SourceError(
            "the camera feed has no 'features' list",
            hint="expected a GeoJSON FeatureCollection of cameras",
        )
    cameras = [c for r in records if isinstance(r, dict) and (c := _camera_from_record(r))]
    return _unique_names(cameras)


def parse_camera_list(text: str) -> list[Camera]:
    """Cameras of a text or CSV list (``URL``, ``NAME URL`` or ``NAME,URL`` per line)."""
    cameras = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = next(csv.reader(io.StringIO(line))) if "," in line else line.split()
        fields = [f.strip() for f in fields if f.strip()]
        urls = [f for f in fields if _is_camera_url(f)]
        if not urls:
            if [f.lower() for f in fields[:2]] in (["name", "url"], ["url", "name"]):
                continue  # CSV header
            raise SourceError(f"no http(s) or rtsp URL on camera list line: {line[:80]!r}")
        names = [f for f in fields if not _is_camera_url(f)]
        url = urls[0]
        cameras.append(Camera(name=safe_name(names[0]) if names else name_from_url(url), url=url))
    return _unique_names(cameras)


def _unique_names(cameras: list[Camera]) -> list[Camera]:
    seen: dict[str, int] = {}
    out = []
    for cam in cameras:
        n = seen.get(cam.name, 0)
        seen[cam.name] = n + 1
        if n:
            cam = Camera(**{**cam.as_dict(), "name": f"{cam.name}_{n + 1}"})
        out.append(cam)
    return out


def _fetch_text(url: str, timeout: float) -> str:
    import httpx

    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            resp = client.get(url, headers={"Accept": "application/json, */*"})
    except httpx.HTTPError as exc:
        raise NetworkError(
            f"cannot fetch the camera list {url}: {exc.__class__.__name__}",
            hint="check the network, or pass a local copy with --source FILE",
        ) from None
    if resp.status_code != 200:
        raise NetworkError(
            f"the camera list {url} answered HTTP {resp.status_code}",
            hint="check the URL, or pass a local copy with --source FILE",
        )
    return resp.text


def load_cameras(source: str | Path, timeout: float = 30.0) -> list[Camera]:
    """Cameras from a URL or a file (GeoJSON/JSON feed, or a text/CSV list).

    Raises:
        ConfigError: the file does not exist.
        NetworkError: the URL cannot be fetched.
        SourceError: the content cannot be read as a camera list.
    """
    if isinstance(source, str) and _is_url(source):
        text = _fetch_text(source, timeout)
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"camera list not found: {path}", hint="check the file path")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise SourceError(
                f"cannot read {path}: not a text file",
                hint="give a text/CSV camera list (NAME URL per line) or the Grand Lyon GeoJSON",
            ) from None
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    if text.lstrip().startswith(("{", "[")):
        return parse_camera_feed(text)
    return parse_camera_list(text)


def list_cameras(
    source: str | Path | None = None, search: str | None = None, timeout: float = 30.0
) -> list[Camera]:
    """The cameras of the registry, optionally filtered by a text search.

    Args:
        source: URL or file of the feed; default the Grand Lyon CRITER open-data feed
            (``capture.cameras_source`` setting).
        search: keep cameras whose name, label, description, id or direction contains it.
        timeout: seconds for fetching a URL.
    """
    if source is None:
        from vigie.config import CaptureSettings

        source = CaptureSettings().cameras_source
    cameras = load_cameras(source, timeout)
    return [c for c in cameras if c.matches(search)] if search else cameras


def select_cameras(cameras: list[Camera], wanted: list[str]) -> list[Camera]:
    """The cameras named in ``wanted`` (by name, identifier or label, case-insensitive).

    Raises:
        ConfigError: a wanted camera is not in the list.
    """
    out: list[Camera] = []
    for want in wanted:
        key = want.casefold()
        found = [
            c
            for c in cameras
            if key in {(f or "").casefold() for f in (c.name, c.identifier, c.label)}
        ]
        if not found:
            raise ConfigError(
                f"camera {want!r} is not in the camera list",
                hint="see the names with: vigie cameras list --source <the same list>",
            )
        out.extend(c for c in found if c not in out)
    return out
