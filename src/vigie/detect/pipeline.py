"""``detect()``: run a detector over an image folder with decode, inference and writing overlapped.

Decoding runs in a thread pool ahead of inference (bounded look-ahead); the main thread batches
decoded images through the model; a second pool writes the annotated images, JSON files and
crops; one more thread records each finished batch (catalog, study database) in one transaction
per batch, only after the batch's files are written.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from vigie.catalog import Catalog
from vigie.config import Settings, load_settings, stage_options
from vigie.detect import outputs
from vigie.detect.result import DetectResult
from vigie.detect.steps import Decoded, Options, decoded_stream, write_outputs
from vigie.errors import ConfigError, output_dir
from vigie.files import sweep_parts
from vigie.media import list_media

if TYPE_CHECKING:
    from vigie.config import RaySettings
    from vigie.frames import Selection

log = logging.getLogger(__name__)


def list_images(source: Path, recursive: bool = False) -> list[Path]:
    """Image files of a folder (:data:`vigie.media.IMAGE_SUFFIXES`), sorted; a file is a list
    of one.

    Raises:
        SourceError: the folder does not exist or holds no image.
    """
    return list_media(source, "image", recursive=recursive)


def detect(
    source: Path | str | Sequence[Path | str],
    *,
    model: str | Path,
    out: Path | str | None = None,
    backend: Literal["torch", "onnx"] | None = None,
    conf: float | None = None,
    iou: float | None = None,
    imgsz: int | None = None,
    classes: list[int | str] | None = None,
    device: str | None = None,
    recursive: bool = False,
    save_images: bool = True,
    save_json: bool = True,
    save_crops: bool = False,
    csv: bool = False,
    coco: Path | str | None = None,
    coco_gt: Path | str | None = None,
    db_url: str | None = None,
    settings: Settings | None = None,
    catalog: Catalog | None = None,
    batch: int | None = None,
    workers: int = 2,
    on_progress: Callable[[int], None] | None = None,
    frames: Selection | None = None,
    allow_private: bool = False,
    ray: str | RaySettings | None = None,
) -> DetectResult:
    """Detect objects in every image of ``source`` and write the results.

    Args:
        source: one source or several, mixed (see :mod:`vigie.detect.sources`): a folder of
            images, an image, a glob (``'imgs/**/*.jpg'``), a video (frames sampled by
            ``frames``), an http(s) URL (fetched through the guarded client, saved under
            ``out/downloads/``); a source that yields nothing is a failed item.
        model: weights path, registry name (with ``catalog``) or ONNX file.
        out: folder receiving ``detections_images/``, ``detection_jsons/``, ``crops/`` and
            ``detections.csv``.
        backend, conf, iou, imgsz, device: see :func:`vigie.detect.load_detector`.
        classes: keep only these classes, by id or by name.
        recursive: also look into sub-folders (outputs mirror them).
        save_images, save_json, save_crops, csv: which outputs to write.
        coco: also write the detections as a COCO results file here (pycocotools ``loadRes``);
            see :mod:`vigie.detect.coco`.
        coco_gt: a COCO dataset file giving the image and category ids of ``coco``.
        db_url: study database (SQLAlchemy URL) receiving ``yolo_image_detection`` rows for
            images whose identity is known (:func:`vigie.identity.identity_of`: the catalog's
            provenance, else the file name); each image's rows are replaced, no other's.
        settings: the settings (default :func:`vigie.config.load_settings`); ``out``,
            ``backend``, ``conf``, ``iou`` and ``imgsz`` left at ``None`` come from
            ``settings.detect`` (a relative ``out`` lies in the workspace).
        catalog: records the run (``detect``), the images and their detections; default: the
            one of ``settings``.
        batch: images per inference call (and per database transaction); ``None``:
            ``settings.detect.batch``.
        workers: threads for decoding and for writing.
        on_progress: called with the number of images finished since the last call.
        frames: which frames of a video source to detect in (default: one a second).
        allow_private: let URLs reach loopback and private addresses (a LAN, tests).
        ray: a Ray cluster address (or the ``ray`` settings): image batches through an actor
            pool there (:mod:`vigie.detect.on_ray`).

    Returns:
        counts, detections per class, failures and timing.

    Raises:
        SourceError: no such folder or no image; ModelError: model problems;
        DatabaseError: the study database cannot be reached or written.
    """
    from vigie.detect.backends import load_detector
    from vigie.detect.coco import CocoResults
    from vigie.detect.recording import Recorder

    if (batch is not None and batch < 1) or workers < 1:
        raise ConfigError("batch and workers must be at least 1")
    from vigie.detect.sources import resolve_sources

    cfg = settings or load_settings()
    det = stage_options(
        cfg.detect, out=out, backend=backend, conf=conf, iou=iou, imgsz=imgsz, batch=batch
    )
    out, backend, conf = cfg.output_path(det.out), det.backend, det.conf
    iou, imgsz, batch = det.iou, det.imgsz, det.batch
    out_dir = output_dir(out)
    own_catalog = catalog is None
    catalog = catalog if catalog is not None else Catalog.from_settings(cfg)
    try:
        found = resolve_sources(
            source, out=out_dir, recursive=recursive, frames=frames, catalog=catalog,
            allow_private=allow_private,
        )  # fmt: skip
        paths = found.images
        coco_results = CocoResults.open(coco, coco_gt)
        sweep_parts(
            [out_dir / d for d in (outputs.IMAGES_DIR, outputs.JSONS_DIR, outputs.CROPS_DIR)],
            recursive=True,
        )
        detector = load_detector(
            model, backend=backend, conf=conf, iou=iou, imgsz=imgsz, device=device, catalog=catalog
        )
    except BaseException:
        if own_catalog:
            catalog.close()
        raise
    detector.classes = class_ids(classes, detector.names)
    opts = Options(
        out_dir,
        found.root,
        save_images,
        save_json,
        save_crops,
        coco_results,
        found.names,
    )
    result = DetectResult(out=out_dir, model=detector.label, backend=detector.backend)
    result.failures.extend(found.failures)  # sources that gave nothing: failed items
    result.failed = result.images = len(found.failures)
    config = {**cfg.safe_dump(), "options": _run_config(locals())}
    recorder = Recorder(catalog, db_url, detector.label, found.root, config, own_catalog)
    result.run_id = recorder.run_id
    csv_rows: list[dict[str, Any]] = []
    start = time.perf_counter()
    try:
        if ray:
            from vigie.detect.on_ray import detect_on_ray

            detect_on_ray(ray, paths, detector, model, device, opts, recorder, result, csv_rows,
                          batch, on_progress)  # fmt: skip
        else:
            _run(paths, detector, opts, recorder, result, csv_rows, batch, workers, on_progress)
    except BaseException:
        recorder.close(result, ok=False)
        raise
    result.seconds = time.perf_counter() - start
    if csv:
        result.csv = out_dir / outputs.CSV_NAME
        outputs.write_csv(result.csv, csv_rows)
    if coco_results is not None:
        result.coco = coco_results.write()
    result.study_rows = recorder.study_rows
    recorder.close(result, ok=True)
    return result


def class_ids(classes: list[int | str] | None, names: dict[int, str]) -> list[int] | None:
    """Class ids from ids or names (case-insensitive).

    Raises:
        ConfigError: a name or id the model does not know.
    """
    if not classes:
        return None
    by_name = {v.lower(): k for k, v in names.items()}
    ids = []
    for c in classes:
        text = str(c).strip()
        if text.isdigit() and int(text) in names:
            ids.append(int(text))
        elif text.lower() in by_name:
            ids.append(by_name[text.lower()])
        else:
            known = ", ".join(f"{k}={v}" for k, v in sorted(names.items()))
            raise ConfigError(f"unknown class {text!r}", hint=f"the model's classes: {known}")
    return sorted(set(ids))


def _run_config(scope: dict[str, Any]) -> dict[str, Any]:
    keys = ("backend", "conf", "iou", "imgsz", "classes", "recursive", "batch", "save_crops")
    config = {k: scope[k] for k in keys}
    config.update(source=str(scope["source"]), model=str(scope["model"]), out=str(scope["out"]))
    return config


def _run(
    paths: list[Path],
    detector: Any,
    opts: Options,
    recorder: Any,
    result: DetectResult,
    csv_rows: list[dict[str, Any]],
    batch: int,
    workers: int,
    on_progress: Callable[[int], None] | None,
) -> None:
    with (
        ThreadPoolExecutor(workers, thread_name_prefix="vigie-decode") as decode_pool,
        ThreadPoolExecutor(workers, thread_name_prefix="vigie-write") as write_pool,
        ThreadPoolExecutor(1, thread_name_prefix="vigie-record") as record_pool,
    ):
        recording: deque[Future[None]] = deque()
        pending: list[Decoded] = []

        def flush() -> None:
            good = [d for d in pending if d.image is not None]
            found = detector.predict([d.image for d in good]) if good else []
            writes, batch_items = [], []
            for dec, dets in zip(good, found, strict=True):
                ident = recorder.identity(dec.path)
                assert dec.image is not None
                writes.append(
                    write_pool.submit(write_outputs, opts, dec.path, dec.image, dets, ident)
                )
                batch_items.append((dec.path, dets, ident))
                result.detections += len(dets)
                result.per_class.update(dets.names.get(int(c), str(int(c))) for c in dets.class_id)
                csv_rows.extend(outputs.csv_rows(dec.path, dets, ident))
                if opts.coco is not None:
                    opts.coco.add(opts.name_of(dec.path), dets)
            failed = [(d.path, d.error or "cannot decode") for d in pending if d.image is None]
            for path, error in failed:
                log.warning("skipped %s: %s", path, error)
            result.failures.extend(failed)
            result.failed += len(failed)
            result.done += len(good)
            result.images += len(pending)
            recording.append(record_pool.submit(recorder.record, writes, batch_items, failed))
            while recording and recording[0].done():
                recording.popleft().result()
            if on_progress is not None:
                on_progress(len(pending))
            pending.clear()

        for decoded in decoded_stream(paths, decode_pool, ahead=max(2 * batch, 2 * workers)):
            pending.append(decoded)
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
        while recording:
            recording.popleft().result()
