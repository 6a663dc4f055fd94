"""Label Studio exports (JSON and JSON_MIN) -> annotated tasks with YOLO boxes.

Pure functions on parsed JSON: no disk, no network. A malformed item is reported with its reason
and skipped, never silently dropped (the seed's process_json printed "JSON Malformé" and went on
with the previous item's file name).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from vigie.errors import SourceError

RECT = "rectanglelabels"
_MIN_META_KEYS = frozenset(
    {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "file_upload"}
)


@dataclass(frozen=True)
class Box:
    """One YOLO box: class name and normalised centre/size (0..1)."""

    label: str
    cx: float
    cy: float
    w: float
    h: float

    def yolo_line(self, class_id: int) -> str:
        return f"{class_id} {self.cx:.6f} {self.cy:.6f} {self.w:.6f} {self.h:.6f}"


@dataclass(frozen=True)
class AnnotatedTask:
    """A task with its chosen annotation (boxes may be empty: a negative image)."""

    task_id: int
    image_ref: str
    file_upload: str | None
    boxes: tuple[Box, ...]
    annotation_id: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class ParsedExport:
    tasks: list[AnnotatedTask] = field(default_factory=list)
    malformed: list[tuple[str, str]] = field(default_factory=list)  # (item, reason)
    unannotated: int = 0
    cancelled: int = 0  # tasks whose only annotations were cancelled
    clipped: int = 0  # boxes clipped to the image


class MalformedItem(ValueError):
    """One export item cannot be used (the message says why)."""


def load_export_text(text: str) -> list[Any]:
    """Parse export text (a JSON list); raises SourceError when it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"the export is not valid JSON: {exc.msg} at line {exc.lineno}",
            hint="export the project as JSON or JSON_MIN from Label Studio",
        ) from None
    if not isinstance(data, list):
        raise SourceError(
            "the export is not a list of tasks",
            hint="export the project as JSON or JSON_MIN from Label Studio",
        )
    return data


def parse_export(
    items: list[Any], labels: list[str], image_field: str = "image", from_name: str | None = None
) -> ParsedExport:
    """Read JSON or JSON_MIN export items (detected per item).

    Args:
        items: the parsed export list.
        labels: the project's class names; a box with another label makes its item malformed.
        image_field: the task data key of the image.
        from_name: the RectangleLabels tag name (JSON_MIN keys boxes by it); guessed if None.
    """
    out = ParsedExport()
    known = set(labels)
    for index, item in enumerate(items):
        where = _where(item, index)
        try:
            if not isinstance(item, dict):
                raise MalformedItem("not a JSON object")
            if "annotations" in item or "data" in item:
                task = _parse_full(item, image_field, out)
            else:
                task = _parse_min(item, image_field, from_name, out)
            if task is None:
                continue
            unknown = sorted({b.label for b in task.boxes} - known)
            if unknown:
                raise MalformedItem(f"label(s) not in the project labels: {', '.join(unknown)}")
            out.tasks.append(task)
        except MalformedItem as exc:
            out.malformed.append((where, str(exc)))
    return out


def _where(item: Any, index: int) -> str:
    if isinstance(item, dict) and "id" in item:
        return f"task {item['id']}"
    return f"item #{index}"


def _task_id(item: dict[str, Any]) -> int:
    tid = item.get("id")
    if isinstance(tid, bool) or not isinstance(tid, int):
        raise MalformedItem("missing or non-integer task id")
    return tid


def _image_ref(data: Any, image_field: str) -> str:
    if not isinstance(data, dict):
        raise MalformedItem("missing task data")
    ref = data.get(image_field)
    if not isinstance(ref, str) or not ref.strip():
        raise MalformedItem(f"missing image reference data.{image_field}")
    return ref.strip()


def _sort_key(ann: dict[str, Any]) -> tuple[str, int]:
    stamp = ann.get("updated_at") or ann.get("created_at") or ""
    aid = ann.get("id")
    return (str(stamp), aid if isinstance(aid, int) else -1)


