"""Detectors: the ultralytics (torch) backend and the ONNX Runtime backend.

Both take RGB uint8 images, letterbox each group of same-sized images to the smallest stride
multiple (as ultralytics does for a batch of one shape), and return :class:`vigie.types.Detections`.
"""

from __future__ import annotations

import ast
import logging
import threading
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from vigie.detect.export import onnx_path_for
from vigie.detect.postprocess import decode_predictions, preprocess, scale_boxes
from vigie.errors import ConfigError, ModelError, require
from vigie.models import class_names, download_weights, load_yolo, predict_bgr, trained_weights
from vigie.types import Detections

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from vigie.catalog import Catalog
    from vigie.config import Settings

log = logging.getLogger(__name__)


def _groups_by_shape(images: list[Any]) -> dict[tuple[int, ...], list[int]]:
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for i, img in enumerate(images):
        groups[tuple(img.shape)].append(i)
    return groups


def _check_images(images: list[Any]) -> None:
    for img in images:
        if not (isinstance(img, np.ndarray) and img.ndim == 3 and img.shape[2] == 3):
            raise ConfigError(
                "a detector takes HxWx3 uint8 RGB arrays",
                hint=f"got {type(img).__name__} {getattr(img, 'shape', '')}",
            )


class TorchDetector:
    """Ultralytics' own predictor (the reference the ONNX backend is checked against)."""

    backend = "torch"

    def __init__(
        self,
        source: str,
        *,
        conf: float,
        iou: float,
        imgsz: int,
        classes: list[int] | None,
        device: str | None,
        label: str,
    ) -> None:
        self.model = load_yolo(source)
        self.names: dict[int, str] = class_names(self.model)
        self.conf, self.iou, self.imgsz, self.classes = conf, iou, imgsz, classes
        self.device = device
        self.label = label

    def predict(self, images: list[Any]) -> list[Detections]:
        """Detect objects in RGB images; one :class:`Detections` per image, in order."""
        _check_images(images)
        out: list[Detections | None] = [None] * len(images)
        for idxs in _groups_by_shape(images).values():
            bgr = [np.ascontiguousarray(images[i][..., ::-1]) for i in idxs]
            results = predict_bgr(
                self.model, bgr, conf=self.conf, iou=self.iou, imgsz=self.imgsz,
                classes=self.classes, device=self.device,
            )  # fmt: skip
            for i, res in zip(idxs, results, strict=True):
                h, w = images[i].shape[:2]
                boxes: Any = getattr(res, "boxes", None)
                out[i] = Detections(
                    boxes.xyxy.cpu().numpy().astype(np.float32),
                    boxes.conf.cpu().numpy().astype(np.float32),
                    boxes.cls.cpu().numpy().astype(np.int64),
                    self.names,
                    w,
                    h,
                )
        return [d for d in out if d is not None]


class OnnxDetector:
    """ONNX Runtime on an ultralytics export; numpy pre- and post-processing, no torch."""

    backend = "onnx"

    def __init__(
        self,
        onnx_path: Path,
        *,
        conf: float,
        iou: float,
        imgsz: int,
        classes: list[int] | None,
        device: str | None,
        label: str,
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # Idle ORT threads spin by default: on a busy CPU that starves our decode and write
        # threads (measured 4x slower per image on 2 shared cores), so let them sleep.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        if threads:
            options.intra_op_num_threads = threads
        providers = ["CPUExecutionProvider"]
        if device not in (None, "cpu") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(onnx_path), options, providers=providers)
        except Exception as exc:
            raise ModelError(
                f"cannot load the ONNX model {onnx_path}: {' '.join(str(exc).split())}",
                hint="export it again, or pass the .pt weights",
            ) from None
        meta = self.session.get_modelmeta().custom_metadata_map
        try:
            self.names = {int(k): str(v) for k, v in ast.literal_eval(meta["names"]).items()}
        except (KeyError, ValueError, SyntaxError, AttributeError):
            raise ModelError(
                f"{onnx_path} is not an ultralytics YOLO export (no class names in its metadata)",
                hint="export it with vigie (--backend onnx on the .pt) or ultralytics",
            ) from None
        self.stride = int(meta.get("stride", 32))
        self.input_name = self.session.get_inputs()[0].name
        self.onnx_path = onnx_path
        self.conf, self.iou, self.imgsz, self.classes = conf, iou, imgsz, classes
        self.label = label
        self._local = threading.local()  # per thread: the largest batch tensor so far, reused

    def forward(self, tensor: NDArray[np.float32]) -> NDArray[np.float32]:
        """The raw network output (batch, 4 + classes, anchors) of a preprocessed tensor."""
        return np.asarray(self.session.run(None, {self.input_name: tensor})[0])

    def predict(self, images: list[Any]) -> list[Detections]:
        """Detect objects in RGB images; one :class:`Detections` per image, in order."""
        _check_images(images)
        out: list[Detections | None] = [None] * len(images)
        for idxs in _groups_by_shape(images).values():
            # written into the tensor this thread used last when it is large enough
            spare = getattr(self._local, "tensor", None)
            tensor = preprocess([images[i] for i in idxs], self.imgsz, self.stride, spare)
            if spare is None or tensor.base is not spare:
                self._local.tensor = tensor
            raw = self.forward(tensor)
            net_shape = (int(tensor.shape[2]), int(tensor.shape[3]))
            h, w = images[idxs[0]].shape[:2]
            for i, pred in zip(idxs, raw, strict=True):
                rows = decode_predictions(pred, self.conf, self.iou, self.classes)
                if not rows.shape[0]:
                    out[i] = Detections.empty(self.names, w, h)
                    continue
                xyxy = scale_boxes(rows[:, :4], net_shape, (h, w))
                out[i] = Detections(
                    xyxy.astype(np.float32),
                    rows[:, 4].astype(np.float32),
                    rows[:, 5].astype(np.int64),
                    self.names,
                    w,
                    h,
                )
        return [d for d in out if d is not None]


