"""The stage's two cores as recorded runs: :func:`push` (``labelstudio push``) and :func:`pull`
(``labelstudio pull``), each building its options from ``settings.labelstudio`` and leaving one
row in the catalog's ``runs``, from Python as from the CLI.

The work itself lives in :mod:`vigie.labelstudio.push` and :mod:`vigie.labelstudio.pull`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vigie.catalog import Catalog, stage_run
from vigie.config import Settings, load_settings, stage_options
from vigie.labelstudio.pull import PullResult
from vigie.labelstudio.pull import pull as pull_annotations
from vigie.labelstudio.push import PushResult
from vigie.labelstudio.push import push as push_images

if TYPE_CHECKING:
    from vigie.labelstudio.client import LabelStudioClient
    from vigie.labelstudio.predictions import Predictor


def push(
    client: LabelStudioClient,
    catalog: Catalog | None,
    folder: Path,
    project_id: int,
    *,
    storage: str = "upload",
    batch: int | None = None,
    max_items: int | None = None,
    document_root: Path | None = None,
    predictor: Predictor | None = None,
    settings: Settings | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PushResult:
    """Import the images of ``folder`` into project ``project_id``, each image once.

    ``batch`` and ``document_root`` left at ``None`` come from ``settings.labelstudio``
    (``batch``, ``local_files_document_root``); the run is recorded in ``catalog`` (default:
    the one of ``settings``), which also remembers what was imported. See
    :func:`vigie.labelstudio.push.push` (``push_images``) for the other arguments and what it raises.
    """
    cfg = settings or load_settings()
    opts = stage_options(cfg.labelstudio, batch=batch, local_files_document_root=document_root)
    run_options = {
        "folder": str(folder),
        "project": project_id,
        "storage": storage,
        "max_items": max_items,
        "predictions": predictor is not None,
    }
    with stage_run("labelstudio push", cfg, catalog, run_options) as (cat, run):
        result = push_images(
            client,
            cat,
            folder,
            project_id,
            storage=storage,
            batch=opts.batch,
            max_items=max_items,
            document_root=opts.local_files_document_root,
            predictor=predictor,
            run_id=run.id,
            on_progress=on_progress,
        )
        run.counts.done, run.counts.skipped = result.imported, result.skipped
        run.counts.failed = result.failed
        run.counts.extra = {"reconciled": result.reconciled, "predictions": result.predictions}
    return result


def pull(
    out: Path,
    *,
    client: LabelStudioClient | None = None,
    project_id: int | None = None,
    export_file: Path | None = None,
    labels: list[str] | None = None,
    download: bool = True,
    snapshot: bool = False,
    images_subdir: str | None = None,
    document_root: Path | None = None,
    media_root: Path | None = None,
    allow_private: bool | None = None,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    workers: int = 8,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PullResult:
    """Write the annotated images and their YOLO labels to ``out``.

    ``images_subdir``, ``document_root``, ``media_root`` and ``allow_private`` left at ``None``
    come from the settings (``labelstudio.pull_images_dir``, ``labelstudio.local_files_document_root``,
    ``labelstudio.media_root``, ``allow_private_networks``); the run is recorded in ``catalog`` (default: the one of
    ``settings``). See :func:`vigie.labelstudio.pull.pull` (``pull_annotations``) for the other arguments.
    """
    cfg = settings or load_settings()
    opts = stage_options(
        cfg.labelstudio,
        pull_images_dir=images_subdir,
        local_files_document_root=document_root,
        media_root=media_root,
    )
    private = cfg.allow_private_networks if allow_private is None else allow_private
    run_options = {
        "out": str(out),
        "project": project_id,
        "export": str(export_file) if export_file else None,
        "download": download,
        "snapshot": snapshot,
    }
    with stage_run("labelstudio pull", cfg, catalog, run_options) as (cat, run):
        result = pull_annotations(
            out,
            client=client,
            project_id=project_id,
            export_file=export_file,
            labels=labels,
            download=download,
            snapshot=snapshot,
            images_subdir=opts.pull_images_dir,
            document_root=opts.local_files_document_root,
            media_root=opts.media_root,
            allow_private=private,
            catalog=cat,
            workers=workers,
            on_total=on_total,
            on_progress=on_progress,
        )
        run.counts.done = result.downloaded
        run.counts.skipped = result.present
        run.counts.failed = result.failed + len(result.malformed)
        run.counts.extra = {"labels": result.labels_written}
    return result