def choose_annotation(annotations: list[Any]) -> dict[str, Any] | None:
    """The ground-truth annotation if one is marked, else the latest non-cancelled one."""
    valid = []
    for ann in annotations:
        if not isinstance(ann, dict):
            raise MalformedItem("an annotation is not a JSON object")
        if not ann.get("was_cancelled"):
            valid.append(ann)
    if not valid:
        return None
    truth = [a for a in valid if a.get("ground_truth")]
    return max(truth or valid, key=_sort_key)


def _parse_full(item: dict[str, Any], image_field: str, out: ParsedExport) -> AnnotatedTask | None:
    tid = _task_id(item)
    ref = _image_ref(item.get("data"), image_field)
    annotations = item.get("annotations", [])
    if not isinstance(annotations, list):
        raise MalformedItem("annotations is not a list")
    if not annotations:
        out.unannotated += 1
        return None
    ann = choose_annotation(annotations)
    if ann is None:
        out.cancelled += 1
        return None
    result = ann.get("result", [])
    if not isinstance(result, list):
        raise MalformedItem("annotation result is not a list")
    if any(not isinstance(r, dict) for r in result):
        raise MalformedItem("a result item is not a JSON object")
    boxes, size = _boxes(
        [
            (r.get("value"), r.get("original_width"), r.get("original_height"))
            for r in result
            if r.get("type", RECT) == RECT
        ],
        out,
    )
    upload = item.get("file_upload")
    aid = ann.get("id")
    return AnnotatedTask(
        tid,
        ref,
        upload if isinstance(upload, str) and upload else None,
        tuple(boxes),
        aid if isinstance(aid, int) else None,
        *size,
    )


def _parse_min(
    item: dict[str, Any], image_field: str, from_name: str | None, out: ParsedExport
) -> AnnotatedTask | None:
    tid = _task_id(item)
    ref = _image_ref(item, image_field)
    if from_name is not None:
        values = item.get(from_name, [])
    else:
        lists = [
            v
            for k, v in item.items()
            if k not in _MIN_META_KEYS
            and isinstance(v, list)
            and any(isinstance(x, dict) and RECT in x for x in v)
        ]
        if len(lists) > 1:
            raise MalformedItem("several RectangleLabels fields: pass the tag name")
        values = lists[0] if lists else []
    if not isinstance(values, list):
        raise MalformedItem("the boxes field is not a list")
    if "annotation_id" not in item and not values:
        out.unannotated += 1
        return None
    for v in values:
        if not isinstance(v, dict):
            raise MalformedItem("a box is not a JSON object")
    boxes, size = _boxes(
        [(v, v.get("original_width"), v.get("original_height")) for v in values], out
    )
    aid = item.get("annotation_id")
    upload = item.get("file_upload")
    return AnnotatedTask(
        tid,
        ref,
        upload if isinstance(upload, str) and upload else None,
        tuple(boxes),
        aid if isinstance(aid, int) else None,
        *size,
    )


def _num(value: dict[str, Any], key: str) -> float:
    v = value.get(key, 0.0 if key == "rotation" else None)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise MalformedItem(f"box field {key!r} is missing or not a number")
    return float(v)


def _boxes(
    values: list[tuple[Any, Any, Any]], out: ParsedExport
) -> tuple[list[Box], tuple[int | None, int | None]]:
    boxes = []
    size: tuple[int | None, int | None] = (None, None)
    for value, ow, oh in values:
        if not isinstance(value, dict):
            raise MalformedItem("a box has no value object")
        names = value.get(RECT)
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise MalformedItem("a box has no rectanglelabels")
        if isinstance(ow, int) and isinstance(oh, int) and ow > 0 and oh > 0:
            size = (ow, oh)
        box, clipped = percent_to_yolo(
            names[0],
            _num(value, "x"),
            _num(value, "y"),
            _num(value, "width"),
            _num(value, "height"),
            _num(value, "rotation"),
            size,
        )
        out.clipped += int(clipped)
        if box is not None:
            boxes.append(box)
    return boxes, size


