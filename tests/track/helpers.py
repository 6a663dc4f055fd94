"""Generated videos of moving coloured boxes and a colour-threshold 'detector' that finds them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vigie.types import Detections

RED, BLUE = (230, 30, 30), (30, 30, 230)
NAMES = {0: "Car", 1: "Pedestrian"}


@dataclass(frozen=True)
class Mover:
    cls: int
    colour: tuple[int, int, int]
    x: float
    y: float
    vx: float
    vy: float
    w: int = 24
    h: int = 18

    def box(self, i: int) -> tuple[int, int, int, int]:
        x, y = round(self.x + self.vx * i), round(self.y + self.vy * i)
        return x, y, x + self.w, y + self.h


DEFAULT_MOVERS = (
    Mover(0, RED, 4, 30, 4, 0),  # left to right
    Mover(1, BLUE, 130, 70, -3, 0, 16, 24),  # right to left
)


def frame_image(i: int, width: int, height: int, movers: tuple[Mover, ...]) -> np.ndarray:
    img = np.full((height, width, 3), 70, dtype=np.uint8)
    for m in movers:
        x1, y1, x2, y2 = m.box(i)
        img[max(0, y1) : max(0, y2), max(0, x1) : max(0, x2)] = m.colour
    return img


def render_video(
    path: Path,
    frames: int = 30,
    fps: int = 10,
    width: int = 160,
    height: int = 120,
    movers: tuple[Mover, ...] = DEFAULT_MOVERS,
    rotation: int = 0,
) -> Path:
    """An H.264 MP4 of ``movers``; ``rotation`` sets the display rotation (degrees)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = 5
        if rotation:
            stream.set_display_rotation(rotation)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(frame_image(i, width, height, movers), "rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


class ColourDetector:
    """Finds the red (class 0) and blue (class 1) boxes by colour, with a fixed confidence."""

    def __init__(self, confidence: float = 0.9) -> None:
        self.names = dict(NAMES)
        self.confidence = confidence
        self.calls = 0
        self.images = 0

    def predict(self, images: list[Any]) -> list[Detections]:
        self.calls += 1
        self.images += len(images)
        out = []
        for img in images:
            boxes, confs, classes = [], [], []
            r, g, b = (img[..., k].astype(int) for k in range(3))
            for cls, mask in ((0, (r > 150) & (g < 90) & (b < 90)), (1, (b > 150) & (r < 90))):
                ys, xs = np.nonzero(mask)
                if len(xs) < 20:
                    continue
                boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
                confs.append(self.confidence)
                classes.append(cls)
            out.append(
                Detections(
                    np.array(boxes, dtype=np.float32).reshape(-1, 4),
                    np.array(confs, dtype=np.float32),
                    np.array(classes, dtype=np.int64),
                    dict(NAMES),
                    img.shape[1],
                    img.shape[0],
                )
            )
        return out
