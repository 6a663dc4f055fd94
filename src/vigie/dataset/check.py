"""``check_dataset``: what would silently hurt a training run, reported before it starts.

Errors: an image without a label file (the seed's find_missing_labels; YOLO would train on it as
background), a label file without an image, a malformed line, a class id beyond the names, a box
out of the image or without area. Warnings: an empty label file (a negative image, often a
labelling slip). Plus the class counts per split.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from vigie.dataset.yolo import (
    dataset_names,
    list_images,
    out_of_bounds,
    parse_label_line,
    yolo_layout,
)

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Issue:
    severity: str
    split: str
    file: str
    message: str


@dataclass
class CheckReport:
    root: Path
    names: list[str]
    images: dict[str, int] = field(default_factory=dict)  # per split
    class_counts: dict[str, Counter[int]] = field(default_factory=dict)  # split -> id -> boxes
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == WARNING]

    def count(self, message_start: str) -> int:
        return sum(1 for i in self.issues if i.message.startswith(message_start))


def check_dataset(root: Path, names: list[str] | None = None) -> CheckReport:
    """Check a YOLO dataset (``images/{train,val}`` + ``labels/{train,val}``, or flat).

    Raises:
        DatasetError: ``root`` is not a dataset folder at all.
    """
    report = CheckReport(root, dataset_names(root, names))
    for split, images_dir, labels_dir in yolo_layout(root):
        images = {p.stem: p for p in list_images(images_dir)}
        labels = {p.stem: p for p in labels_dir.glob("*.txt")} if labels_dir.is_dir() else {}
        report.images[split] = len(images)
        counts: Counter[int] = Counter()
        report.class_counts[split] = counts
        for stem, img in sorted(images.items()):
            if stem not in labels:
                report.issues.append(Issue(ERROR, split, img.name, "image without label"))
        for stem, lab in sorted(labels.items()):
            if stem not in images:
                report.issues.append(Issue(ERROR, split, lab.name, "label without image"))
            _check_label(lab, split, report, counts)
    return report


def _check_label(path: Path, split: str, report: CheckReport, counts: Counter[int]) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        report.issues.append(Issue(ERROR, split, path.name, f"malformed: unreadable ({exc})"))
        return
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        report.issues.append(Issue(WARNING, split, path.name, "empty label"))
        return
    nc = len(report.names)
    for n, line in lines:
        try:
            box = parse_label_line(line)
        except ValueError as exc:
            report.issues.append(Issue(ERROR, split, path.name, f"malformed line {n}: {exc}"))
            continue
        if nc and box.class_id >= nc:
            report.issues.append(
                Issue(ERROR, split, path.name, f"unknown class {box.class_id} on line {n}")
            )
            continue
        if out_of_bounds(box):
            report.issues.append(Issue(ERROR, split, path.name, f"box out of bounds on line {n}"))
        counts[box.class_id] += 1