def percent_to_yolo(
    label: str,
    x: float,
    y: float,
    width: float,
    height: float,
    rotation: float = 0.0,
    size: tuple[int | None, int | None] = (None, None),
) -> tuple[Box | None, bool]:
    """Convert a Label Studio box (percent, rotated about its top-left corner) to YOLO.

    A rotated box becomes its axis-aligned bounding box. The box is clipped to the image;
    returns (None, True) when nothing is left. Raises MalformedItem on a negative size.
    """
    if width < 0 or height < 0:
        raise MalformedItem("a box has a negative width or height")
    if rotation % 360:
        pw, ph = (size[0] or 100), (size[1] or 100)  # rotate in pixels: percent is anisotropic
        x0, y0 = x * pw / 100, y * ph / 100
        w0, h0 = width * pw / 100, height * ph / 100
        t = math.radians(rotation)
        cos, sin = math.cos(t), math.sin(t)
        xs, ys = [], []
        for dx, dy in ((0, 0), (w0, 0), (w0, h0), (0, h0)):
            xs.append(x0 + dx * cos - dy * sin)
            ys.append(y0 + dx * sin + dy * cos)
        x, y = min(xs) * 100 / pw, min(ys) * 100 / ph
        width, height = (max(xs) - min(xs)) * 100 / pw, (max(ys) - min(ys)) * 100 / ph
    x1, y1 = max(0.0, x), max(0.0, y)
    x2, y2 = min(100.0, x + width), min(100.0, y + height)
    clipped = (x1, y1, x2, y2) != (x, y, x + width, y + height)
    if x2 <= x1 or y2 <= y1:
        return None, True
    box = Box(label, (x1 + x2) / 200, (y1 + y2) / 200, (x2 - x1) / 100, (y2 - y1) / 100)
    return box, clipped


def image_name(task: AnnotatedTask) -> str:
    """The local file name of a task's image: the uploaded name (uuid prefix removed) or the
    last part of its path/URL. Never a path: only the final component is kept."""
    if task.file_upload:
        name = strip_upload_prefix(task.file_upload)
    else:
        name = ref_basename(task.image_ref)
        if "upload/" in unquote(task.image_ref):  # an uploaded file: <8 hex>-<original name>
            name = strip_upload_prefix(name)
    name = PurePosixPath(name.replace("\\", "/")).name.replace("\x00", "")
    if not name or name in (".", ".."):
        name = f"task{task.task_id}.jpg"
    if len(name.encode()) > 180:
        _stem, dot, ext = name.rpartition(".")
        name = f"task{task.task_id}" + (f".{ext[:8]}" if dot else "")
    return name


def strip_upload_prefix(name: str) -> str:
    """``6c9832a9-frame.jpg`` -> ``frame.jpg`` (Label Studio prefixes uploads with 8 hex)."""
    head, sep, tail = name.partition("-")
    if sep and tail and len(head) == 8 and all(c in "0123456789abcdef" for c in head):
        return tail
    return name


def ref_basename(ref: str) -> str:
    """Last path component of an image reference, whatever its form."""
    parts = urlsplit(ref)
    query = parse_qs(parts.query)
    for key in ("d", "filepath", "fileuri"):
        if query.get(key):
            return PurePosixPath(unquote(query[key][0])).name
    return PurePosixPath(unquote(parts.path)).name


def assign_names(tasks: list[AnnotatedTask]) -> dict[int, str]:
    """``{task_id: file name}``, unique: clashing names get a ``t<task id>_`` prefix."""
    names = {t.task_id: image_name(t) for t in tasks}
    counts: dict[str, int] = {}
    for name in names.values():
        key = PurePosixPath(name).stem.lower()
        counts[key] = counts.get(key, 0) + 1
    return {
        tid: (f"t{tid}_{name}" if counts[PurePosixPath(name).stem.lower()] > 1 else name)
        for tid, name in names.items()
    }


def yolo_text(task: AnnotatedTask, labels: list[str]) -> str:
    """The YOLO label file content of a task (empty for a negative image)."""
    index = {name: i for i, name in enumerate(labels)}
    return "".join(b.yolo_line(index[b.label]) + "\n" for b in task.boxes)
