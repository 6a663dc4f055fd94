"""What a detection run did (:class:`DetectResult`), shared by the pipeline and its recorder."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class DetectResult:
    """What a detection run did."""

    images: int = 0
    done: int = 0
    failed: int = 0
    detections: int = 0
    per_class: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[Path | str, str]] = field(default_factory=list)  # a URL as text
    seconds: float = 0.0
    out: Path = Path(".")
    csv: Path | None = None
    coco: Path | None = None  # the COCO results file (--coco)
    run_id: int | None = None
    model: str = ""
    backend: str = ""
    study_rows: int = 0

    @property
    def ms_per_image(self) -> float:
        return 1000.0 * self.seconds / self.images if self.images else 0.0

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0
