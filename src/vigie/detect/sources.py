"""What ``vigie detect`` reads, like ``yolo predict source=``: images, folders, globs, videos, URLs.

Each source becomes image files on disk, named under the outputs, each with its provenance:

- a folder (its images, sub-folders with ``recursive``) or an image file, as before;
- a glob (``'imgs/**/*.jpg'``; ``**`` crosses folders), expanded here, so quoting it works on
  every shell; what it matches is taken as images or videos by suffix;
- a video file: frames sampled by the frames stage (:func:`vigie.frames.extract_frames` with a
  :class:`vigie.frames.Selection`, one frame a second by default) under ``<out>/frames/``, each
  recorded in the catalog as a frame of its video;
- an http(s) URL: fetched through :mod:`vigie.net`'s guarded client (public addresses only
  unless ``allow_private``, every redirect hop checked, a size cap, timeouts), checked as an
  image (or a video, then sampled as above), saved atomically under
  ``<out>/downloads/<digest of the URL>/<its file name>`` and recorded in the catalog with its
  URL.

A source that yields nothing usable (a dead URL, a video that does not open, a glob matching
nothing) is a per-item failure, reported with the detection failures; a local path that does
not exist is a :class:`~vigie.errors.SourceError` for the run, as before.
"""

from __future__ import annotations

import glob
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from vigie.errors import MediaError, SourceError, VigieError
from vigie.files import write_atomic
from vigie.identity import safe_part
from vigie.media import kind_of, list_media

if TYPE_CHECKING:
    import httpx

    from vigie.catalog import Catalog
    from vigie.frames import Selection

log = logging.getLogger(__name__)

FRAMES_DIR = "frames"
DOWNLOADS_DIR = "downloads"
MAX_BYTES = 100 * 1024**2  # an image (or a short video) fetched by URL
MAX_PIXELS = 50_000_000  # decompression-bomb limit, as downloads
_GLOB_CHARS = frozenset("*?[")


def default_selection() -> Selection:
    """One frame a second, as ``vigie frames --mode time --value 1``."""
    from vigie.frames import Selection

    return Selection("time", 1.0)


@dataclass
class Sources:
    """The images of a run: ``images`` in order, each with its output name and origin."""

    images: list[Path] = field(default_factory=list)
    names: dict[Path, Path] = field(default_factory=dict)  # resolved image -> output name
    origins: dict[Path, str] = field(default_factory=dict)  # resolved image -> where from
    failures: list[tuple[Path | str, str]] = field(default_factory=list)  # (source, why)
    root: Path = Path(".")  # the catalog source of images it did not know (first folder)
    video_dirs: dict[str, Path] = field(default_factory=dict)  # frames folder -> its video

    def add(self, path: Path, name: Path, origin: str) -> None:
        resolved = path.resolve()
        if resolved in self.names:
            return
        taken = set(self.names.values())
        unique, n = name, 1
        while unique in taken:  # two sources with an image of the same name
            n += 1
            unique = name.with_name(f"{name.stem}-{n}{name.suffix}")
        self.images.append(path)
        self.names[resolved] = unique
        self.origins[resolved] = origin


def is_url(source: str | Path) -> bool:
    return str(source).lower().startswith(("http://", "https://"))


def is_glob(source: str | Path) -> bool:
    return not Path(str(source)).exists() and bool(_GLOB_CHARS & set(str(source)))