def load_detector(
    model: str | Path,
    *,
    backend: Literal["torch", "onnx"] | None = None,
    conf: float | None = None,
    iou: float | None = None,
    imgsz: int | None = None,
    classes: list[int] | None = None,
    device: str | None = None,
    catalog: Catalog | None = None,
    threads: int | None = None,
    settings: Settings | None = None,
) -> TorchDetector | OnnxDetector:
    """Load a detector for RGB images.

    Args:
        model: a weights path (.pt, or an .onnx export), a name from the catalog's model
            registry (needs ``catalog``), or an official weights name when online.
        backend: "onnx" (ONNX Runtime, exported once and cached next to the weights) or
            "torch" (ultralytics).
        conf, iou: confidence and NMS IoU thresholds.
        imgsz: network input size (long side).
        classes: keep only these class ids.
        device: "cpu", "0", ... (torch); ONNX uses CUDA only when asked and available.
        catalog: where to look registry names up.
        threads: ONNX Runtime intra-op threads (default: its own choice).
        settings: where ``backend``, ``conf``, ``iou`` and ``imgsz`` left at ``None`` come from
            (``settings.detect``; default :func:`vigie.config.load_settings`).

    Returns:
        an object with ``.names`` and ``.predict(images) -> list[Detections]``.

    Raises:
        ModelError: the model cannot be found, exported or loaded.
        DependencyError: ultralytics / onnxruntime are not installed.
    """
    if backend is not None and backend not in ("torch", "onnx"):
        raise ConfigError(f"unknown backend {backend!r}", hint="use torch or onnx")
    from vigie.config import DetectSettings, load_settings, stage_options

    given = {"backend": backend, "conf": conf, "iou": iou, "imgsz": imgsz}
    # the settings are read only when a value is left to them
    section = (
        DetectSettings() if None not in given.values() else (settings or load_settings()).detect
    )
    det = stage_options(section, "detect", **given)
    kw: dict[str, Any] = {"conf": det.conf, "iou": det.iou, "imgsz": det.imgsz}
    kw.update(classes=classes, device=device)
    if Path(str(model)).suffix.lower() == ".onnx":  # ONNX Runtime alone: no torch, no ultralytics
        onnx_file = Path(str(model)).expanduser()
        if not onnx_file.is_file():
            raise ModelError(
                f"no such ONNX model: {model}", hint="write one with `vigie export --model M`"
            )
        require("onnxruntime", "onnx")
        require("cv2", "onnx")
        return OnnxDetector(onnx_file.resolve(), label=onnx_file.name, threads=threads, **kw)
    require("ultralytics", "yolo")
    resolved = trained_weights(model, catalog, "detect")
    if det.backend == "torch":
        return TorchDetector(resolved.source, label=resolved.label, **kw)
    require("onnxruntime", "onnx")
    if resolved.path is None:  # an official name: let ultralytics fetch it first
        resolved = download_weights(resolved.source)
    assert resolved.path is not None
    onnx_file = onnx_path_for(resolved.path, det.imgsz)
    return OnnxDetector(onnx_file, label=resolved.label, threads=threads, **kw)
