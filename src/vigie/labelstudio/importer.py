"""Sending a push's images to Label Studio: import batches, reconcile, predictions, storages.

An import is never retried blindly: after a 5xx, a timeout or a dropped connection the server may
have committed the batch, so the project's tasks are listed first (the SDK's task pager) and only
the images really missing are sent again (reliability promise 12). Predictions follow the same
rule, checked per task with ``predictions.list``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigie.errors import AuthError, ConfigError, LabelStudioError, NetworkError
from vigie.labelstudio.client import LabelStudioClient, LabelStudioHTTPError
from vigie.labelstudio.export import strip_upload_prefix
from vigie.labelstudio.predictions import Predictor
from vigie.labelstudio.project import ProjectInfo
from vigie.labelstudio.refs import PushItem, ref_path

log = logging.getLogger(__name__)


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


def ensure_local_storage(
    client: LabelStudioClient, project_id: int, folders: set[Path], root: Path
) -> None:
    """Label Studio serves a local file only under a local storage of the project: add one."""
    existing = [Path(p) for p in client.local_storage_paths(project_id)]
    for folder in sorted(folders):
        if any(folder.is_relative_to(p) for p in existing):
            continue
        if folder == root.resolve():
            raise ConfigError(
                f"images directly in the document root {root} cannot be served by Label Studio",
                hint="put them in a subfolder of the document root",
            )
        client.add_local_storage(project_id, str(folder), f"vigie {folder.name}")
        existing.append(folder)
        log.info("added a local-files storage %s to project %s", folder, project_id)


def _post_batch(
    client: LabelStudioClient, project_id: int, storage: str, chunk: list[PushItem]
) -> list[int]:
    if storage == "upload":
        handles = [it.path.open("rb") for it in chunk]
        try:
            ids = client.upload_files(
                project_id, [(it.name, fh) for it, fh in zip(chunk, handles, strict=True)]
            )
        finally:
            for fh in handles:
                fh.close()
    else:
        ids = client.import_tasks(project_id, [{"data": {"image": it.ref}} for it in chunk])
    if len(ids) != len(chunk):
        raise LabelStudioError(
            f"Label Studio created {len(ids)} tasks for {len(chunk)} images",
            hint="check the project's label config (it must use $image)",
        )
    return ids


def import_batch(
    client: LabelStudioClient,
    project: ProjectInfo,
    storage: str,
    chunk: list[PushItem],
    known_tasks: set[int],
    result: PushResult,
    verify: bool = False,
) -> list[tuple[PushItem, int]]:
    """Import one batch; after an ambiguous failure, reconcile then resend only the missing.

    Label Studio creates upload tasks in the order of the files; ``verify`` (used when
    predictions will be attached to the task ids) checks each pairing by the stored file name.
    """
    pending = list(chunk)
    mapping: list[tuple[PushItem, int]] = []
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
        found = reconcile(client, project.id, storage, pending, known_tasks)
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


def _check_upload_order(
    client: LabelStudioClient, chunk: list[PushItem], ids: list[int]
) -> list[int]:
    """Pair uploaded files with task ids by the stored file name, not by position."""
    if len(chunk) == 1:
        return ids
    by_name: dict[str, int] = {}
    for tid in ids:
        task = client.task(tid)
        by_name[strip_upload_prefix(task.get("file_upload") or "")] = tid
    if all(it.name in by_name for it in chunk):
        return [by_name[it.name] for it in chunk]
    return ids


def reconcile(
    client: LabelStudioClient,
    project_id: int,
    storage: str,
    chunk: list[PushItem],
    known_tasks: set[int],
) -> list[tuple[PushItem, int]]:
    """Tasks of the project that already hold images of ``chunk`` (committed before an error)."""
    want_name = {it.name: it for it in chunk}
    want_ref = {ref_path(it.ref): it for it in chunk if it.ref}
    found: dict[int, tuple[PushItem, int]] = {}
    for task in client.tasks(project_id):
        tid = int(task["id"])
        if tid in known_tasks:
            continue
        if storage == "upload":
            item = want_name.get(strip_upload_prefix(task.get("file_upload") or ""))
        else:
            image = (task.get("data") or {}).get("image") or ""
            item = want_ref.get(ref_path(str(image)))
        if item is not None and item.media_id not in found:
            found[item.media_id] = (item, tid)
    return list(found.values())


def attach_predictions(
    client: LabelStudioClient,
    project: ProjectInfo,
    predictor: Predictor,
    mapping: list[tuple[PushItem, int]],
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
        client.import_predictions(project.id, preds)
    except LabelStudioHTTPError as exc:
        if exc.status < 500:
            raise
        missing = _missing_predictions(client, preds, predictor.model_version)
    except NetworkError:
        missing = _missing_predictions(client, preds, predictor.model_version)
    else:
        missing = []
    if missing:
        client.import_predictions(project.id, missing)
    return len(preds)


def _missing_predictions(
    client: LabelStudioClient, preds: list[dict[str, Any]], model_version: str
) -> list[dict[str, Any]]:
    return [p for p in preds if model_version not in client.prediction_versions(p["task"])]