def resolve_sources(
    sources: Sequence[str | Path] | str | Path,
    *,
    out: Path,
    recursive: bool = False,
    frames: Selection | None = None,
    catalog: Catalog | None = None,
    allow_private: bool = False,
    max_bytes: int = MAX_BYTES,
    timeout: float = 30.0,
) -> Sources:
    """Turn the sources of a run into image files (see the module docstring).

    Raises:
        SourceError: a local path that does not exist, or no source at all.
    """
    given = [sources] if isinstance(sources, str | Path) else list(sources)
    if not given:
        raise SourceError("no source given", hint="give folders, images, videos, globs or URLs")
    found = Sources()
    local = [Path(str(s)) for s in given if not is_url(s) and not is_glob(s)]
    if local:
        first = local[0]
        found.root = (first if first.is_dir() else first.parent).resolve()
    urls = [str(s) for s in given if is_url(s)]
    fetched = _fetch_all(urls, out, catalog, allow_private, max_bytes, timeout) if urls else {}
    for source in given:
        text = str(source)
        if is_url(text):
            path, error = fetched[text]
            if path is None:
                found.failures.append((text, error))
            elif kind_of(path) == "video":
                _add_video(found, path, out, frames, catalog, origin=text)
            else:
                found.add(path, Path(DOWNLOADS_DIR) / path.parent.name / path.name, text)
        elif is_glob(text):
            _add_glob(found, text, out, frames, catalog)
        else:
            _add_local(found, Path(text), out, recursive, frames, catalog)
    return found


def _add_local(
    found: Sources,
    path: Path,
    out: Path,
    recursive: bool,
    frames: Selection | None,
    catalog: Catalog | None,
) -> None:
    if path.is_file() and kind_of(path) == "video":
        _add_video(found, path, out, frames, catalog, origin=str(path))
        return
    root = (path if path.is_dir() else path.parent).resolve()
    for image in list_media(path, "image", recursive=recursive):
        found.add(image, _relative(image, root), str(image))


def _add_glob(
    found: Sources, pattern: str, out: Path, frames: Selection | None, catalog: Catalog | None
) -> None:
    matches = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    media = [p for p in matches if kind_of(p) in ("image", "video")]
    if not media:
        found.failures.append((pattern, "the pattern matches no image or video"))
        return
    parts = Path(pattern).parts
    fixed = [p for p in parts[: next(i for i, p in enumerate(parts) if _GLOB_CHARS & set(p))]]
    root = Path(*fixed).resolve() if fixed else Path.cwd()
    for path in media:
        if kind_of(path) == "video":
            _add_video(found, path, out, frames, catalog, origin=str(path))
        else:
            found.add(path, _relative(path, root), str(path))


def _add_video(
    found: Sources,
    video: Path,
    out: Path,
    frames: Selection | None,
    catalog: Catalog | None,
    origin: str,
) -> None:
    """Sample the video's frames with the frames stage; each frame becomes an image source."""
    from vigie.frames import extract_frames

    sel = frames or default_selection()
    stem = safe_part(video.stem)[:80]
    taken = found.video_dirs.setdefault(stem, video.resolve())
    n = 1
    while taken != video.resolve():  # another video of the run with the same name
        n += 1
        taken = found.video_dirs.setdefault(f"{stem}-{n}", video.resolve())
    target = out / FRAMES_DIR / (stem if n == 1 else f"{stem}-{n}")
    try:
        result = extract_frames(
            video, mode=sel.mode, value=sel.value, start=sel.start, end=sel.end,
            strategy=sel.strategy, seed=sel.seed, max_count=sel.max_count, out=target,
            catalog=catalog,
        )  # fmt: skip
    except (MediaError, SourceError) as exc:
        log.warning("%s: %s", video.name, exc.message)
        found.failures.append((video, exc.message))
        return
    if not result.files:
        found.failures.append((video, "; ".join(result.warnings) or "no frame decoded"))
        return
    for frame in result.files:
        name = Path(FRAMES_DIR) / target.name / frame.path.name
        found.add(frame.path, name, f"{origin} frame {frame.frame_index} ({frame.timestamp:.3f} s)")


def _relative(path: Path, root: Path) -> Path:
    try:
        return path.resolve().relative_to(root)
    except ValueError:
        return Path(path.name)


def url_file_name(url: str, extension: str) -> Path:
    """Where ``url`` is saved under ``downloads/``: ``<sha256 of the URL, 12>/<its file name>``.

    The URL's own file name is kept (a study name such as ``53_IG1_1.jpg`` still gives the
    media's identity), in a folder of its own: two URLs ending in ``image.jpg`` get two files, the
    same URL the same file on every run.
    """
    stem = safe_part(PurePosixPath(unquote(urlsplit(url).path)).stem or "media")[:100]
    return Path(hashlib.sha256(url.encode()).hexdigest()[:12]) / f"{stem}.{extension}"


