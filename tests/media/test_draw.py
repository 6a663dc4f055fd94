"""The one annotator: boxes in their colour, a label tab, a counting line."""

from __future__ import annotations

import numpy as np
from PIL import Image

from vigie.media import annotate, class_color, draw_on, track_color


def grey(width: int = 200, height: int = 120) -> np.ndarray:
    return np.full((height, width, 3), 90, dtype=np.uint8)


def test_boxes_are_outlined_in_their_colour_with_a_label_tab_above() -> None:
    image = grey()
    out = np.asarray(
        annotate(
            image, [(40, 50, 100, 100)], labels=["Car 0.91"], colors=[(255, 0, 0)], thickness=2
        )
    )
    assert tuple(out[75, 40]) == (255, 0, 0) and tuple(out[75, 99]) == (255, 0, 0)  # sides
    assert tuple(out[75, 70]) == (90, 90, 90)  # inside untouched
    tab = out[38:50, 40:60]
    assert (tab == (255, 0, 0)).all(axis=2).mean() > 0.5  # label tab above the box...
    assert (tab == (255, 255, 255)).all(axis=2).any()  # ...with white text
    assert (image == 90).all()  # an array is copied, never drawn on


def test_a_box_at_the_top_gets_its_label_inside() -> None:
    out = np.asarray(annotate(grey(), [(10, 0, 80, 60)], labels=["Bus #3"], colors=["#00ff00"]))
    assert (out[2:12, 12:30] == (0, 255, 0)).all(axis=2).mean() > 0.4


def test_a_pillow_image_is_drawn_in_place_with_the_line_under_the_boxes() -> None:
    pil = Image.fromarray(grey())
    same = annotate(pil, [], line=(0, 60, 199, 60))
    assert same is pil and pil.getpixel((100, 60)) == (255, 255, 0)


def test_class_and_track_colours_are_stable_and_distinct() -> None:
    assert class_color(0) == class_color(10) != class_color(1)
    assert track_color(7) == track_color(7)
    assert len({track_color(i) for i in range(1, 30)}) > 20


def _drawn_by_pillow(image: np.ndarray, boxes, labels, colors, line) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The annotator as it drew before, all with ``ImageDraw``: the reference of the pixels."""
    from PIL import ImageDraw, ImageFont

    pil = Image.fromarray(image)
    draw = ImageDraw.Draw(pil)
    draw.line([float(v) for v in line], fill=(255, 255, 0), width=2)
    font = ImageFont.load_default_imagefont()
    for (x1, y1, x2, y2), label, color in zip(boxes, labels, colors, strict=True):
        draw.rectangle((x1, y1, x2, y2), outline=color, width=2)
        tw = int(font.getlength(label)) + 4
        tx = max(0.0, min(x1, pil.width - tw))
        ty = y1 - 12 if y1 >= 12 else y1
        draw.rectangle((tx, ty, tx + tw, ty + 12), fill=color)
        draw.text((tx + 2, ty), label, fill=(0, 0, 0), font=font)
    return np.asarray(pil)


def test_arrays_get_the_pixels_pillow_draws_including_thin_boxes_and_borders() -> None:
    rng = np.random.default_rng(3)
    for trial in range(40):
        image = rng.integers(0, 256, (120, 200, 3), dtype=np.uint8)
        boxes = []
        for _ in range(6):
            x1, y1 = rng.uniform(0, 190), rng.uniform(0, 115)
            size = rng.uniform(0, 6) if trial % 4 == 0 else rng.uniform(5, 120)
            boxes.append((x1, y1, x1 + size, y1 + rng.uniform(0, 80)))
        labels = [f"car #{rng.integers(0, 500)}" for _ in boxes]
        colors = [track_color(int(rng.integers(0, 50))) for _ in boxes]
        line = tuple(float(v) for v in rng.uniform(0, 200, 4))
        expected = _drawn_by_pillow(image, boxes, labels, colors, line)
        same = image.copy()
        got = draw_on(
            same, boxes, labels=labels, colors=colors, thickness=2, text_color=(0, 0, 0),
            line=line,
        )  # fmt: skip
        assert got is same
        assert np.array_equal(got, expected), f"trial {trial}"
        pil = Image.fromarray(image)
        annotate(
            pil, boxes, labels=labels, colors=colors, thickness=2, text_color=(0, 0, 0), line=line
        )
        assert np.array_equal(np.asarray(pil), expected)


def _i420(rgb: np.ndarray) -> np.ndarray:
    import av

    return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray()


def test_a_yuv420p_picture_gets_the_drawing_in_its_luma_and_the_colours_in_its_chroma() -> None:
    rgb = np.full((120, 200, 3), 90, dtype=np.uint8)
    boxes = [(40.5, 50.2, 100.7, 100.1), (150, 3, 199, 60), (10, 10, 12, 90)]
    kw = {
        "labels": ["car #1", "bus #22", "bike #3"],
        "colors": [track_color(1), track_color(22), (255, 0, 0)],
        "thickness": 2,
        "text_color": (0, 0, 0),
        "line": (0, 110, 199, 115),
    }
    yuv = _i420(rgb)
    assert draw_on(yuv, boxes, **kw) is not None  # type: ignore[arg-type]
    expected = _i420(draw_on(rgb.copy(), boxes, **kw))  # type: ignore[arg-type]
    luma = np.abs(yuv[:120].astype(int) - expected[:120])
    assert luma.max() <= 2  # the same pixels drawn, in the same brightness
    chroma = np.abs(yuv[120:].astype(int) - expected[120:])
    assert chroma.mean() < 5 and (chroma > 0).any()  # the colours, at half resolution
    assert (yuv[:120] != _i420(rgb)[:120]).sum() > 500  # something was drawn
