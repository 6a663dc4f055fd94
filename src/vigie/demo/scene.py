"""A synthetic street scene with ground truth: a road, vehicles, bikes and pedestrians.

Everything is a deterministic function of the seed: the same ``Scene(seed=3)`` renders the same
pixels and the same boxes on every machine. Objects move along lanes (vehicles and bikes) and
sidewalks (pedestrians); each has a stable id, so the ground truth serves detection (YOLO labels)
and tracking (MOT ``gt.txt``) alike.

    scene = Scene(seed=0)
    img = scene.render(12)            # HxWx3 uint8 RGB
    boxes = scene.boxes(12)           # [GroundTruthBox(...), ...]
    render_video(scene, "street.mp4", frames=100)
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vigie.files import write_atomic

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Image = NDArray[np.uint8]

# Class names follow the Label Studio labels of the study teams (config.LabelStudioSettings).
CLASSES: tuple[str, ...] = ("Car", "Bus", "Truck", "Bicycle", "Pedestrian")
CLASS_IDS = {name: i for i, name in enumerate(CLASSES)}

# (class, base width, base height) in pixels at the reference size 320x240.
_SHAPES = {"Car": (44, 20), "Bus": (92, 34), "Truck": (74, 32), "Bicycle": (22, 18)}
_PEDESTRIAN = (9, 22)
_PALETTE = np.array(
    [(200, 30, 30), (30, 70, 200), (240, 240, 240), (20, 20, 20), (30, 150, 60), (230, 150, 20)],
    dtype=np.uint8,
)


@dataclass(frozen=True)
class GroundTruthBox:
    """One visible object in one frame: pixel box clipped to the frame, and how much is visible."""

    object_id: int
    class_id: int
    class_name: str
    x1: float
    y1: float
    x2: float
    y2: float
    visibility: float


@dataclass(frozen=True)
class _Lane:
    y_bottom: float  # bottom edge of the objects on this lane, in pixels
    speed: float  # pixels per frame, negative = right to left
    scale: float  # objects nearer the camera look bigger
    kinds: tuple[str, ...]
    spacing: float  # mean distance between two objects of the lane, in reference pixels


@dataclass(frozen=True)
class _Object:
    object_id: int
    class_name: str
    lane: int
    spawn: int  # frame at which its leading edge enters the picture
    width: float
    height: float
    color: tuple[int, int, int]


class Scene:
    """A street seen by a fixed camera, deterministic by ``seed``.

    Args:
        seed: everything (traffic, colours, buildings) derives from it.
        width, height: picture size in pixels (even numbers, for H.264).
        fps: frames per second of the scene clock.
        length: frames of traffic generated; later frames wrap around.
        density: 1.0 is normal traffic; lower means fewer objects.
    """

    def __init__(
        self,
        seed: int = 0,
        width: int = 320,
        height: int = 240,
        fps: float = 10.0,
        length: int = 6000,
        density: float = 1.0,
    ) -> None:
        if width < 64 or height < 48 or width % 2 or height % 2:
            raise ValueError("the scene needs an even size of at least 64x48")
        self.seed, self.width, self.height = seed, width, height
        self.fps, self.length, self.density = fps, length, density
        self._k = height / 240.0  # vertical scale from the reference size
        self._kx = width / 320.0
        self._objects = self._spawn_objects()

    # -- layout ------------------------------------------------------------------------------
    @cached_property
    def lanes(self) -> tuple[_Lane, ...]:
        k, kx = self._k, self._kx
        road = ("Car", "Car", "Car", "Truck", "Bus")
        return (
            _Lane(84 * k, 0.9 * kx, 0.8, ("Pedestrian",), 110),  # far sidewalk
            _Lane(116 * k, 3.4 * kx, 0.85, road, 170),
            _Lane(141 * k, 2.4 * kx, 0.9, ("Car", "Bicycle", "Car"), 200),
            _Lane(168 * k, -3.0 * kx, 1.0, road, 170),
            _Lane(196 * k, -1.8 * kx, 1.05, ("Bicycle", "Car", "Bicycle"), 220),
            _Lane(230 * k, -1.0 * kx, 1.15, ("Pedestrian",), 90),  # near sidewalk
        )

    def _spawn_objects(self) -> list[_Object]:
        rng = np.random.default_rng(self.seed)
        objects: list[_Object] = []
        warmup = int(self.width / 0.8) + 1  # frames before 0, so the road is busy at frame 0
        for lane_index, lane in enumerate(self.lanes):
            mean_gap = lane.spacing * self._kx / abs(lane.speed) / max(self.density, 0.05)
            t = -warmup + int(rng.integers(0, int(mean_gap) + 1))
            while t < self.length:
                kind = str(rng.choice(lane.kinds))
                bw, bh = _SHAPES.get(kind, _PEDESTRIAN)
                jitter = float(rng.uniform(0.9, 1.1))
                w = bw * self._kx * lane.scale * jitter
                h = bh * self._k * lane.scale * jitter
                color = tuple(int(c) for c in _PALETTE[int(rng.integers(0, len(_PALETTE)))])
                objects.append(
                    _Object(len(objects) + 1, kind, lane_index, t, w, h, color)  # type: ignore[arg-type]
                )
                # leave room for the whole object before the next one enters this lane
                clear = math.ceil((w + 6 * self._kx) / abs(lane.speed))
                t += clear + int(rng.exponential(max(1.0, mean_gap - clear)))
        return objects

    # -- geometry ----------------------------------------------------------------------------
    def _wrap(self, frame: int) -> int:
        return frame % self.length if frame >= self.length else frame

    def _full_box(self, obj: _Object, frame: int) -> tuple[float, float, float, float]:
        lane = self.lanes[obj.lane]
        travelled = (frame - obj.spawn) * abs(lane.speed)
        x1 = -obj.width + travelled if lane.speed > 0 else self.width - travelled
        y2 = lane.y_bottom
        return x1, y2 - obj.height, x1 + obj.width, y2

    def _on_screen(self, frame: int) -> list[tuple[_Object, tuple[float, float, float, float]]]:
        frame = self._wrap(frame)
        out = []
        for obj in self._objects:
            if obj.spawn > frame:
                continue
            box = self._full_box(obj, frame)
            if box[2] <= 0 or box[0] >= self.width:
                continue
            out.append((obj, box))
        out.sort(key=lambda ob: ob[1][3])  # far (small y) first, so near objects occlude
        return out

    def boxes(self, frame: int, min_visibility: float = 0.4) -> list[GroundTruthBox]:
        """Ground-truth boxes of frame ``frame``, clipped to the picture.

        Objects less than ``min_visibility`` inside the picture are left out (too cut to label).
        """
        result = []
        for obj, (x1, y1, x2, y2) in self._on_screen(frame):
            cx1, cx2 = max(0.0, x1), min(float(self.width), x2)
            cy1, cy2 = max(0.0, y1), min(float(self.height), y2)
            visible = (cx2 - cx1) / (x2 - x1) if x2 > x1 else 0.0
            if visible < min_visibility or cx2 - cx1 < 3 or cy2 - cy1 < 3:
                continue
            result.append(
                GroundTruthBox(
                    obj.object_id,
                    CLASS_IDS[obj.class_name],
                    obj.class_name,
                    round(cx1, 2),
                    round(cy1, 2),
                    round(cx2, 2),
                    round(cy2, 2),
                    round(visible, 3),
                )
            )
        return result

    def class_counts(self, until: int) -> dict[str, int]:
        """How many objects of each class enter the street before frame ``until``."""
        counts: dict[str, int] = {}
        for obj in self._objects:
            if obj.spawn < until:
                counts[obj.class_name] = counts.get(obj.class_name, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    # -- pixels ------------------------------------------------------------------------------
    @cached_property
    def background(self) -> Image:
        """The empty street (sky, buildings, sidewalks, road, lane marks), computed once."""
        w, h, k = self.width, self.height, self._k
        rng = np.random.default_rng(self.seed + 1_000_003)
        img = np.empty((h, w, 3), dtype=np.uint8)
        sky = np.linspace(150, 215, h).astype(np.uint8)
        img[:] = np.stack([sky - 40, sky - 10, sky], axis=-1)[:, None, :]
        x = 0
        while x < w:  # buildings
            bw = int(rng.integers(int(30 * self._kx), int(70 * self._kx)))
            top = int(rng.integers(int(10 * k), int(45 * k)))
            tone = rng.integers(90, 170, size=3).astype(np.uint8)
            img[top : int(66 * k), x : x + bw] = tone
            for wy in range(top + int(6 * k), int(60 * k), int(10 * k)):
                for wx in range(x + 4, x + bw - 6, max(8, int(12 * self._kx))):
                    img[wy : wy + int(4 * k), wx : wx + 4] = (60, 70, 90)
            x += bw + int(rng.integers(2, 10))
        img[int(66 * k) : int(90 * k)] = (170, 165, 160)  # far sidewalk
        img[int(90 * k) : int(206 * k)] = (75, 75, 80)  # road
        img[int(206 * k) :] = (165, 160, 155)  # near sidewalk
        img[int(89 * k) : int(91 * k)] = (220, 220, 220)  # kerbs
        img[int(205 * k) : int(207 * k)] = (220, 220, 220)
        img[int(149 * k) : int(151 * k)] = (230, 200, 40)  # centre line
        dash = max(4, int(16 * self._kx))
        for y in (int(120 * k), int(177 * k)):
            for dx in range(0, w, 2 * dash):
                img[y : y + max(1, int(2 * k)), dx : dx + dash] = (225, 225, 225)
        noise = rng.integers(-6, 7, size=(h, w, 1), dtype=np.int16)  # texture for the hashes
        return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)

    def render(self, frame: int) -> Image:
        """The RGB picture of frame ``frame`` (HxWx3 uint8)."""
        img = self.background.copy()
        for obj, box in self._on_screen(frame):
            _draw(img, obj, box, self._k)
        return img

    def frame_at(self, seconds: float) -> int:
        """The frame shown ``seconds`` after the scene started."""
        return int(seconds * self.fps)


# -- drawing ---------------------------------------------------------------------------------
def _fill(img: Image, x1: float, y1: float, x2: float, y2: float, color: Sequence[int]) -> None:
    h, w = img.shape[:2]
    a, b = max(0, round(x1)), min(w, round(x2))
    c, d = max(0, round(y1)), min(h, round(y2))
    if a < b and c < d:
        img[c:d, a:b] = color


def _disc(img: Image, cx: float, cy: float, r: float, color: Sequence[int]) -> None:
    h, w = img.shape[:2]
    x0, x1 = max(0, int(cx - r)), min(w, int(cx + r) + 1)
    y0, y1 = max(0, int(cy - r)), min(h, int(cy + r) + 1)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    img[y0:y1, x0:x1][mask] = color


def _draw(img: Image, obj: _Object, box: tuple[float, float, float, float], k: float) -> None:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    dark, glass = (25, 25, 25), (150, 200, 230)
    if obj.class_name == "Car":
        _fill(img, x1, y1 + 0.45 * h, x2, y2 - 0.2 * h, obj.color)  # body
        _fill(img, x1 + 0.22 * w, y1, x2 - 0.22 * w, y1 + 0.5 * h, obj.color)  # cabin
        _fill(img, x1 + 0.28 * w, y1 + 0.1 * h, x2 - 0.28 * w, y1 + 0.42 * h, glass)
        for cx in (x1 + 0.22 * w, x2 - 0.22 * w):
            _disc(img, cx, y2 - 0.2 * h, 0.2 * h, dark)
    elif obj.class_name == "Bus":
        _fill(img, x1, y1, x2, y2 - 0.15 * h, (235, 190, 30))
        for wx in np.arange(x1 + 0.05 * w, x2 - 0.1 * w, 0.12 * w).tolist():
            _fill(img, wx, y1 + 0.15 * h, wx + 0.08 * w, y1 + 0.5 * h, glass)
        _fill(img, x1, y1 + 0.62 * h, x2, y1 + 0.7 * h, (200, 40, 40))
        for cx in (x1 + 0.15 * w, x2 - 0.15 * w):
            _disc(img, cx, y2 - 0.15 * h, 0.15 * h, dark)
    elif obj.class_name == "Truck":
        _fill(img, x1, y1, x1 + 0.7 * w, y2 - 0.15 * h, (225, 225, 215))  # box
        _fill(img, x1 + 0.72 * w, y1 + 0.3 * h, x2, y2 - 0.15 * h, obj.color)  # cab
        _fill(img, x1 + 0.78 * w, y1 + 0.38 * h, x2 - 0.04 * w, y1 + 0.6 * h, glass)
        for cx in (x1 + 0.15 * w, x1 + 0.55 * w, x2 - 0.12 * w):
            _disc(img, cx, y2 - 0.15 * h, 0.15 * h, dark)
    elif obj.class_name == "Bicycle":
        r = 0.28 * h
        for cx in (x1 + r, x2 - r):
            _disc(img, cx, y2 - r, r, dark)
            _disc(img, cx, y2 - r, r * 0.55, (120, 120, 120))
        _fill(img, x1 + r, y2 - 1.3 * r, x2 - r, y2 - r, obj.color)  # frame
        _fill(img, x1 + 0.4 * w, y1 + 0.12 * h, x1 + 0.62 * w, y2 - 1.2 * r, obj.color)  # rider
        _disc(img, x1 + 0.5 * w, y1 + 0.12 * h, 0.12 * h, (230, 190, 160))
    else:  # Pedestrian
        _fill(img, x1 + 0.1 * w, y1 + 0.25 * h, x2 - 0.1 * w, y1 + 0.65 * h, obj.color)
        _fill(img, x1 + 0.15 * w, y1 + 0.65 * h, x1 + 0.45 * w, y2, (40, 40, 70))
        _fill(img, x2 - 0.45 * w, y1 + 0.65 * h, x2 - 0.15 * w, y2, (40, 40, 70))
        _disc(img, (x1 + x2) / 2, y1 + 0.13 * h, 0.16 * h, (230, 190, 160))


# -- writers ---------------------------------------------------------------------------------
def _atomic_write(path: Path, data: bytes) -> None:
    write_atomic(path, data)


def jpeg_bytes(img: Image, quality: int = 90) -> bytes:
    """Encode an RGB array as JPEG."""
    from PIL import Image as PILImage

    buf = io.BytesIO()
    PILImage.fromarray(img).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def yolo_label_lines(scene: Scene, frame: int) -> list[str]:
    """YOLO label lines (``class cx cy w h``, normalised) of one frame."""
    lines = []
    for b in scene.boxes(frame):
        cx, cy = (b.x1 + b.x2) / 2 / scene.width, (b.y1 + b.y2) / 2 / scene.height
        bw, bh = (b.x2 - b.x1) / scene.width, (b.y2 - b.y1) / scene.height
        lines.append(f"{b.class_id} {cx:.6f} {cy:.6f} {bw:.6f} {bh:.6f}")
    return lines


def mot_lines(scene: Scene, frames: Iterable[int]) -> list[str]:
    """MOT-challenge ground truth: ``frame,id,left,top,width,height,1,class,visibility``.

    Frames are numbered from 1 as in MOT files; ``class`` is the class id + 1.
    """
    lines = []
    for i, frame in enumerate(frames, start=1):
        for b in scene.boxes(frame):
            lines.append(
                f"{i},{b.object_id},{b.x1:.2f},{b.y1:.2f},{b.x2 - b.x1:.2f},{b.y2 - b.y1:.2f},"
                f"1,{b.class_id + 1},{b.visibility:.3f}"
            )
    return lines


def write_snapshots(
    scene: Scene, out: Path, frames: Sequence[int], prefix: str = "street", labels: bool = True
) -> list[Path]:
    """Write frames as JPEGs (``<prefix>_<frame>.jpg``) with YOLO ``.txt`` labels beside them.

    Returns the image paths, in the order of ``frames``.
    """
    paths = []
    for frame in frames:
        path = out / f"{prefix}_{frame:06d}.jpg"
        _atomic_write(path, jpeg_bytes(scene.render(frame)))
        if labels:
            text = "\n".join(yolo_label_lines(scene, frame))
            _atomic_write(path.with_suffix(".txt"), (text + "\n" if text else "").encode())
        paths.append(path)
    return paths


def render_video(
    scene: Scene, path: Path | str, frames: int, start: int = 0, gt: bool = True
) -> Path:
    """Render ``frames`` frames from ``start`` to an H.264 MP4 (PyAV), atomically.

    With ``gt`` the MOT ground truth is written beside it as ``<name>.gt.txt``.
    """
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    try:
        with av.open(str(part), "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=round(scene.fps))
            stream.width, stream.height = scene.width, scene.height
            stream.pix_fmt = "yuv420p"
            stream.codec_context.gop_size = max(1, round(scene.fps))
            stream.options = {"preset": "veryfast", "crf": "23"}
            for f in range(start, start + frames):
                vf = av.VideoFrame.from_ndarray(scene.render(f), format="rgb24")
                for packet in stream.encode(vf):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    if gt:
        lines = mot_lines(scene, range(start, start + frames))
        _atomic_write(path.with_name(path.stem + ".gt.txt"), ("\n".join(lines) + "\n").encode())
    return path
