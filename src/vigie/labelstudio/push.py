"""Import a folder of images into a Label Studio project as tasks, exactly once.

Two storages (:mod:`.refs`): ``upload`` sends the files through the import API;
``local-files`` imports references ``/data/local-files/?d=<path>`` after checking, before any
request, that every file lies inside the document root.

Idempotence: every imported image is recorded in the catalog (``ls_tasks``) and skipped next time;
tasks on the server that the catalog does not know (a killed run, another catalog) are adopted.
Batches, reconciliation after an ambiguous failure and predictions live in :mod:`.importer`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vigie.catalog import Catalog
from vigie.catalog.labelstudio import imported_tasks, record_tasks
from vigie.errors import ConfigError
from vigie.labelstudio.client import LabelStudioClient
from vigie.labelstudio.importer import (
    PushResult,
    attach_predictions,
    ensure_local_storage,
    import_batch,
    reconcile,
)
from vigie.labelstudio.predictions import Predictor
from vigie.labelstudio.project import get_project
from vigie.labelstudio.refs import (
    STORAGES,
    PushItem,
    list_images,
    local_files_ref,
    resolve_document_root,
    upload_name,
)

log = logging.getLogger(__name__)

__all__ = ["PushResult", "list_images", "local_files_ref", "push", "resolve_document_root"]


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
        found = reconcile(client, project_id, storage, todo, set(done.values()))
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
        ensure_local_storage(client, project_id, {it.path.parent for it in todo}, root)
    known_tasks = set(done.values())
    version = predictor.model_version if predictor else None
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        mapping = import_batch(
            client, project, storage, chunk, known_tasks, result, verify=predictor is not None
        )
        # recorded first: a later failure must not lose what was imported
        record_tasks(catalog, _rows(client, project_id, storage, mapping, version, run_id))
        known_tasks.update(t for _, t in mapping)
        result.imported += len(mapping)
        if predictor is not None and mapping:
            result.predictions += attach_predictions(client, project, predictor, mapping)
        if on_progress:
            on_progress(len(chunk))
    return result


def _drop_unreadable(todo: list[PushItem], result: PushResult) -> list[PushItem]:
    """The items whose file decodes as an image; the others are failures (never sent)."""
    from vigie.dedup import hash_files

    keep: list[PushItem] = []
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
    mapping: list[tuple[PushItem, int]],
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
    count = getattr(client.project(project_id), "task_number", None)
    return int(count) if isinstance(count, int) else 1 << 30  # unknown: reconcile to be safe


def _catalog_items(
    catalog: Catalog, folder: Path, paths: Sequence[Path], refs: dict[Path, str]
) -> list[PushItem]:
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
    return [PushItem(p, ids[p], upload_name(p, folder), refs.get(p, "")) for p in paths]
