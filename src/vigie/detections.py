"""``Detections``: all boxes of one image as arrays, indexable and filterable like supervision's.

    d = detector.predict([rgb])[0]
    d[d.confidence > 0.5]          # a boolean mask -> a new Detections
    d[d.class_id == 2], d[0], d[1:3], d[[0, 2]]
    d["class_name"]                # the class name of each box (numpy array of str)
    for det in d: ...              # one vigie.types.Detection record per box
    sv_dets = d.to_supervision()   # needs supervision installed

Indexing follows ``supervision.Detections.__getitem__``: an int, slice, list of ints or numpy
index / boolean mask returns a new :class:`Detections` (an int gives one of length 1), a
string reads a data field. Numpy is imported only when a method runs (``import vigie`` stays
light).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:  # numpy stays out of `vigie --help`
    import numpy as np
    from numpy.typing import NDArray

CLASS_NAME = "class_name"  # supervision's data key for class names

# Size categories of a box relative to its frame, as the study teams define them.
SIZE_LARGE = "large"
SIZE_MEDIUM = "medium"
SIZE_SMALL = "small"
SIZE_NEGLIGIBLE = "negligible"
# The study database keeps its historical spellings (schema.sql); map ours onto them on write.
STUDY_DB_SIZE_NAMES = {
    SIZE_LARGE: "large",
    SIZE_MEDIUM: "meduim",
    SIZE_SMALL: "small",
    SIZE_NEGLIGIBLE: "negligeable",
}


def size_category(area_percentage: float) -> str:
    """Size category of a box from its area in percent of the frame.

    large >= 10 %, medium >= 1 %, small >= 0.1 %, negligible below.
    """
    if area_percentage >= 10.0:
        return SIZE_LARGE
    if area_percentage >= 1.0:
        return SIZE_MEDIUM
    if area_percentage >= 0.1:
        return SIZE_SMALL
    return SIZE_NEGLIGIBLE


class SizedBox:
    """``area``, ``area_percentage`` and ``size`` of a box (:meth:`corners`: x1, y1, x2, y2) in its image."""

    image_width: int
    image_height: int

    def corners(self) -> tuple[float, float, float, float]:
        raise NotImplementedError

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.corners()
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)

    @property
    def area_percentage(self) -> float:
        frame = float(self.image_width * self.image_height)
        return 100.0 * self.area / frame if frame > 0 else 0.0

    @property
    def size(self) -> str:
        return size_category(self.area_percentage)


@dataclass(frozen=True)
class Detection(SizedBox):
    """One detected object in one image or frame, with the study teams' derived fields."""

    class_id: int
    class_name: str
    confidence: float
    x1: float
    y1: float
    x2: float
    y2: float
    image_width: int
    image_height: int

    def corners(self) -> tuple[float, float, float, float]:
        return self.x1, self.y1, self.x2, self.y2


