"""Pull annotations (API or export file) into ``DIR/images`` + ``DIR/labels`` (YOLO).

``DIR/classes.txt`` keeps the class names in the labelling config's order (the YOLO ids);
``DIR/manifest.jsonl`` maps each image to its task, annotation and original reference.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigie.catalog import Catalog
from vigie.errors import ConfigError, LabelStudioError, SourceError
from vigie.labelstudio.client import ONCE, LabelStudioClient, LabelStudioHTTPError
from vigie.labelstudio.export import (
    AnnotatedTask,
    assign_names,
    load_export_text,
    parse_export,
    yolo_text,
)
from vigie.labelstudio.fetch import FetchError, ImageFetcher, sweep_parts, write_atomic
from vigie.labelstudio.project import get_project

log = logging.getLogger(__name__)

# Images fetched at once. Label Studio serves files from one Python process: beyond a few
# requests in flight it only queues them (measured in docs/benchmarks/labelstudio.md).
WORKERS = 4


@dataclass
class PullResult:
    """Counts of a pull; ``downloaded + present + failed == labelled`` when downloading."""

    tasks: int = 0  # export items read
    labelled: int = 0  # tasks with a usable annotation
    labels_written: int = 0
    downloaded: int = 0
    present: int = 0  # images already in DIR/images
    failed: int = 0
    unannotated: int = 0
    cancelled: int = 0
    clipped_boxes: int = 0
    malformed: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)


def export_json(client: LabelStudioClient, project_id: int) -> bytes:
    """``projects.exports.download_sync``: every task as a JSON export, in one request."""
    return client.call(
        lambda: b"".join(
            client.sdk.projects.exports.download_sync(
                id=project_id, export_type="JSON", download_all_tasks=True
            )
        ),
        what=f"export of project {project_id}",
    )


def export_snapshot(client: LabelStudioClient, project_id: int, timeout: float = 600.0) -> bytes:
    """``projects.exports`` create, get (until completed) and download: a JSON export."""
    import time

    what = f"export snapshot of project {project_id}"
    snap = client.call(
        lambda: client.sdk.projects.exports.create(
            id=project_id, title="vigie pull", request_options=ONCE
        ),
        what=what,
    )
    snap_id = snap.id
    deadline = time.monotonic() + timeout
    while str(snap.status) not in ("completed", "failed"):
        if time.monotonic() > deadline:
            raise LabelStudioError(f"export snapshot {snap.id} did not finish in {timeout:.0f} s")
        time.sleep(1)
        snap = client.call(
            lambda: client.sdk.projects.exports.get(id=project_id, export_pk=snap_id), what=what
        )
    if str(snap.status) == "failed":
        raise LabelStudioError(f"export snapshot {snap.id} failed on the server")
    return client.call(
        lambda: b"".join(
            client.sdk.projects.exports.download(
                id=project_id, export_pk=snap_id, export_type="JSON"
            )
        ),
        what=what,
    )


def fetch_export(client: LabelStudioClient, project_id: int, snapshot: bool = False) -> list[Any]:
    """All tasks of a project: one JSON export (default), or an export snapshot.

    The export is one request where the task pages are one per 100 tasks and take twice as
    long (docs/benchmarks/labelstudio.md); a server without the one-request export (Enterprise answers 404) is read
    through the SDK's task pager.
    """
    if snapshot:
        return load_export_text(export_snapshot(client, project_id).decode("utf-8"))
    try:
        return load_export_text(export_json(client, project_id).decode("utf-8"))
    except LabelStudioHTTPError as exc:
        if exc.status != 404:
            raise
    log.info("no one-request export on this server: reading the task pages")
    return list(client.tasks(project_id))


def read_export_file(path: Path) -> list[Any]:
    """Parse a JSON or JSON_MIN export file (raises SourceError)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceError(
            f"cannot read the export {path}: not a UTF-8 text file",
            hint="export the project as JSON or JSON_MIN from Label Studio",
        ) from None
    except OSError as exc:
        raise SourceError(f"cannot read the export {path}: {exc.strerror or exc}") from None
    return load_export_text(text)


