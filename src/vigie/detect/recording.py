"""Where detection results are recorded: the catalog (run, images, detections) and the study DB."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.detect import outputs
from vigie.detect.outputs import Provenance, provenance_from_name
from vigie.types import ItemStatus, MediaKind, RunCounts

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vigie.catalog import Catalog
    from vigie.detect.pipeline import DetectResult
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
    ) -> None:
        self.catalog = catalog
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

    def provenance(self, path: Path) -> Provenance:
        """Study ids of an image: the catalog's provenance of the file when it has study ids
        (exact, even for ``<study>_<pub>_<platform>_2.jpg``), else parsed from the file name."""
        row = self._row(path)
        if row is not None and row.study_id is not None and row.publication_id is not None:
            return Provenance(row.study_id, row.publication_id, row.platform_id)
        return provenance_from_name(path) or Provenance()

    def _row(self, path: Path) -> Any:
        resolved = path.resolve()
        if resolved not in self._known:
            self._known[resolved] = (
                self.catalog.item_by_path(resolved) if self.catalog is not None else None
            )
        return self._known[resolved]

    def _item(
        self, path: Path, status: ItemStatus, prov: Provenance, **extra: Any
    ) -> dict[str, Any]:
        resolved = path.resolve()
        return {
            "key": f"file:{resolved}",
            "kind": MediaKind.IMAGE.value,
            "path": str(resolved),
            "filename": path.name,
            "source_id": self.source_id,
            "study_id": prov.study_id,
            "publication_id": prov.media_id,
            "platform_id": prov.platform_id,
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
        batch: list[tuple[Path, Detections, Provenance]],
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
        self, batch: list[tuple[Path, Detections, Provenance]], failed: list[tuple[Path, str]]
    ) -> None:
        from vigie.catalog.detections import record_image_batch

        assert self.catalog is not None
        items, rows_by_key = [], {}
        for path, dets, prov in batch:
            row = self._row(path)
            if row is None:
                item = self._item(
                    path, ItemStatus.DONE, prov, width=dets.image_width, height=dets.image_height
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
                    self._item(
                        path, ItemStatus.FAILED, Provenance(), error_class="MediaError", error=error
                    )
                )
        record_image_batch(
            self.catalog, items, rows_by_key, model_name=self.model_label, run_id=self.run_id
        )

    def _record_study(self, batch: list[tuple[Path, Detections, Provenance]]) -> None:
        from vigie.studydb import write_image_detections

        assert self.engine is not None
        rows: list[dict[str, object]] = []
        keys: list[tuple[int, str, int | str]] = []
        for _path, dets, prov in batch:
            if not prov.known:
                self.no_study_ids += 1
                continue
            assert prov.study_id is not None and prov.media_id is not None
            keys.append((prov.study_id, prov.media_id, str(prov.platform_id)))
            for d in dets.to_records():
                rows.append(
                    {
                        "study_id": prov.study_id,
                        "media_id": prov.media_id,
                        "plateform_id": str(prov.platform_id),
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
                "%d image(s) have no study ids (name <study>_<media>_<platform>.<ext> or catalog "
                "provenance): not written to the study database",
                self.no_study_ids,
            )
        if self.catalog is not None and self.run_id is not None:
            counts = RunCounts(
                done=result.done,
                failed=result.failed,
                extra={"detections": result.detections, "images": result.images},
            )
            self.catalog.finish_run(self.run_id, "done" if ok else "failed", counts)
        if self.engine is not None:
            self.engine.dispose()
