"""The one annotator: boxes, labels (class, confidence, track id) and a counting line.

Detect, track and report draw through :func:`annotate`, so a box looks the same in an annotated
image, an annotated video and the report. The conventions are supervision's: a box outline in
the object's colour, its label on a filled tab above the box's top-left corner (inside the box
when there is no room above), colours per class (:func:`class_color`) or per track
(:func:`track_color`). Labels use Pillow's built-in bitmap font: nothing to download, and
much faster than FreeType on every frame of a video.

:func:`draw_on` draws on an RGB array in place, as Pillow's ``ImageDraw`` would (the same
pixels, which the tests check against it), without turning the whole picture into a Pillow
image and back: outlines are filled array slices, each label tab (its fill and text) is drawn
by Pillow once into a small cached tile and copied in, and a counting line's pixels are drawn
once per picture size. An annotated video draws every frame this way, in place.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
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


@functools.lru_cache(maxsize=256)
def _rgb(color: Color) -> RGB:
    if isinstance(color, str):
        from PIL import ImageColor

        rgb = ImageColor.getrgb(color)
        return (rgb[0], rgb[1], rgb[2])
    return (int(color[0]), int(color[1]), int(color[2]))


@functools.lru_cache(maxsize=4096)
def _tab(label: str, color: RGB, text_color: RGB) -> NDArray[np.uint8]:
    """A label's tab: its filled rectangle (width + 1 by height + 1 pixels) and its text."""
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageDraw

    tile = PILImage.new("RGB", (_label_width(label) + 1, _LABEL_HEIGHT + 1), color)
    ImageDraw.Draw(tile).text((2, 0), label, fill=text_color, font=_font())
    out = np.asarray(tile)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=16)