def pull(
    out: Path,
    *,
    client: LabelStudioClient | None = None,
    project_id: int | None = None,
    export_file: Path | None = None,
    labels: list[str] | None = None,
    download: bool = True,
    snapshot: bool = False,
    images_subdir: str = "images",
    document_root: Path | None = None,
    media_root: Path | None = None,
    allow_private: bool = False,
    catalog: Catalog | None = None,
    workers: int = WORKERS,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PullResult:
    """Write the annotated images and their YOLO labels to ``out``.

    Args:
        client: needed for ``project_id`` and for images served by Label Studio.
        project_id / export_file: where the annotations come from (exactly one).
        labels: class names in order; default: the project's config (API) or required (file).
        download: False writes only the labels.
        snapshot: read the project through an export snapshot instead of one export request.
        images_subdir: the images' sub-folder of ``out``; ``"."`` puts them in ``out`` itself (the
            seed's ``images_labels/`` layout), labels always go to ``out/labels``.
        media_root: Label Studio's media folder (``<its data dir>/media``) when the server runs
            on this machine: uploaded images are read from it, not requested one by one.
        workers: images fetched at once (bounded: at most 4x that many tasks in flight).

    Raises:
        ConfigError, SourceError, LabelStudioError: unusable input or server.
    """
    if (project_id is None) == (export_file is None):
        raise ConfigError("give exactly one of --project and --export")
    if media_root is not None and not (media_root / "upload").is_dir():
        raise ConfigError(
            f"the Label Studio media folder {media_root} has no upload/ folder",
            hint="give Label Studio's <data dir>/media (e.g. ~/.local/share/label-studio/media)",
        )
    image_field, from_name = "image", None
    if project_id is not None:
        if client is None:
            raise ConfigError("pulling a project needs a Label Studio client")
        with ThreadPoolExecutor(max_workers=1) as side:  # the config while the export comes
            config = side.submit(get_project, client, project_id)
            items = fetch_export(client, project_id, snapshot)
            project = config.result()
        labels = labels or project.config.labels
        image_field, from_name = project.config.image_field, project.config.from_name
    else:
        assert export_file is not None
        items = read_export_file(export_file)
    if not labels:
        raise ConfigError("no class names", hint="pass --labels in the project's order")
    parsed = parse_export(items, labels, image_field, from_name)
    result = PullResult(
        tasks=len(items),
        labelled=len(parsed.tasks),
        unannotated=parsed.unannotated,
        cancelled=parsed.cancelled,
        clipped_boxes=parsed.clipped,
        malformed=parsed.malformed,
        classes=list(labels),
    )
    for where, why in parsed.malformed:
        log.warning("skipped malformed export item %s: %s", where, why)
    images_dir, labels_dir = out / images_subdir, out / "labels"
    images_dir.mkdir(parents=True, exist_ok=True)
    labels_dir.mkdir(parents=True, exist_ok=True)
    sweep_parts(images_dir)
    sweep_parts(labels_dir)
    write_atomic(out / "classes.txt", "".join(f"{n}\n" for n in labels).encode())
    names = assign_names(parsed.tasks)
    if on_total:
        on_total(len(parsed.tasks))
    if media_root is None and download and client is not None:
        found = local_media_root(client.url)
        if found is not None:
            log.info("Label Studio runs on this machine: --media-root %s reads its images", found)
    fetcher = ImageFetcher(
        client,
        client.url if client else None,
        document_root,
        allow_private=allow_private,
        media_root=media_root,
    )
    manifest: list[dict[str, Any]] = []
    catalog_rows: list[dict[str, Any]] = []

    def job(task: AnnotatedTask) -> tuple[str, str]:
        return _one(task, names[task.task_id], images_dir, labels_dir, labels, download, fetcher)

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for task, (status, error) in _in_order(pool, job, parsed.tasks, 4 * max(1, workers)):
                name = names[task.task_id]
                if status == "failed":
                    result.failed += 1
                    result.failures.append((name, error))
                    log.warning(
                        "cannot get the image of task %s (%s): %s", task.task_id, name, error
                    )
                else:
                    result.downloaded += status == "downloaded"
                    result.present += status == "present"
                    result.labels_written += 1
                    manifest.append(_manifest_row(task, name, project_id))
                    if catalog is not None and download:
                        catalog_rows.append(
                            _catalog_row(task, images_dir / name, project_id, fetcher)
                        )
                if on_progress:
                    on_progress(1)
    finally:
        fetcher.close()
    write_atomic(out / "manifest.jsonl", "".join(json.dumps(r) + "\n" for r in manifest).encode())
    if catalog is not None and catalog_rows:
        catalog.upsert_items(catalog_rows)
    return result


def _in_order(
    pool: ThreadPoolExecutor,
    fn: Callable[[AnnotatedTask], tuple[str, str]],
    tasks: list[AnnotatedTask],
    ahead: int,
) -> Iterator[tuple[AnnotatedTask, tuple[str, str]]]:
    """``fn`` of every task on the pool, results in task order, at most ``ahead`` in flight
    (the pool never idles at a window edge, and memory stays bounded)."""
    pending: deque[tuple[AnnotatedTask, Future[tuple[str, str]]]] = deque()
    for task in tasks:
        pending.append((task, pool.submit(fn, task)))
        if len(pending) >= ahead:
            done, fut = pending.popleft()
            yield done, fut.result()
    while pending:
        done, fut = pending.popleft()
        yield done, fut.result()


def _one(
    task: AnnotatedTask,
    name: str,
    images_dir: Path,
    labels_dir: Path,
    labels: list[str],
    download: bool,
    fetcher: ImageFetcher,
) -> tuple[str, str]:
    """Get one image (unless present) and write its label: (status, error message)."""
    image = images_dir / name
    status = "labels-only"
    if download:
        if image.is_file() and image.stat().st_size > 0:
            status = "present"
        else:
            try:
                write_atomic(image, fetcher.fetch(task.image_ref))
            except (FetchError, OSError) as exc:
                return "failed", str(exc) or exc.__class__.__name__
            status = "downloaded"
    write_atomic(labels_dir / (Path(name).stem + ".txt"), yolo_text(task, labels).encode())
    return status, ""


def _manifest_row(task: AnnotatedTask, name: str, project_id: int | None) -> dict[str, Any]:
    return {
        "image": name,
        "label": Path(name).stem + ".txt",
        "task_id": task.task_id,
        "annotation_id": task.annotation_id,
        "project_id": project_id,
        "ref": task.image_ref,
        "boxes": len(task.boxes),
    }


def _catalog_row(
    task: AnnotatedTask, path: Path, project_id: int | None, fetcher: ImageFetcher
) -> dict[str, Any]:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    scope = f"{fetcher.base_url}:{project_id}" if project_id is not None else "export"
    return {
        "key": f"labelstudio:{scope}:{task.task_id}",
        "kind": "image",
        "status": "done",
        "path": str(path.resolve()),
        "filename": path.name,
        "sha256": digest,
        "size_bytes": path.stat().st_size,
        "meta": {"task_id": task.task_id, "annotation_id": task.annotation_id},
    }


def local_media_root(url: str) -> Path | None:
    """The media folder of a Label Studio at ``url`` when it runs on this machine, if found.

    Looked for where ``label-studio start`` keeps it: ``$LABEL_STUDIO_BASE_DATA_DIR/media``, else
    ``~/.local/share/label-studio/media``; only for a loopback ``url``.
    """
    import os
    from urllib.parse import urlsplit

    if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    base = os.environ.get("LABEL_STUDIO_BASE_DATA_DIR")
    media = Path(base) / "media" if base else Path.home() / ".local/share/label-studio/media"
    return media if (media / "upload").is_dir() else None