def _fetch_all(
    urls: list[str],
    out: Path,
    catalog: Catalog | None,
    allow_private: bool,
    max_bytes: int,
    timeout: float,
) -> dict[str, tuple[Path | None, str]]:
    """Fetch each URL once (one guarded client); url -> (saved file, "") or (None, why)."""
    from vigie.net import PUBLIC_ONLY, AddressPolicy, sync_client

    policy = AddressPolicy(allow_private=True) if allow_private else PUBLIC_ONLY
    folder = out / DOWNLOADS_DIR
    results: dict[str, tuple[Path | None, str]] = {}
    with sync_client(
        policy, connect_timeout=timeout, read_timeout=timeout, follow_redirects=True
    ) as client:
        for url in dict.fromkeys(urls):
            try:
                path = _fetch(client, url, folder, max_bytes, timeout)
            except VigieError as exc:
                log.warning("%s: %s", url, exc.message)
                results[url] = (None, exc.message)
                if catalog is not None:
                    _record(catalog, url, None, exc.message)
                continue
            results[url] = (path, "")
            if catalog is not None:
                _record(catalog, url, path)
    return results


def _fetch(client: httpx.Client, url: str, folder: Path, max_bytes: int, timeout: float) -> Path:
    """GET ``url`` within the caps, check the body is media, write it atomically.

    Raises:
        SourceError: the request failed, was refused or the body is not an image or a video.
    """
    import httpx

    from vigie.media.image import InvalidMediaError
    from vigie.media.validate import EXTENSIONS, PIL_FORMATS, sniff, validate_media
    from vigie.net import BodyError, read_capped

    try:
        with client.stream("GET", url) as resp:
            if resp.status_code != 200:
                raise SourceError(f"HTTP {resp.status_code}")
            body = read_capped(resp, max_bytes, deadline=4 * timeout)
    except BodyError as exc:
        raise SourceError(f"{exc.error_class}: {exc}") from None
    except VigieError:
        raise
    except (httpx.HTTPError, OSError) as exc:  # the guarded transport's refusals included
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise SourceError(f"{type(exc).__name__}: {message}") from None
    fmt = sniff(body[:16])
    if fmt is None:
        kind = "HTML" if body.lstrip()[:1] == b"<" else repr(body[:8])
        raise SourceError(f"not an allowed image or video (starts with {kind})")
    target = folder / url_file_name(url, EXTENSIONS[fmt])
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if fmt in PIL_FORMATS:
            validate_media(body, target, MAX_PIXELS)  # in memory, before anything is written
        write_atomic(target, body)
        if fmt not in PIL_FORMATS:
            validate_media(None, target, MAX_PIXELS)  # a video is checked on disk
    except InvalidMediaError as exc:
        target.unlink(missing_ok=True)
        raise SourceError(f"{exc.error_class}: {exc}") from None
    return target


def _record(catalog: Catalog, url: str, path: Path | None, error: str | None = None) -> None:
    """The fetched file as a media item carrying its URL (its detections trace back to it), or
    the URL as a failed item with the reason."""
    host = urlsplit(url).hostname or "url"
    row: dict[str, object] = {
        "key": f"url:{url}",
        "source_id": catalog.source("urls", host),
        "url": url,
        "kind": "image",
        "status": "failed",
        "error_class": "SourceError",
        "error": error,
    }
    if path is not None:
        resolved = path.resolve()
        row.update(
            kind=kind_of(path).value, path=str(resolved), filename=path.name,
            size_bytes=resolved.stat().st_size, status="done", error_class=None, error=None,
        )  # fmt: skip
    catalog.upsert_item(**row)


def estimate(sources: Sequence[str | Path] | str | Path, recursive: bool = False) -> int | None:
    """How many images the sources hold, when that is known before the run (only local images
    and folders); None when a glob, a video or a URL is among them."""
    given = [sources] if isinstance(sources, str | Path) else list(sources)
    total = 0
    for s in given:
        if is_url(s) or is_glob(s) or kind_of(s) == "video":
            return None
        total += len(list_media(Path(str(s)), "image", recursive=recursive))
    return total
