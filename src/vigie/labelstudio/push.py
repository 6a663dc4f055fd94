"""Import a folder of images into a Label Studio project as tasks, exactly once.

Two storages: ``upload`` sends the files through the import API (tasks point at
``/data/upload/<project>/<uuid>-<name>``); ``local-files`` imports references
``/data/local-files/?d=<path relative to the document root>`` after checking, before any request,
that every file lies inside the document root.

Idempotence: every imported image is recorded in the catalog (``ls_tasks``) and skipped next time.
An import POST is never retried blindly: after a 5xx, a timeout or a dropped connection the
server may have committed the batch, so the project's tasks are listed first and only the images
really missing are sent again (reliability promise 12).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from vigie.catalog import Catalog
from vigie.catalog.labelstudio import imported_tasks, record_tasks
from vigie.errors import AuthError, ConfigError, LabelStudioError, NetworkError, SourceError
from vigie.labelstudio.client import LabelStudioClient, LabelStudioHTTPError
from vigie.labelstudio.export import strip_upload_prefix
from vigie.labelstudio.predictions import Predictor
from vigie.labelstudio.project import ProjectInfo, get_project
from vigie.media import list_media

log = logging.getLogger(__name__)

STORAGES = ("upload", "local-files")
LOCAL_FILES_PREFIX = "/data/local-files/?d="


@dataclass
class PushResult:
    """What a push did; ``imported + skipped + failed == found`` (minus what --max left out)."""

    project_id: int
    storage: str
    found: int = 0
    imported: int = 0
    skipped: int = 0  # already imported (catalog)
    failed: int = 0
    reconciled: int = 0  # found on the server unrecorded (error answer, interrupted run)
    predictions: int = 0
    left_for_later: int = 0  # beyond --max
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Item:
    path: Path
    media_id: int
    name: str  # upload file name (unique within the push)
    ref: str  # local-files reference, or "" for uploads


def list_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursive), sorted; raises SourceError if not a folder."""
    if not folder.is_dir():
        raise SourceError(f"{folder} is not a folder", hint="give the folder of images to push")
    return list_media(folder, "image", recursive=True, allow_empty=True)


def local_files_ref(path: Path, document_root: Path) -> str:
    """``/data/local-files/?d=<relative path>`` for a file inside ``document_root``.

    Raises:
        ConfigError: the file is outside the document root (nothing is sent).
    """
    root = document_root.resolve()
    full = path.resolve()
    if not full.is_relative_to(root) or full == root:
        raise ConfigError(
            f"{path} is outside the Label Studio document root {root}",
            hint="move the images under LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT, set "
            "labelstudio.local_files_document_root, or push with --storage upload",
        )
    return LOCAL_FILES_PREFIX + quote(full.relative_to(root).as_posix(), safe="/")


def _ref_path(ref: str) -> str:
    """The unquoted relative path of a local-files reference (or "")."""
    query = urlsplit(ref).query
    return unquote(parse_qs(query).get("d", [""])[0]) if ref.startswith("/data/local-files") else ""


def resolve_document_root(explicit: Path | None) -> Path:
    """The local-files document root: explicit setting, else Label Studio's own variable."""
    root = explicit or (
        Path(os.environ["LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT"])
        if os.environ.get("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT")
        else None
    )
    if root is None:
        raise ConfigError(
            "--storage local-files needs the Label Studio document root",
            hint="set labelstudio.local_files_document_root or LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT",
        )
    return root


def _upload_name(path: Path, folder: Path) -> str:
    """A flat, unique file name for the upload: the relative path with '/' -> '__'."""
    return "__".join(path.relative_to(folder).parts)


