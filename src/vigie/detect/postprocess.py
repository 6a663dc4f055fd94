"""Numpy letterbox, NMS and box scaling, matching ultralytics' predictor step by step.

The ONNX backend runs without torch; these functions reproduce what
``ultralytics.engine.predictor`` (LetterBox, ``non_max_suppression``, ``scale_boxes``) does, so
both backends give the same boxes on the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

MAX_WH = 7680  # class offset of the batched NMS (ultralytics' max_wh)
MAX_NMS = 30000  # boxes kept before NMS
PAD_VALUE = 114


@dataclass(frozen=True)
class Letterboxed:
    """An image resized and padded for the network, with what is needed to map boxes back."""

    array: NDArray[np.uint8]  # H x W x 3, padded
    orig_shape: tuple[int, int]  # (h, w) of the original image


def _geometry(
    h: int, w: int, imgsz: int, stride: int, auto: bool
) -> tuple[int, int, int, int, int, int]:
    """(new_w, new_h, top, bottom, left, right) of ultralytics' LetterBox for an h x w image."""
    r = min(imgsz / h, imgsz / w)
    new_w, new_h = max(round(w * r), 1), max(round(h * r), 1)
    dw, dh = imgsz - new_w, imgsz - new_h
    if auto:
        dw, dh = dw % stride, dh % stride
    dw_half, dh_half = dw / 2, dh / 2
    top, bottom = round(dh_half - 0.1), round(dh_half + 0.1)
    left, right = round(dw_half - 0.1), round(dw_half + 0.1)
    return new_w, new_h, top, bottom, left, right


def _resized(image: NDArray[np.uint8], new_w: int, new_h: int) -> NDArray[np.uint8]:
    if image.shape[:2] == (new_h, new_w):
        return image
    import cv2

    return np.asarray(cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR))


def letterbox(
    image: NDArray[np.uint8], imgsz: int, stride: int = 32, auto: bool = True
) -> Letterboxed:
    """Resize keeping the aspect ratio, then pad to a multiple of ``stride`` (``auto``) or a square."""
    import cv2

    h, w = image.shape[:2]
    new_w, new_h, top, bottom, left, right = _geometry(h, w, imgsz, stride, auto)
    image = _resized(image, new_w, new_h)
    padded = cv2.copyMakeBorder(
        image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
    )
    return Letterboxed(np.asarray(padded, dtype=np.uint8), (h, w))


def to_tensor(batch: list[NDArray[np.uint8]]) -> NDArray[np.float32]:
    """Stack same-shaped RGB HWC uint8 images into an NCHW float32 tensor in [0, 1]."""
    stacked = np.stack(batch).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(stacked, dtype=np.float32) / np.float32(255.0)


def preprocess(
    images: list[NDArray[np.uint8]],
    imgsz: int,
    stride: int = 32,
    out: NDArray[np.float32] | None = None,
) -> NDArray[np.float32]:
    """Same-shaped RGB HWC uint8 images -> the letterboxed NCHW float32 batch in [0, 1].

    Gives exactly ``to_tensor([letterbox(im, imgsz, stride).array for im in images])``, without
    the padded copies, the stacked copy and the temporary of the division: each image (resized
    only when its size needs it) is copied into its place in the batch and divided by 255 there,
    and only the borders are filled with the padding value. ``out``, a C-contiguous float32 tensor of the
    same picture size and at least as many images, is written into (its first images) instead
    of a new one: a detector keeps the last one and spares allocating it for every batch.
    """
    h, w = images[0].shape[:2]
    new_w, new_h, top, bottom, left, right = _geometry(h, w, imgsz, stride, True)
    shape = (len(images), 3, new_h + top + bottom, new_w + left + right)
    reuse = (
        out is not None
        and out.dtype == np.float32
        and out.flags.c_contiguous
        and out.shape[1:] == shape[1:]
        and out.shape[0] >= shape[0]
    )
    tensor = out[: shape[0]] if reuse and out is not None else np.empty(shape, np.float32)
    pad = np.float32(PAD_VALUE) / np.float32(255.0)
    y1, x1 = top + new_h, left + new_w
    tensor[:, :, :top] = pad
    tensor[:, :, y1:] = pad
    tensor[:, :, top:y1, :left] = pad
    tensor[:, :, top:y1, x1:] = pad
    for k, image in enumerate(images):
        picture = tensor[k, :, top:y1, left:x1]
        picture[...] = _resized(image, new_w, new_h).transpose(2, 0, 1)  # uint8 -> float32
        picture /= np.float32(255.0)  # in place (faster than one casting division)
    return tensor


def nms(
    boxes: NDArray[np.float32], scores: NDArray[np.float32], iou_thres: float
) -> NDArray[np.int64]:
    """Greedy NMS: indices of kept boxes, by decreasing score (torchvision.ops.nms semantics)."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        iw = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        ih = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = iw * ih
        iou = inter / (areas[i] + areas[rest] - inter + 1e-9)
        order = rest[iou <= iou_thres]
    return np.asarray(keep, dtype=np.int64)


def decode_predictions(
    pred: NDArray[np.float32],
    conf: float,
    iou: float,
    classes: list[int] | None = None,
    max_det: int = 300,
) -> NDArray[np.float32]:
    """One image's raw head output (4 + nc, N) -> (K, 6) rows x1, y1, x2, y2, conf, class."""
    best = pred[4:].max(0)  # each anchor's best class score (a contiguous reduction)
    x = pred[:, best > conf].T  # (K, 4 + nc): the anchors above the threshold only
    if not x.shape[0]:
        return np.zeros((0, 6), dtype=np.float32)
    scores_all = x[:, 4:]
    cls = scores_all.argmax(1)
    score = scores_all[np.arange(len(cls)), cls]
    xy, wh = x[:, 0:2], x[:, 2:4]
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1)
    out = np.concatenate([boxes, score[:, None], cls[:, None].astype(np.float32)], axis=1)
    if classes is not None:
        out = out[np.isin(cls, classes)]
    if not out.shape[0]:
        return np.zeros((0, 6), dtype=np.float32)
    if out.shape[0] > MAX_NMS:
        out = out[np.argsort(-out[:, 4], kind="stable")[:MAX_NMS]]
    keep = nms(out[:, :4] + out[:, 5:6] * MAX_WH, out[:, 4], iou)[:max_det]
    return out[keep].astype(np.float32)


def scale_boxes(
    boxes: NDArray[np.float32], net_shape: tuple[int, int], orig_shape: tuple[int, int]
) -> NDArray[np.float32]:
    """Map xyxy boxes from the letterboxed network input back onto the original image, clipped."""
    gain = min(net_shape[0] / orig_shape[0], net_shape[1] / orig_shape[1])
    new_h, new_w = (max(round(s * gain), 1) for s in orig_shape)
    gain_y, gain_x = new_h / orig_shape[0], new_w / orig_shape[1]
    pad_x = round((net_shape[1] - new_w) / 2 - 0.1)
    pad_y = round((net_shape[0] - new_h) / 2 - 0.1)
    out = boxes.copy()
    out[:, [0, 2]] = (out[:, [0, 2]] - pad_x) / gain_x
    out[:, [1, 3]] = (out[:, [1, 3]] - pad_y) / gain_y
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, orig_shape[1])
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, orig_shape[0])
    return out