def _line_pixels(
    line: tuple[float, ...], size: tuple[int, int]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The (rows, columns) a 2-pixel counting line covers on a picture of ``size`` (w, h)."""
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageDraw

    mask = PILImage.new("L", size, 0)
    ImageDraw.Draw(mask).line(list(line), fill=255, width=2)
    rows, cols = np.nonzero(np.asarray(mask))
    return rows, cols


def _fill(a: NDArray[np.uint8], y0: int, y1: int, x0: int, x1: int, value: Any) -> None:
    """Paint rows y0..y1 and columns x0..x1 (inclusive), clipped to the plane."""
    y0, x0 = max(y0, 0), max(x0, 0)
    y1, x1 = min(y1, a.shape[0] - 1), min(x1, a.shape[1] - 1)
    if y0 <= y1 and x0 <= x1:
        a[y0 : y1 + 1, x0 : x1 + 1] = value


def _paste(a: NDArray[np.uint8], tile: NDArray[np.uint8], x: int, y: int) -> None:
    h, w = tile.shape[:2]
    xa, ya = max(x, 0), max(y, 0)
    xb, yb = min(x + w, a.shape[1]), min(y + h, a.shape[0])
    if xa < xb and ya < yb:
        a[ya:yb, xa:xb] = tile[ya - y : yb - y, xa - x : xb - x]


def _yuv(color: RGB) -> tuple[int, int, int]:
    """BT.601 limited-range Y, U, V of an RGB colour (what swscale makes of it in yuv420p)."""
    r, g, b = color
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return round(y), round(u), round(v)


@functools.lru_cache(maxsize=4096)
def _tab_luma(label: str, color: RGB, text_color: RGB) -> NDArray[np.uint8]:
    import numpy as np

    rgb = _tab(label, color, text_color).astype(np.float32)
    luma = 16 + (rgb @ np.array([65.481, 128.553, 24.966], np.float32)) / 255
    out = np.rint(luma).astype(np.uint8)
    out.flags.writeable = False
    return out


class _Rgb:
    """An HxWx3 RGB array: every pixel drawn as Pillow would."""

    def __init__(self, array: NDArray[np.uint8]) -> None:
        self.a, self.height, self.width = array, array.shape[0], array.shape[1]

    def fill(self, y0: int, y1: int, x0: int, x1: int, color: RGB) -> None:
        _fill(self.a, y0, y1, x0, x1, color)

    def thin_box(self, x0: int, y0: int, x1: int, y1: int, color: RGB, width: int) -> None:
        """A box thinner than its two outlines: Pillow draws it on the crop around it."""
        import numpy as np
        from PIL import Image as PILImage
        from PIL import ImageDraw

        ya, yb = max(y0 - width, 0), min(y1 + width, self.height - 1)
        xa, xb = max(x0 - width, 0), min(x1 + width, self.width - 1)
        if ya > yb or xa > xb:
            return
        crop = PILImage.fromarray(self.a[ya : yb + 1, xa : xb + 1])
        box = (x0 - xa, y0 - ya, x1 - xa, y1 - ya)
        ImageDraw.Draw(crop).rectangle(box, outline=color, width=width)
        self.a[ya : yb + 1, xa : xb + 1] = np.asarray(crop)

    def tab(self, label: str, color: RGB, ink: RGB, x: int, y: int) -> None:
        _paste(self.a, _tab(label, color, ink), x, y)

    def pixels(self, rows: NDArray[np.intp], cols: NDArray[np.intp], color: RGB) -> None:
        self.a[rows, cols] = color


class _I420:
    """A yuv420p picture as one (H * 3 / 2) x W array (the Y plane, then U, then V; H, W even).

    The luma gets the pixels :class:`_Rgb` draws (a label's text included); the chroma, one
    sample per 2x2 pixels, the drawn colour in every block a drawn pixel touches.
    """

    def __init__(self, array: NDArray[np.uint8]) -> None:
        h, w = array.shape[0] * 2 // 3, array.shape[1]
        flat = array.reshape(-1)  # a view: the array is contiguous
        self.height, self.width, q = h, w, h * w // 4
        self.y = flat[: h * w].reshape(h, w)
        self.u = flat[h * w : h * w + q].reshape(h // 2, w // 2)
        self.v = flat[h * w + q :].reshape(h // 2, w // 2)

    def fill(self, y0: int, y1: int, x0: int, x1: int, color: RGB) -> None:
        yy, u, v = _yuv(color)
        _fill(self.y, y0, y1, x0, x1, yy)
        _fill(self.u, y0 // 2, y1 // 2, x0 // 2, x1 // 2, u)
        _fill(self.v, y0 // 2, y1 // 2, x0 // 2, x1 // 2, v)

    def thin_box(self, x0: int, y0: int, x1: int, y1: int, color: RGB, width: int) -> None:
        self.fill(y0, y1, x0, x1, color)  # its outlines cover (nearly) all of it

    def tab(self, label: str, color: RGB, ink: RGB, x: int, y: int) -> None:
        luma = _tab_luma(label, color, ink)
        _paste(self.y, luma, x, y)
        _, u, v = _yuv(color)
        h, w = luma.shape
        _fill(self.u, y // 2, (y + h - 1) // 2, x // 2, (x + w - 1) // 2, u)
        _fill(self.v, y // 2, (y + h - 1) // 2, x // 2, (x + w - 1) // 2, v)

    def pixels(self, rows: NDArray[np.intp], cols: NDArray[np.intp], color: RGB) -> None:
        yy, u, v = _yuv(color)
        self.y[rows, cols] = yy
        self.u[rows // 2, cols // 2] = u
        self.v[rows // 2, cols // 2] = v


def _outline(canvas: _Rgb | _I420, box: Box, color: RGB, width: int) -> None:
    """``ImageDraw.rectangle(box, outline=color, width=width)``, in place."""
    x1f, y1f, x2f, y2f = (float(v) for v in box[:4])
    if x2f < x1f or y2f < y1f:
        raise ValueError("a box's x2 and y2 must not be below its x1 and y1")
    x0, y0, x1, y1 = int(x1f), int(y1f), int(x2f), int(y2f)  # Pillow truncates coordinates
    if x1 - x0 < 2 * width or y1 - y0 < 2 * width:
        canvas.thin_box(x0, y0, x1, y1, color, width)
        return
    canvas.fill(y0, y0 + width - 1, x0, x1, color)  # top
    canvas.fill(y1 - width + 1, y1, x0, x1, color)  # bottom
    canvas.fill(y0 + width, y1 - width, x0, x0 + width - 1, color)  # left
    canvas.fill(y0 + width, y1 - width, x1 - width + 1, x1, color)  # right


def _draw(
    canvas: _Rgb | _I420,
    boxes: Sequence[Box],
    labels: Sequence[str] | None,
    colors: Sequence[Color] | None,
    thickness: int | None,
    text_color: Color,
    line: Sequence[float] | None,
    line_color: Color,
) -> None:
    height, width_px = canvas.height, canvas.width
    width = thickness or max(1, round((width_px + height) / 2 * 0.003))
    if line is not None:
        rows, cols = _line_pixels(tuple(float(v) for v in line), (width_px, height))
        canvas.pixels(rows, cols, _rgb(line_color))
    ink = _rgb(text_color)
    for n, box in enumerate(boxes):
        color = _rgb(colors[n] if colors is not None else class_color(n))
        _outline(canvas, box, color, width)
        if not labels:
            continue
        x1, y1 = float(box[0]), float(box[1])
        tx = int(max(0.0, min(x1, width_px - _label_width(labels[n]))))
        ty = int(y1) - _LABEL_HEIGHT if y1 >= _LABEL_HEIGHT else int(max(y1, 0.0))
        canvas.tab(labels[n], color, ink, tx, ty)


def draw_on(
    array: NDArray[np.uint8],
    boxes: Sequence[Box],
    *,
    labels: Sequence[str] | None = None,
    colors: Sequence[Color] | None = None,
    thickness: int | None = None,
    text_color: Color = WHITE,
    line: Sequence[float] | None = None,
    line_color: Color = LINE_COLOR,
) -> NDArray[np.uint8]:
    """Draw boxes with their labels (and a counting line under them) on a picture, in place.

    The arguments are :func:`annotate`'s; ``array`` is returned. It is an HxWx3 uint8 RGB
    array, or a yuv420p picture as one (H * 3 / 2) x W uint8 array (2-D: the Y plane, then U,
    then V, as PyAV lays it out; H and W even): there the luma gets the pixels of the RGB
    drawing and the chroma the drawn colours at half resolution (BT.601, limited range), so an
    encoder takes the picture without converting it.
    """
    canvas = _I420(array) if array.ndim == 2 else _Rgb(array)
    _draw(canvas, boxes, labels, colors, thickness, text_color, line, line_color)
    return array


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
        image: a Pillow image (drawn on in place) or an HxWx3 uint8 RGB array (copied; to draw
            on an array in place, use :func:`draw_on`).
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
    import numpy as np
    from PIL import Image as PILImage

    kw: dict[str, Any] = {"labels": labels, "colors": colors, "thickness": thickness}
    kw.update(text_color=text_color, line=line, line_color=line_color)
    if not isinstance(image, PILImage.Image):
        return PILImage.fromarray(draw_on(np.array(image, dtype=np.uint8), boxes, **kw))
    drawn = draw_on(np.array(image.convert("RGB")), boxes, **kw)
    image.paste(PILImage.fromarray(drawn).convert(image.mode))
    return image
