"""The one annotator: boxes in their colour, a label tab, a counting line."""

from __future__ import annotations

import numpy as np
from PIL import Image

from vigie.media import annotate, class_color, track_color


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
