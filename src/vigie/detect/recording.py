"""Where detection results are recorded: the catalog (run, images, detections) and the study DB."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.detect import outputs
from vigie.identity import MediaIdentity, identity_of
from vigie.types import ItemStatus, MediaKind, RunCounts

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vigie.catalog import Catalog
    from vigie.detect.result import DetectResult
    from vigie.types import Detections

log = logging.getLogger(__name__)


class Recorder:
    """Records each batch in one transaction per database, after the batch's files exist."""

    def __init__(
        self,
        catalog: Catalog | None,
        db_url: str | None,
        model_label: str,
        source: Path,
        config: dict[str, Any],
        own_catalog: bool = False,
    ) -> None:
        self.catalog = catalog
        self.own_catalog = own_catalog  # close it with the run
        self.model_label = model_label
        self.engine: Engine | None = None
        if db_url:
            from vigie.studydb import connect

            self.engine = connect(db_url)
        self.run_id: int | None = None
        self.source_id: int | None = None
        if catalog is not None:
            self.run_id = catalog.start_run("detect", config)
            self.source_id = catalog.source("folder", str(source.resolve()))
        self._known: dict[Path, Any] = {}  # path -> catalog row (None when unknown)
        self.study_rows = 0
        self.no_study_ids = 0
        self.same_media: list[tuple[Path, Path]] = []  # (image, the image written for its media)
        self._written: dict[tuple[int, str, str], Path] = {}  # media key -> image written

    def identity(self, path: Path) -> MediaIdentity | None:
        """The image's media identity: the catalog's provenance of the file when it has one
        (exact, whatever the name), else the one its name states (vigie.identity)."""
        return identity_of(path, self._row(path))

    def _row(self, path: Path) -> Any:
        resolved = path.resolve()
        if resolved not in self._known:
            self._known[resolved] = (
                self.catalog.item_by_path(resolved) if self.catalog is not None else None
            )
        return self._known[resolved]

    def _item(
        self, path: Path, status: ItemStatus, ident: MediaIdentity | None, **extra: Any
    ) -> dict[str, Any]:
        resolved = path.resolve()
        return {
            "key": f"file:{resolved}",
            "kind": MediaKind.IMAGE.value,
            "path": str(resolved),
            "filename": path.name,
            "source_id": self.source_id,
            "study_id": ident.study_id if ident else None,
            "publication_id": ident.publication_id if ident else None,
            "platform_id": ident.platform_id if ident else None,
            "status": status.value,
            "run_id": self.run_id,
            "error_class": extra.get("error_class"),
            "error": extra.get("error"),
            "width": extra.get("width"),
            "height": extra.get("height"),
        }

    def record(
        self,
        writes: list[Future[None]],
        batch: list[tuple[Path, Detections, MediaIdentity | None]],
        failed: list[tuple[Path, str]],
    ) -> None:
        """Wait for the batch's files, then write its rows (called on the recording thread)."""
        for write in writes:
            write.result()
        if self.catalog is not None:
            self._record_catalog(batch, failed)
        if self.engine is not None:
            self._record_study(batch)

    def _record_catalog(
        self,
        batch: list[tuple[Path, Detections, MediaIdentity | None]],
        failed: list[tuple[Path, str]],
    ) -> None:
        from vigie.catalog.detections import record_image_batch

        assert self.catalog is not None
        items, rows_by_key = [], {}
        for path, dets, ident in batch:
            row = self._row(path)
            if row is None:
                item = self._item(
                    path, ItemStatus.DONE, ident, width=dets.image_width, height=dets.image_height
                )
                items.append(item)
                key = item["key"]
            else:
                key = row.key
            rows_by_key[key] = outputs.catalog_rows(dets)
        for path, error in failed:
            row = self._row(path)
            if row is None or str(row.key).startswith("file:"):
                items.append(
                    self._item(path, ItemStatus.FAILED, None, error_class="MediaError", error=error)
                )
        record_image_batch(
            self.catalog, items, rows_by_key, model_name=self.model_label, run_id=self.run_id
        )

    def _record_study(self, batch: list[tuple[Path, Detections, MediaIdentity | None]]) -> None:
        """One transaction for the batch: each image's media rows replaced, no other media's.

        An image whose media another image of this run already wrote (the same file name in two
        sub-folders) is not written: its rows would replace or double the first one's.
        """
        from vigie.studydb import write_image_detections

        assert self.engine is not None
        rows: list[dict[str, object]] = []
        keys: list[tuple[int, str, int | str]] = []
        for path, dets, ident in batch:
            if ident is None:
                self.no_study_ids += 1
                continue
            first = self._written.setdefault(ident.study_key, path)
            if first != path:
                self.same_media.append((path, first))
                continue
            keys.append(ident.study_key)
            for d in dets.to_records():
                rows.append(
                    {
                        "study_id": ident.study_id,
                        "media_id": ident.media_id,
                        "plateform_id": str(ident.platform_id),
                        "logo": d.class_name,
                        "size": d.size,
                        "area": d.area,
                        "areaPercentage": d.area_percentage,
                        "confidence": d.confidence,
                        "x1": d.x1,
                        "y1": d.y1,
                        "x2": d.x2,
                        "y2": d.y2,
                    }
                )
        if keys:
            self.study_rows += write_image_detections(self.engine, rows, keys)

    def close(self, result: DetectResult, ok: bool) -> None:
        if self.no_study_ids and self.engine is not None:
            log.warning(
                "%d image(s) have no media identity (a name <study>_<publication>_<platform>"
                "[_<n>].<ext> or catalog provenance; frames of videos have none): not written to "
                "the study database",
                self.no_study_ids,
            )
        for path, first in self.same_media:
            log.warning(
                "%s is the same media as %s: its detections are not written to the study "
                "database a second time",
                path,
                first,
            )
        if self.catalog is not None and self.run_id is not None:
            counts = RunCounts(
                done=result.done,
                failed=result.failed,
                extra={"detections": result.detections, "images": result.images},
            )
            self.catalog.finish_run(self.run_id, "done" if ok else "failed", counts)
        if self.catalog is not None and self.own_catalog:
            self.catalog.close()
        if self.engine is not None:
            self.engine.dispose()
