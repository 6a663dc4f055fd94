"""The one annotator: boxes, labels (class, confidence, track id) and a counting line.

Detect, track and report draw through :func:`annotate`, so a box looks the same in an annotated
image, an annotated video and the report. The conventions are supervision's: a box outline in
the object's colour, its label on a filled tab above the box's top-left corner (inside the box
when there is no room above), colours per class (:func:`class_color`) or per track
(:func:`track_color`). Drawing uses Pillow's built-in bitmap font: nothing to download, and
much faster than FreeType on every frame of a video.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

RGB = tuple[int, int, int]
Color = RGB | str  # (r, g, b) or "#rrggbb"
Box = Sequence[float]  # x1, y1, x2, y2 in pixels

WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
LINE_COLOR: RGB = (255, 255, 0)
PALETTE: tuple[RGB, ...] = (
    (255, 56, 56), (72, 249, 10), (0, 194, 255), (255, 157, 151), (146, 204, 23),
    (255, 112, 31), (61, 219, 134), (132, 56, 255), (255, 178, 29), (207, 210, 49),
)  # fmt: skip
_LABEL_HEIGHT = 12  # the bitmap font's line height plus a pixel


def class_color(class_id: int) -> RGB:
    """A colour per class id, from a 10-colour palette."""
    return PALETTE[class_id % len(PALETTE)]


def track_color(track_id: int) -> RGB:
    """A stable, bright colour per track id (golden-ratio hues: neighbours differ)."""
    h = (track_id * 0.618033988749895) % 1.0
    i = int(h * 6)
    f = h * 6 - i
    v, s = 235, 0.75
    p, q, t = int(v * (1 - s)), int(v * (1 - s * f)), int(v * (1 - s * (1 - f)))
    return [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i % 6]


@functools.cache
def _font() -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default_imagefont()
    except AttributeError:  # Pillow < 10.1
        return ImageFont.load_default()


@functools.lru_cache(maxsize=4096)
def _label_width(label: str) -> int:
    return int(_font().getlength(label)) + 4


def annotate(
    image: Any,
    boxes: Sequence[Box],
    *,
    labels: Sequence[str] | None = None,
    colors: Sequence[Color] | None = None,
    thickness: int | None = None,
    text_color: Color = WHITE,
    line: Sequence[float] | None = None,
    line_color: Color = LINE_COLOR,
) -> Image:
    """Draw boxes with their labels (and a counting line under them) on a picture.

    Args:
        image: a Pillow image (drawn on in place) or an HxWx3 uint8 RGB array (copied).
        boxes: ``(x1, y1, x2, y2)`` per object, in pixels.
        labels: one text per box (``"Car 0.91"``, ``"Car #7"``), or None for no labels.
        colors: one colour per box (default: the palette in box order).
        thickness: outline width in pixels (default: scales with the picture, at least 1).
        text_color: colour of the label text on its filled tab.
        line: ``(x1, y1, x2, y2)`` of a counting line, drawn under the boxes.
        line_color: its colour.

    Returns:
        the annotated Pillow image.
    """
    from PIL import Image as PILImage
    from PIL import ImageDraw

    pil = image if isinstance(image, PILImage.Image) else PILImage.fromarray(image)
    draw = ImageDraw.Draw(pil)
    width = thickness or max(1, round(sum(pil.size) / 2 * 0.003))
    if line is not None:
        draw.line([float(v) for v in line], fill=line_color, width=2)
    font = _font()
    for n, box in enumerate(boxes):
        x1, y1, x2, y2 = (float(v) for v in box[:4])
        color = colors[n] if colors is not None else class_color(n)
        draw.rectangle((x1, y1, x2, y2), outline=color, width=width)
        if not labels:
            continue
        label = labels[n]
        tw = _label_width(label)
        tx = max(0.0, min(x1, pil.width - tw))
        ty = y1 - _LABEL_HEIGHT if y1 >= _LABEL_HEIGHT else y1
        draw.rectangle((tx, ty, tx + tw, ty + _LABEL_HEIGHT), fill=color)
        draw.text((tx + 2, ty), label, fill=text_color, font=font)
    return pil