@dataclass(frozen=True, eq=False)
class Detections:
    """All boxes of one image or frame as arrays (supervision-style).

    xyxy: (N, 4) float32 pixel boxes; confidence: (N,) float32; class_id: (N,) int.
    """

    xyxy: NDArray[np.float32]
    confidence: NDArray[np.float32]
    class_id: NDArray[np.int64]
    names: dict[int, str]
    image_width: int
    image_height: int

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __iter__(self) -> Iterator[Detection]:
        """One :class:`vigie.types.Detection` per box, in order."""
        return iter(self.to_records())

    @overload
    def __getitem__(self, index: str) -> NDArray[Any]: ...

    @overload
    def __getitem__(self, index: int | slice | list[int] | NDArray[Any]) -> Detections: ...

    def __getitem__(
        self, index: str | int | slice | list[int] | NDArray[Any]
    ) -> Detections | NDArray[Any]:
        """A subset (int, slice, list of ints, numpy index or mask), or a data field by name.

        Raises:
            KeyError: a string other than ``"class_name"``.
            IndexError: an index out of range, or a mask of another length.
        """
        import numpy as np

        if isinstance(index, str):
            if index != CLASS_NAME:
                raise KeyError(f"{index!r}: the only data field is {CLASS_NAME!r}")
            return np.array([self.names.get(int(c), str(int(c))) for c in self.class_id], dtype=str)
        if len(self) == 0:  # as supervision: any index of an empty set is an empty set
            return self._take(slice(None))
        if isinstance(index, int | np.integer):
            index = [int(index)]
        return self._take(index)

    def _take(self, index: Any) -> Detections:
        return Detections(
            self.xyxy[index].copy(),
            self.confidence[index].copy(),
            self.class_id[index].copy(),
            self.names,
            self.image_width,
            self.image_height,
        )

    def is_empty(self) -> bool:
        return len(self) == 0

    @property
    def area(self) -> NDArray[np.float32]:
        """Box areas in pixels, (N,)."""
        import numpy as np

        wh = np.clip(self.xyxy[:, 2:4] - self.xyxy[:, 0:2], 0, None)
        return np.asarray(wh[:, 0] * wh[:, 1], dtype=np.float32)

    @classmethod
    def empty(cls, names: Mapping[int, str], image_width: int, image_height: int) -> Detections:
        """No boxes, for an image of this size."""
        import numpy as np

        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.int64),
            dict(names),
            image_width,
            image_height,
        )

    def to_records(self) -> list[Detection]:
        return [
            Detection(
                class_id=int(c),
                class_name=self.names.get(int(c), str(int(c))),
                confidence=float(s),
                x1=float(b[0]),
                y1=float(b[1]),
                x2=float(b[2]),
                y2=float(b[3]),
                image_width=self.image_width,
                image_height=self.image_height,
            )
            for b, s, c in zip(self.xyxy, self.confidence, self.class_id, strict=True)
        ]

    @classmethod
    def from_ultralytics(cls, result: Any) -> Detections:
        """From one ultralytics ``Results`` (duck-typed: ultralytics is never imported).

        Reads ``result.boxes.xyxy / .conf / .cls`` (tensors or arrays), ``result.names`` and
        ``result.orig_shape``.
        """
        import numpy as np

        names = _names(getattr(result, "names", None) or {})
        height, width = (int(v) for v in getattr(result, "orig_shape", (0, 0))[:2])
        boxes = getattr(result, "boxes", None)
        if boxes is None:
            return cls.empty(names, width, height)
        return cls(
            _numpy(boxes.xyxy).astype(np.float32).reshape(-1, 4),
            _numpy(boxes.conf).astype(np.float32).reshape(-1),
            _numpy(boxes.cls).astype(np.int64).reshape(-1),
            names,
            width,
            height,
        )

    def to_supervision(self) -> Any:
        """A ``supervision.Detections`` with ``data["class_name"]`` (supervision's convention).

        Raises:
            DependencyError: supervision is not installed.
        """
        sv = _supervision()
        return sv.Detections(
            xyxy=self.xyxy.astype("float32", copy=True),
            confidence=self.confidence.astype("float32", copy=True),
            class_id=self.class_id.astype(int, copy=True),
            data={CLASS_NAME: self[CLASS_NAME]},
        )

    @classmethod
    def from_supervision(
        cls,
        detections: Any,
        names: Mapping[int, str] | None = None,
        image_width: int = 0,
        image_height: int = 0,
    ) -> Detections:
        """From a ``supervision.Detections`` (duck-typed); names default to its class_name data.

        A missing confidence (ground truth) reads as 1.0, a missing class id as 0.
        """
        import numpy as np

        xyxy = np.asarray(detections.xyxy, dtype=np.float32).reshape(-1, 4)
        n = xyxy.shape[0]
        conf = getattr(detections, "confidence", None)
        cid = getattr(detections, "class_id", None)
        class_id = np.zeros(n, np.int64) if cid is None else np.asarray(cid, dtype=np.int64)
        if names is None:
            data = getattr(detections, "data", None) or {}
            labels = data.get(CLASS_NAME, [])
            names = {int(c): str(label) for c, label in zip(class_id, labels, strict=False)}
        return cls(
            xyxy,
            np.ones(n, np.float32) if conf is None else np.asarray(conf, dtype=np.float32),
            class_id,
            dict(names),
            image_width,
            image_height,
        )


def _numpy(value: Any) -> Any:
    import numpy as np

    if hasattr(value, "cpu"):
        value = value.cpu()
    if hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value)


def _names(names: Any) -> dict[int, str]:
    if isinstance(names, Mapping):
        return {int(k): str(v) for k, v in names.items()}
    return {i: str(v) for i, v in enumerate(names)}


def _supervision() -> Any:
    from vigie.errors import DependencyError

    try:
        import supervision
    except ImportError:
        raise DependencyError(
            "to_supervision() needs the optional package 'supervision'",
            hint="install it with: pip install supervision",
        ) from None
    return supervision
