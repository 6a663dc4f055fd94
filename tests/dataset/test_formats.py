"""COCO / VOC / YOLO readers (text in, no disk) and round trips through the folder formats."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from tests.dataset.conftest import IMAGES, NAMES, make_yolo_dataset, read_labels
from vigie.dataset import (
    LabelledDataset,
    LabelledImage,
    export_dataset,
    import_dataset,
    parse_coco,
    parse_voc,
    parse_yolo_labels,
    voc_xml,
)
from vigie.dataset.formats import Box
from vigie.errors import DatasetError

COCO_TEXT = json.dumps(
    {
        "images": [
            {"id": 7, "file_name": "a.jpg", "width": 100, "height": 50},
            {"id": 9, "file_name": "sub/b.jpg", "width": 64, "height": 64},
            {"file_name": "no-id.jpg"},
        ],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 3, "bbox": [10, 5, 20, 10]},
            {"id": 2, "image_id": 7, "category_id": 99, "bbox": [1, 1, 2, 2]},
            {"id": 3, "image_id": 42, "category_id": 3, "bbox": [1, 1, 2, 2]},
            {"id": 4, "image_id": 9, "category_id": 5, "bbox": "oops"},
            {"id": 5, "image_id": 9, "category_id": 5, "bbox": [0, 0, 64, 64], "iscrowd": 1},
            {"id": 6, "image_id": 9, "category_id": 5, "bbox": [50, 50, 30, 30]},
        ],
        "categories": [{"id": 3, "name": "Car"}, {"id": 5, "name": "Bus"}],
    }
)


def _close(a: dict[str, list[list[float]]], b: dict[str, list[list[float]]], tol: float) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert len(a[key]) == len(b[key]), key
        for row_a, row_b in zip(a[key], b[key], strict=True):
            assert row_a[0] == row_b[0], key  # the class id, exactly
            assert row_a[1:] == pytest.approx(row_b[1:], abs=tol), key


def test_parse_coco_keeps_category_ids_and_reports_each_bad_item() -> None:
    ds = parse_coco(COCO_TEXT, "instances.json")
    assert ds.names == {3: "Car", 5: "Bus"}
    assert [img.file for img in ds.images] == ["a.jpg", "sub/b.jpg"]
    a, b = ds.images
    assert a.boxes == [Box(3, 10.0, 5.0, 30.0, 15.0)]
    assert b.boxes == [Box(5, 50.0, 50.0, 80.0, 80.0)]  # not clipped yet: the reader clips
    problems = "\n".join(ds.problems)
    assert "no integer id and file_name" in problems
    assert "unknown category 99" in problems
    assert "unknown image 42" in problems
    assert "no [x, y, w, h] bbox" in problems
    assert "1 crowd annotations" in problems


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('[{"image_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]', "results file"),
        ('{"annotations": []}', "no 'images' list"),
        ('{"images": [], "annotations": []}', "no 'categories' list"),
        ('{"images": [], "categories": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]}', "both"),
    ],
)
def test_parse_coco_rejects_what_is_not_a_coco_dataset(text: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        parse_coco(text, "x.json")


def test_parse_voc_reads_objects_and_rejects_broken_xml() -> None:
    img = LabelledImage("cam.jpg", 160, 120, [Box(1, 10.4, 20.6, 50.5, 119.9)])
    ann = parse_voc(voc_xml(img, {1: "Bus"}))
    assert (ann.filename, ann.width, ann.height) == ("cam.jpg", 160, 120)
    assert [(o.name, o.xmin, o.ymin, o.xmax, o.ymax) for o in ann.objects] == [
        ("Bus", 10, 21, 51, 120)
    ]
    with pytest.raises(DatasetError, match="not valid XML"):
        parse_voc("<annotation><object>", "a.xml")
    with pytest.raises(DatasetError, match="no bndbox"):
        parse_voc("<annotation><object><name>Car</name></object></annotation>", "a.xml")
    with pytest.raises(DatasetError, match="not a VOC annotation"):
        parse_voc("<html/>", "a.xml")


def test_parse_yolo_labels_clips_and_warns_per_line() -> None:
    ds = LabelledDataset({0: "Car", 1: "Bus"})
    text = "0 0.5 0.5 0.2 0.2\n1 0.95 0.5 0.2 0.2\nfoo\n7 0.5 0.5 0.1 0.1\n0 1.5 1.5 0.1 0.1\n"
    boxes = parse_yolo_labels(text, 100, 50, ds.names, "x.txt", ds)
    assert boxes[0] == Box(0, 40.0, 20.0, 60.0, 30.0)
    assert boxes[1].x2 == 100.0 and len(boxes) == 2
    problems = "\n".join(ds.problems)
    assert "line 2" in problems and "clipped" in problems
    assert "line 3: malformed" in problems
    assert "line 4: unknown class 7" in problems
    assert "line 5" in problems and "outside" in problems


def test_yolo_to_coco_to_yolo_gives_the_same_labels(tmp_path: Path) -> None:
    from pycocotools.coco import COCO

    src = make_yolo_dataset(tmp_path / "yolo", whole_pixels=False)
    exported = export_dataset(src, tmp_path / "coco", format="coco")
    assert exported.splits == {"train": 4, "val": 2}
    val_file = tmp_path / "coco" / "annotations" / "instances_val.json"
    val = COCO(str(val_file))
    assert sorted(val.getCatIds()) == [0, 1, 2, 3]  # YOLO ids kept as category ids
    assert [c["name"] for c in val.loadCats(val.getCatIds())] == NAMES
    assert {im["file_name"] for im in val.loadImgs(val.getImgIds())} == {
        "cam_101.jpg",
        "shot_102.png",
    }
    assert (tmp_path / "coco" / "images" / "val" / "shot_102.png").is_file()
    back = import_dataset(tmp_path / "coco", tmp_path / "back", format="coco")
    assert back.problems == []
    _close(read_labels(src), read_labels(tmp_path / "back"), 1e-6)
    data = yaml.safe_load((tmp_path / "back" / "data.yaml").read_text())
    assert data["names"] == dict(enumerate(NAMES))
    assert (data["train"], data["val"]) == ("images/train", "images/val")
    one = import_dataset(val_file, tmp_path / "val-only", format="coco")
    assert one.splits == {"val": 2}


def test_yolo_to_voc_to_yolo_gives_the_same_labels(tmp_path: Path) -> None:
    src = make_yolo_dataset(tmp_path / "yolo")
    export_dataset(src, tmp_path / "voc", format="voc")
    voc = tmp_path / "voc"
    assert (voc / "ImageSets" / "Main" / "val.txt").read_text() == "cam_101\nshot_102\n"
    assert len((voc / "ImageSets" / "Main" / "trainval.txt").read_text().split()) == len(IMAGES)
    root = ET.parse(voc / "Annotations" / "cam_002.xml").getroot()
    assert root.findtext("size/width") == "120" and root.findtext("size/height") == "160"
    assert {o.findtext("name") for o in root.iter("object")} <= set(NAMES)
    assert (voc / "JPEGImages" / "shot_003.png").is_file()
    import_dataset(voc, tmp_path / "back", format="voc")
    _close(read_labels(src), read_labels(tmp_path / "back"), 1e-6)  # whole pixels: exact


def test_voc_rounds_fractional_boxes_to_whole_pixels(tmp_path: Path) -> None:
    src = make_yolo_dataset(tmp_path / "yolo", whole_pixels=False)
    export_dataset(src, tmp_path / "voc", format="voc")
    import_dataset(tmp_path / "voc", tmp_path / "back", format="voc")
    _close(read_labels(src), read_labels(tmp_path / "back"), 0.5 / 96 + 1e-6)


def test_coco_import_with_ids_from_one_keeps_them_or_renumbers(tmp_path: Path) -> None:
    from tests.dataset.conftest import write_image

    write_image(tmp_path / "coco" / "a.jpg", 100, 50, 1)
    (tmp_path / "coco" / "labels.json").write_text(COCO_TEXT)
    kept = import_dataset(tmp_path / "coco" / "labels.json", tmp_path / "kept", format="coco")
    names = yaml.safe_load((tmp_path / "kept" / "data.yaml").read_text())["names"]
    assert names[3] == "Car" and names[5] == "Bus" and names[0] == "_unused0"
    assert any("placeholder" in p for p in kept.problems)
    assert any("sub/b.jpg: image file not found" in p for p in kept.problems)
    assert (tmp_path / "kept" / "labels" / "a.txt").read_text().startswith("3 ")
    import_dataset(tmp_path / "coco", tmp_path / "renum", format="coco", renumber_ids=True)
    names = yaml.safe_load((tmp_path / "renum" / "data.yaml").read_text())["names"]
    assert names == {0: "Car", 1: "Bus"}
    assert (tmp_path / "renum" / "labels" / "a.txt").read_text().startswith("0 0.200000 0.200000")


def test_flat_pulled_folder_exports_without_splits(tmp_path: Path) -> None:
    from tests.dataset.conftest import write_image

    root = tmp_path / "pulled"
    write_image(root / "images" / "x.jpg", 80, 60, 3)
    (root / "labels").mkdir()
    (root / "labels" / "x.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    (root / "labels" / "orphan.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (root / "classes.txt").write_text("Car\nBus\n")
    res = export_dataset(root, tmp_path / "coco", format="coco")
    data = json.loads((tmp_path / "coco" / "annotations" / "instances.json").read_text())
    assert data["images"] == [{"id": 1, "file_name": "x.jpg", "width": 80, "height": 60}]
    assert data["annotations"][0]["bbox"] == [20.0, 15.0, 40.0, 30.0]
    assert data["annotations"][0]["category_id"] == 1
    assert any("orphan.txt" in p for p in res.problems)
    back = import_dataset(tmp_path / "coco", tmp_path / "back", format="coco")
    assert back.splits == {"all": 1}
    assert (tmp_path / "back" / "images" / "x.jpg").is_file()


def test_roboflow_coco_layout_is_read_split_by_folder(tmp_path: Path) -> None:
    from tests.dataset.conftest import write_image

    for split, image_id in (("train", 1), ("valid", 2)):
        write_image(tmp_path / "rf" / split / f"{split}.jpg", 64, 48, image_id)
        (tmp_path / "rf" / split / "_annotations.coco.json").write_text(
            json.dumps(
                {
                    "images": [
                        {"id": image_id, "file_name": f"{split}.jpg", "width": 64, "height": 48}
                    ],
                    "annotations": [
                        {"id": 1, "image_id": image_id, "category_id": 0, "bbox": [4, 4, 10, 10]}
                    ],
                    "categories": [{"id": 0, "name": "Car"}],
                }
            )
        )
    res = import_dataset(tmp_path / "rf", tmp_path / "out", format="coco")
    assert res.splits == {"train": 1, "valid": 1}
    data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())
    assert (data["train"], data["val"]) == ("images/train", "images/valid")


def test_voc_folder_without_class_list_sorts_names_and_skips_unknown(tmp_path: Path) -> None:
    from tests.dataset.conftest import write_image

    root = tmp_path / "labelimg"  # labelImg style: XML beside the images, no ImageSets
    write_image(root / "a.jpg", 100, 80, 1)
    img = LabelledImage("a.jpg", 100, 80, [Box(0, 1, 1, 20, 20), Box(1, 30, 30, 60, 60)])
    (root / "a.xml").write_text(voc_xml(img, {0: "Zebra", 1: "Bus"}))
    (root / "broken.xml").write_text("<annotation>")
    (root / "lost.xml").write_text(voc_xml(LabelledImage("lost.jpg", 10, 10), {}))
    res = import_dataset(root, tmp_path / "out", format="voc")
    assert res.names == {0: "Bus", 1: "Zebra"}
    assert (tmp_path / "out" / "labels" / "a.txt").read_text().split("\n")[0].startswith("1 ")
    assert any("broken.xml" in p and "not valid XML" in p for p in res.problems)
    assert any("lost.xml" in p and "not found" in p for p in res.problems)
    only_bus = import_dataset(root, tmp_path / "bus", format="voc", names=["Bus"])
    assert any("unknown class 'Zebra'" in p for p in only_bus.problems)


def test_writing_over_the_input_is_refused(yolo_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="holds the input"):
        export_dataset(yolo_dataset, yolo_dataset, format="yolo")
    export_dataset(yolo_dataset, tmp_path / "coco", format="coco")
    instances = tmp_path / "coco" / "annotations" / "instances_train.json"
    with pytest.raises(DatasetError, match="holds the input"):
        import_dataset(instances, tmp_path / "coco", format="coco")
    assert instances.is_file() and (tmp_path / "coco" / "images" / "train").is_dir()