def push(
    client: LabelStudioClient,
    catalog: Catalog,
    folder: Path,
    project_id: int,
    *,
    storage: str = "upload",
    batch: int = 50,
    max_items: int | None = None,
    document_root: Path | None = None,
    predictor: Predictor | None = None,
    run_id: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PushResult:
    """Import the images of ``folder`` into project ``project_id``.

    Args:
        storage: ``upload`` or ``local-files``.
        batch: images per import request.
        max_items: import at most this many new images in this run (the seed's max_uploads).
        document_root: Label Studio's LOCAL_FILES_DOCUMENT_ROOT (local-files only).
        predictor: attaches the model's boxes as predictions (pre-annotations).
        on_progress: called with the number of images finished after each batch.

    Raises:
        ConfigError: bad storage, or (local-files) a file outside the document root.
        AuthError / LabelStudioError: the server refused the whole run.
    """
    if storage not in STORAGES:
        raise ConfigError(f"unknown storage {storage!r}", hint="use upload or local-files")
    folder = folder.resolve()
    paths = list_images(folder)
    refs: dict[Path, str] = {}
    if storage == "local-files":  # validate everything before any request
        root = resolve_document_root(document_root)
        refs = {p: local_files_ref(p, root) for p in paths}
    result = PushResult(project_id, storage, found=len(paths))
    project = get_project(client, project_id)
    items = _catalog_items(catalog, folder, paths, refs)
    done = imported_tasks(catalog, client.url, project_id)
    todo = [it for it in items if it.media_id not in done]
    if todo and _server_task_count(client, project_id) > len(done):
        # The project holds tasks the catalog does not know: an interrupted run (killed between
        # the import and its bookkeeping), another catalog... Adopt those that are ours.
        found = _reconcile(client, project_id, storage, todo, set(done.values()))
        if found:
            log.info("%d images were already in project %s: recorded", len(found), project_id)
            record_tasks(catalog, _rows(client, project_id, storage, found, None, run_id))
            result.reconciled += len(found)
            adopted = {it.media_id for it, _ in found}
            done.update({it.media_id: t for it, t in found})
            todo = [it for it in todo if it.media_id not in adopted]
    result.skipped = len(items) - len(todo)
    if on_progress and result.skipped:
        on_progress(result.skipped)
    readable = _drop_unreadable(todo, result)
    if on_progress and len(readable) < len(todo):
        on_progress(len(todo) - len(readable))
    todo = readable
    if max_items is not None and len(todo) > max_items:
        result.left_for_later = len(todo) - max_items
        todo = todo[:max_items]
    if not todo:
        return result
    if storage == "local-files":
        _ensure_local_storage(client, project_id, {it.path.parent for it in todo}, root)
    known_tasks = set(done.values())
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        mapping = _import_batch(
            client, project, storage, chunk, known_tasks, result, verify=predictor is not None
        )
        rows = _rows(
            client,
            project_id,
            storage,
            mapping,
            predictor.model_version if predictor else None,
            run_id,
        )
        record_tasks(catalog, rows)  # first: a later failure must not lose what was imported
        known_tasks.update(t for _, t in mapping)
        result.imported += len(mapping)
        if predictor is not None and mapping:
            result.predictions += _attach_predictions(client, project, predictor, mapping, result)
        if on_progress:
            on_progress(len(chunk))
    return result


def _drop_unreadable(todo: list[_Item], result: PushResult) -> list[_Item]:
    """The items whose file decodes as an image; the others are failures (never sent)."""
    from vigie.dedup import hash_files

    keep: list[_Item] = []
    for it, h in zip(todo, hash_files([it.path for it in todo]), strict=True):
        if isinstance(h, int):
            keep.append(it)
        else:
            result.failed += 1
            result.failures.append((str(it.path), f"not a readable image ({h})"))
            log.warning("%s: not pushed, not a readable image: %s", it.path.name, h)
    return keep


def _rows(
    client: LabelStudioClient,
    project_id: int,
    storage: str,
    mapping: list[tuple[_Item, int]],
    model_version: str | None,
    run_id: int | None,
) -> list[dict[str, Any]]:
    return [
        {
            "server": client.url,
            "project_id": project_id,
            "media_item_id": it.media_id,
            "task_id": task_id,
            "storage": storage,
            "data_ref": it.ref or it.name,
            "model_version": model_version,
            "run_id": run_id,
        }
        for it, task_id in mapping
    ]


def _server_task_count(client: LabelStudioClient, project_id: int) -> int:
    data = client.request("GET", f"api/projects/{project_id}/", what="project task count").json()
    count = data.get("task_number") if isinstance(data, dict) else None
    return int(count) if isinstance(count, int) else 1 << 30  # unknown: reconcile to be safe


def _catalog_items(
    catalog: Catalog, folder: Path, paths: Sequence[Path], refs: dict[Path, str]
) -> list[_Item]:
    """Media item ids for the files (existing catalog items by path, else new folder items)."""
    source_id = catalog.source("folder", str(folder))
    new_rows: list[dict[str, Any]] = []
    ids: dict[Path, int] = {}
    for p in paths:
        row = catalog.item_by_path(p)
        if row is not None:
            ids[p] = int(row.id)
        else:
            new_rows.append(
                {
                    "key": f"file:{p}",
                    "kind": "image",
                    "status": "done",
                    "path": str(p),
                    "filename": p.name,
                    "source_id": source_id,
                    "size_bytes": p.stat().st_size,
                }
            )
    if new_rows:
        catalog.upsert_items(new_rows)
        for r in new_rows:
            found = catalog.item(r["key"])
            assert found is not None
            ids[Path(r["path"])] = int(found.id)
    return [_Item(p, ids[p], _upload_name(p, folder), refs.get(p, "")) for p in paths]


def _ensure_local_storage(
    client: LabelStudioClient, project_id: int, folders: set[Path], root: Path
) -> None:
    """Label Studio serves a local file only under a local storage of the project: add one."""
    resp = client.request(
        "GET", "api/storages/localfiles/", params={"project": project_id}, what="storage lookup"
    )
    existing = [Path(s["path"]) for s in resp.json() if s.get("path")]
    for folder in sorted(folders):
        if any(folder.is_relative_to(p) for p in existing):
            continue
        if folder == root.resolve():
            raise ConfigError(
                f"images directly in the document root {root} cannot be served by Label Studio",
                hint="put them in a subfolder of the document root",
            )
        client.request(
            "POST",
            "api/storages/localfiles/",
            json={
                "project": project_id,
                "path": str(folder),
                "use_blob_urls": True,
                "title": f"vigie {folder.name}",
            },
            what="local storage creation",
        )
        existing.append(folder)
        log.info("added a local-files storage %s to project %s", folder, project_id)


def _post_batch(
    client: LabelStudioClient, project_id: int, storage: str, chunk: list[_Item]
) -> list[int]:
    path = f"api/projects/{project_id}/import"
    params = {"return_task_ids": "true"}
    if storage == "upload":
        handles = [it.path.open("rb") for it in chunk]
        try:
            files = [
                (f"file{i}", (it.name, fh))
                for i, (it, fh) in enumerate(zip(chunk, handles, strict=True))
            ]
            resp = client.request(
                "POST", path, params=params, files=files, retry=False, what="image upload"
            )
        finally:
            for fh in handles:
                fh.close()
    else:
        tasks = [{"data": {"image": it.ref}} for it in chunk]
        resp = client.request(
            "POST", path, params=params, json=tasks, retry=False, what="task import"
        )
    ids = [int(t) for t in resp.json().get("task_ids", [])]
    if len(ids) != len(chunk):
        raise LabelStudioError(
            f"Label Studio created {len(ids)} tasks for {len(chunk)} images",
            hint="check the project's label config (it must use $image)",
        )
    return ids


def _import_batch(
    client: LabelStudioClient,
    project: ProjectInfo,
    storage: str,
    chunk: list[_Item],
    known_tasks: set[int],
    result: PushResult,
    verify: bool = False,
) -> list[tuple[_Item, int]]:
    """Import one batch; after an ambiguous failure, reconcile then resend only the missing.

    Label Studio creates upload tasks in the order of the files; ``verify`` (used when
    predictions will be attached to the task ids) checks each pairing by the stored file name.
    """
    pending = list(chunk)
    mapping: list[tuple[_Item, int]] = []
    last_error = ""
    for attempt in (1, 2):
        try:
            ids = _post_batch(client, project.id, storage, pending)
            if storage == "upload" and verify:
                ids = _check_upload_order(client, pending, ids)
            mapping.extend(zip(pending, ids, strict=True))
            return mapping
        except AuthError:
            raise
        except LabelStudioHTTPError as exc:
            if exc.status < 500:  # refused outright: nothing was committed
                raise
            last_error = exc.message
            log.warning("import of %d images failed (%s): reconciling", len(pending), exc.message)
        except NetworkError as exc:
            last_error = exc.message
            log.warning("import of %d images failed (%s): reconciling", len(pending), exc.message)
        found = _reconcile(client, project.id, storage, pending, known_tasks)
        result.reconciled += len(found)
        mapping.extend(found)
        got = {it.media_id for it, _ in found}
        pending = [it for it in pending if it.media_id not in got]
        if not pending:
            return mapping
        log.info("attempt %d: %d images still missing, sending them again", attempt, len(pending))
    for it in pending:
        result.failed += 1
        result.failures.append((str(it.path), last_error))
    return mapping


def _check_upload_order(client: LabelStudioClient, chunk: list[_Item], ids: list[int]) -> list[int]:
    """Pair uploaded files with task ids by the stored file name, not by position."""
    if len(chunk) == 1:
        return ids
    by_name: dict[str, int] = {}
    for tid in ids:
        task = client.request("GET", f"api/tasks/{tid}/", what="task lookup").json()
        by_name[strip_upload_prefix(task.get("file_upload") or "")] = tid
    if all(it.name in by_name for it in chunk):
        return [by_name[it.name] for it in chunk]
    return ids


def _reconcile(
    client: LabelStudioClient,
    project_id: int,
    storage: str,
    chunk: list[_Item],
    known_tasks: set[int],
) -> list[tuple[_Item, int]]:
    """Tasks of the project that already hold images of ``chunk`` (committed before an error)."""
    want_name = {it.name: it for it in chunk}
    want_ref = {_ref_path(it.ref): it for it in chunk if it.ref}
    found: dict[int, tuple[_Item, int]] = {}
    for task in client.paged_tasks(project_id):
        tid = int(task["id"])
        if tid in known_tasks:
            continue
        if storage == "upload":
            item = want_name.get(strip_upload_prefix(task.get("file_upload") or ""))
        else:
            image = (task.get("data") or {}).get("image") or ""
            item = want_ref.get(_ref_path(str(image)))
        if item is not None and item.media_id not in found:
            found[item.media_id] = (item, tid)
    return list(found.values())


def _attach_predictions(
    client: LabelStudioClient,
    project: ProjectInfo,
    predictor: Predictor,
    mapping: list[tuple[_Item, int]],
    result: PushResult,
) -> int:
    """Post the model's boxes for these tasks; on an ambiguous failure, post only the missing."""
    preds = []
    for (_it, task_id), pred in zip(
        mapping, predictor.predict([it.path for it, _ in mapping], project.config), strict=True
    ):
        if pred is not None:
            preds.append({"task": task_id, **pred})
    if not preds:
        return 0
    try:
        client.request(
            "POST",
            f"api/projects/{project.id}/import/predictions",
            json=preds,
            retry=False,
            what="prediction import",
        )
    except LabelStudioHTTPError as exc:
        if exc.status < 500:
            raise
        missing = _missing_predictions(client, preds, predictor.model_version)
    except NetworkError:
        missing = _missing_predictions(client, preds, predictor.model_version)
    else:
        missing = []
    if missing:
        client.request(
            "POST",
            f"api/projects/{project.id}/import/predictions",
            json=missing,
            retry=False,
            what="prediction import",
        )
    return len(preds)


def _missing_predictions(
    client: LabelStudioClient, preds: list[dict[str, Any]], model_version: str
) -> list[dict[str, Any]]:
    return [p for p in preds if not _has_prediction(client, p["task"], model_version)]


def _has_prediction(client: LabelStudioClient, task_id: int, model_version: str) -> bool:
    resp = client.request("GET", "api/predictions/", params={"task": task_id}, what="predictions")
    data = resp.json()
    items = data.get("results", []) if isinstance(data, dict) else data
    return any(p.get("model_version") == model_version for p in items)


def file_digest(path: Path) -> str:
    """sha256 of a file (used for model versions)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
