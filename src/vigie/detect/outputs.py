"""What detection writes per image: the seed's JSON, an annotated copy, crops, CSV rows.

Every file is written as ``name.part`` then moved into place, so a crash never leaves a
truncated file under its final name; :func:`vigie.files.sweep_parts` removes leftovers of a
killed run. Boxes are drawn by the one annotator, :func:`vigie.media.annotate`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigie.files import write_atomic
from vigie.identity import MediaIdentity
from vigie.media import annotate as draw
from vigie.media import class_color
from vigie.types import Detection, Detections

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

IMAGES_DIR = "detections_images"
JSONS_DIR = "detection_jsons"
CROPS_DIR = "crops"
CSV_NAME = "detections.csv"
CSV_COLUMNS = (
    "image",
    "study_id",
    "media_id",
    "platform_id",
    "class",
    "name",
    "confidence",
    "x1",
    "y1",
    "x2",
    "y2",
    "area",
    "area_percentage",
    "size",
    "publication_id",
    "media_index",
)
PROVENANCE_FIELDS = ("study_id", "media_id", "platform_id", "publication_id", "media_index")


def provenance_fields(ident: MediaIdentity | None) -> dict[str, Any]:
    """The identity columns of every output (vigie.identity): ids, media id and index."""
    if ident is None:
        return dict.fromkeys(PROVENANCE_FIELDS)
    return {
        "study_id": ident.study_id,
        "media_id": ident.media_id,
        "platform_id": ident.platform_id,
        "publication_id": ident.publication_id,
        "media_index": ident.index,
    }


def detection_dicts(dets: Detections, ident: MediaIdentity | None) -> list[dict[str, Any]]:
    """The seed's JSON records (``Results.to_json()`` shape) plus area, area_percentage, size,
    and the media's identity when known (study_id, media_id, platform_id, publication_id,
    media_index)."""
    out = []
    for d in dets.to_records():
        item: dict[str, Any] = {
            "name": d.class_name,
            "class": d.class_id,
            "confidence": round(d.confidence, 5),
            "box": {
                "x1": round(d.x1, 5),
                "y1": round(d.y1, 5),
                "x2": round(d.x2, 5),
                "y2": round(d.y2, 5),
            },
            "area": round(d.area, 5),
            "area_percentage": round(d.area_percentage, 5),
            "size": d.size,
        }
        if ident is not None:
            item.update(provenance_fields(ident))
        out.append(item)
    return out


def write_json(path: Path, records: list[dict[str, Any]]) -> None:
    write_atomic(path, json.dumps(records, indent=2).encode())


def _encode(image: NDArray[np.uint8] | Any, suffix: str) -> bytes:
    """Encode an RGB array or Pillow image; JPEG/PNG through OpenCV (faster, GIL released)."""
    import importlib.util

    import numpy as np
    from PIL import Image

    ext = suffix.lower() if suffix.lower() in (".png", ".jpg", ".jpeg") else None
    # a core install has no OpenCV: Pillow encodes
    if importlib.util.find_spec("cv2") is not None and (
        ext is not None or suffix.lower() not in (".webp",)
    ):
        import cv2

        rgb = np.asarray(image)
        params = [cv2.IMWRITE_JPEG_QUALITY, 90] if ext != ".png" else []
        ok, data = cv2.imencode(ext or ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), params)
        if ok:
            return bytes(data.tobytes())
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    buf = io.BytesIO()
    fmt = {".png": "PNG", ".webp": "WEBP"}.get(suffix.lower(), "JPEG")
    pil.save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def annotate(image: NDArray[np.uint8], dets: Detections) -> Any:
    """A Pillow copy of ``image`` with boxes and ``name conf`` labels, coloured by class."""
    records = dets.to_records()
    return draw(
        image,
        [(d.x1, d.y1, d.x2, d.y2) for d in records],
        labels=[f"{d.class_name} {d.confidence:.2f}" for d in records],
        colors=[class_color(d.class_id) for d in records],
    )


def write_annotated(path: Path, image: NDArray[np.uint8], dets: Detections) -> None:
    write_atomic(path, _encode(annotate(image, dets), path.suffix))


def write_crops(folder: Path, stem: str, image: NDArray[np.uint8], dets: Detections) -> int:
    """One JPEG per box under ``folder/<class name>/<stem>_<i>.jpg``; return how many."""
    count = 0
    for i, d in enumerate(dets.to_records()):
        x1, y1, x2, y2 = int(d.x1), int(d.y1), round(d.x2), round(d.y2)
        if x2 <= x1 or y2 <= y1:
            continue
        crop = image[y1:y2, x1:x2]
        write_atomic(folder / _safe(d.class_name) / f"{stem}_{i}.jpg", _encode(crop, ".jpg"))
        count += 1
    return count


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "class"


def csv_rows(image: Path, dets: Detections, ident: MediaIdentity | None) -> list[dict[str, Any]]:
    ids = provenance_fields(ident)
    rows = []
    for d in dets.to_records():
        rows.append(
            {
                "image": str(image),
                **ids,
                "class": d.class_id,
                "name": d.class_name,
                "confidence": round(d.confidence, 5),
                "x1": round(d.x1, 2),
                "y1": round(d.y1, 2),
                "x2": round(d.x2, 2),
                "y2": round(d.y2, 2),
                "area": round(d.area, 2),
                "area_percentage": round(d.area_percentage, 5),
                "size": d.size,
            }
        )
    return rows


def write_csv(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(path, buf.getvalue().encode())


def catalog_rows(dets: Detections) -> list[dict[str, Any]]:
    """Rows for :func:`vigie.catalog.detections.replace_detections`."""
    return [_catalog_row(d) for d in dets.to_records()]


def _catalog_row(d: Detection) -> dict[str, Any]:
    return {
        "class_id": d.class_id,
        "class_name": d.class_name,
        "confidence": d.confidence,
        "x1": d.x1,
        "y1": d.y1,
        "x2": d.x2,
        "y2": d.y2,
        "area": d.area,
        "area_percentage": d.area_percentage,
        "size": d.size,
        "frame_index": None,
        "track_id": None,
    }
