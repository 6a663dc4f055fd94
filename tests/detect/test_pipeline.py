"""detect(): outputs per image, provenance, failures, catalog and study database rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, func, select

from tests.detect.matching import match_detections
from tests.fixtures.common import Workspace
from vigie.catalog.detections import detections
from vigie.detect import detect
from vigie.studydb import create_schema, yolo_image_detection
from vigie.types import Detections

pytestmark = pytest.mark.slow
LOW = {"conf": 0.05, "imgsz": 160, "batch": 2}


def test_detect_writes_seed_json_and_annotated_image_for_every_image(
    tiny_model: Path, image_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = detect(image_dir, model=tiny_model, out=out, **LOW)
    assert result.images == 5 and result.done == 4 and result.failed == 1
    assert result.done + result.failed == result.images
    for stem in ("53_IG1_1", "53_TW4_3_2", "street", "corner"):
        records = json.loads((out / "detection_jsons" / f"{stem}.json").read_text())
        assert isinstance(records, list)
        for r in records:
            assert {
                "name",
                "class",
                "confidence",
                "box",
                "area",
                "area_percentage",
                "size",
            } <= r.keys()
            assert set(r["box"]) == {"x1", "y1", "x2", "y2"}
            assert r["size"] in {"large", "medium", "small", "negligible"}
    assert sorted(p.name for p in (out / "detections_images").iterdir()) == [
        "53_IG1_1.jpg", "53_TW4_3_2.jpg", "corner.webp", "street.png",
    ]  # fmt: skip
    assert result.detections == sum(result.per_class.values()) > 0
    assert not list(out.rglob("*.part"))


def test_study_ids_are_attached_only_to_study_named_images(
    tiny_model: Path, image_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    detect(image_dir, model=tiny_model, out=out, **LOW)
    study = json.loads((out / "detection_jsons" / "53_TW4_3_2.json").read_text())
    plain = json.loads((out / "detection_jsons" / "street.json").read_text())
    assert study and all(
        (r["study_id"], r["media_id"], r["platform_id"], r["publication_id"], r["media_index"])
        == (53, "TW4_2", 3, "TW4", 2)
        for r in study
    )
    assert all("study_id" not in r for r in plain)


def test_corrupt_image_is_reported_and_skipped(
    tiny_model: Path, image_dir: Path, tmp_path: Path
) -> None:
    result = detect(image_dir, model=tiny_model, out=tmp_path / "out", **LOW)
    assert [p.name for p, _ in result.failures] == ["broken.jpg"]
    assert not (tmp_path / "out" / "detection_jsons" / "broken.json").exists()


def test_recursive_mirrors_sub_folders(tiny_model: Path, image_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = detect(image_dir, model=tiny_model, out=out, recursive=True, **LOW)
    assert result.images == 6
    assert (out / "detection_jsons" / "sub" / "deep.json").is_file()


def test_csv_crops_and_class_names_filter(
    tiny_model: Path, image_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    everything = detect(image_dir, model=tiny_model, out=tmp_path / "all", **LOW)
    top = everything.per_class.most_common(1)[0][0]
    result = detect(
        image_dir, model=tiny_model, out=out, csv=True, save_crops=True, classes=[top], **LOW
    )
    assert set(result.per_class) == {top}
    with result.csv.open() as f:  # type: ignore[union-attr]
        rows = list(csv.DictReader(f))
    assert len(rows) == result.detections and {r["name"] for r in rows} == {top}
    assert len(list((out / "crops").rglob("*.jpg"))) <= result.detections
    assert list((out / "crops").iterdir())


def test_rerun_replaces_catalog_rows_instead_of_duplicating(
    tiny_model: Path, image_dir: Path, tmp_path: Path, workspace: Workspace
) -> None:
    first = detect(
        image_dir, model=tiny_model, out=tmp_path / "o", catalog=workspace.catalog, **LOW
    )
    second = detect(
        image_dir, model=tiny_model, out=tmp_path / "o", catalog=workspace.catalog, **LOW
    )
    with workspace.catalog.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(detections)).scalar_one()
    assert count == first.detections == second.detections
    broken = workspace.catalog.item_by_path(image_dir / "broken.jpg")
    assert broken is not None and broken.status == "failed" and broken.error
    runs = workspace.catalog.last_runs("detect")
    assert [r.status for r in runs] == ["done", "done"]
    assert runs[0].counts["detections"] == second.detections


def test_catalog_provenance_gives_study_ids_to_plain_names(
    tiny_model: Path, image_dir: Path, tmp_path: Path, workspace: Workspace
) -> None:
    street = (image_dir / "street.png").resolve()
    workspace.catalog.upsert_item(
        key="study:9:image:street.png", kind="image", status="done", path=str(street),
        study_id=9, publication_id="PUB7", platform_id=2,
    )  # fmt: skip
    out = tmp_path / "out"
    detect(image_dir, model=tiny_model, out=out, catalog=workspace.catalog, **LOW)
    records = json.loads((out / "detection_jsons" / "street.json").read_text())
    assert records and all(
        (r["study_id"], r["media_id"], r["platform_id"]) == (9, "PUB7", 2) for r in records
    )
    item = workspace.catalog.item("study:9:image:street.png")
    with workspace.catalog.engine.connect() as conn:
        n = conn.execute(
            select(func.count())
            .select_from(detections)
            .where(detections.c.media_item_id == item.id)
        ).scalar_one()
    assert n == len(records)


def _study_rows(url: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                yolo_image_detection.c.study_id,
                yolo_image_detection.c.media_id,
                yolo_image_detection.c.plateform_id,
                yolo_image_detection.c.size,
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_study_database_rows_are_written_once_per_rerun(
    tiny_model: Path, image_dir: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    create_schema(create_engine(url))
    first = detect(image_dir, model=tiny_model, out=tmp_path / "o", db_url=url, **LOW)
    second = detect(image_dir, model=tiny_model, out=tmp_path / "o", db_url=url, **LOW)
    rows = _study_rows(url)
    study_dets = second.study_rows
    assert first.study_rows == study_dets == len(rows) > 0
    assert {r[:3] for r in rows} <= {(53, "IG1", "1"), (53, "TW4_2", "3")}
    assert {r[3] for r in rows} <= {"large", "meduim", "small", "negligeable"}


def test_each_photo_of_a_tweet_keeps_its_own_rows_through_partial_reruns(
    tiny_model: Path, tmp_path: Path
) -> None:
    from tests.detect.conftest import write_scene

    folder = tmp_path / "tweet"
    photos = [write_scene(folder / n, seed) for seed, n in enumerate(
        ["53_1520_3.jpg", "53_1520_3_2.jpg", "53_1520_3_3.jpg", "53_1520_3_4.jpg"], start=1
    )]  # fmt: skip
    write_scene(folder / "copy" / "53_1520_3_2.jpg", 9)  # the same media again, elsewhere
    url = f"sqlite:///{tmp_path / 'study.db'}"
    create_schema(create_engine(url))
    out = tmp_path / "o"

    def per_media() -> dict[str, int]:
        counts: dict[str, int] = {}
        for _study, media, _platform, _size in _study_rows(url):
            counts[media] = counts.get(media, 0) + 1
        return counts

    def in_json(name: str) -> int:
        return len(json.loads((out / "detection_jsons" / name).read_text()))

    first = detect(folder, model=tiny_model, out=out, db_url=url, recursive=True, **LOW)
    expected = {
        "1520": in_json("53_1520_3.json"),
        "1520_2": in_json("53_1520_3_2.json"),
        "1520_3": in_json("53_1520_3_3.json"),
        "1520_4": in_json("53_1520_3_4.json"),
    }
    assert {k: v for k, v in per_media().items() if v} == {k: v for k, v in expected.items() if v}
    assert first.study_rows == sum(expected.values()) > 0  # the copy is not written twice
    detect(photos[1], model=tiny_model, out=out, db_url=url, **LOW)  # one photo again
    assert sum(per_media().values()) == sum(expected.values())  # nothing lost, nothing doubled


@pytest.mark.mariadb
def test_study_database_rows_go_into_mariadb_schema(
    tiny_model: Path, image_dir: Path, tmp_path: Path, study_db: object
) -> None:
    url = study_db.url  # type: ignore[attr-defined]
    result = detect(image_dir, model=tiny_model, out=tmp_path / "o", db_url=url, **LOW)
    again = detect(image_dir, model=tiny_model, out=tmp_path / "o", db_url=url, **LOW)
    assert len(_study_rows(url)) == result.study_rows == again.study_rows > 0


def test_torch_backend_runs_the_same_pipeline(
    tiny_model: Path, image_dir: Path, tmp_path: Path
) -> None:
    onnx = detect(image_dir, model=tiny_model, out=tmp_path / "a", **LOW)
    torch = detect(image_dir, model=tiny_model, out=tmp_path / "b", backend="torch", **LOW)
    assert (onnx.images, onnx.done, onnx.failed) == (torch.images, torch.done, torch.failed)
    names = sorted(p.name for p in (tmp_path / "a" / "detection_jsons").glob("*.json"))
    assert names == sorted(p.name for p in (tmp_path / "b" / "detection_jsons").glob("*.json"))
    confident = 0
    for name in names:
        confident += match_detections(
            _from_json(tmp_path / "a" / "detection_jsons" / name),
            _from_json(tmp_path / "b" / "detection_jsons" / name),
            require_boxes=False,
        )
    assert confident > 0


def _from_json(path: Path) -> Detections:
    """The boxes of a detection JSON file as a Detections (sizes are not needed to compare)."""
    records = json.loads(path.read_text())
    return Detections(
        xyxy=np.array(
            [[r["box"][k] for k in ("x1", "y1", "x2", "y2")] for r in records], np.float32
        ).reshape(-1, 4),
        confidence=np.array([r["confidence"] for r in records], np.float32),
        class_id=np.array([r["class"] for r in records], np.int64),
        names={},
        image_width=0,
        image_height=0,
    )


def test_vigie_detect_stays_callable_after_the_package_is_imported(tmp_path: Path) -> None:
    import vigie
    import vigie.detect
    from vigie.errors import SourceError

    with pytest.raises(SourceError, match="no image in"):
        vigie.detect(tmp_path, model="x.pt")
    assert vigie.load_detector is vigie.detect.load_detector


def _png_claiming(width: int, height: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decode_refuses_bombs_and_formats_outside_the_allow_list(tmp_path: Path) -> None:
    from PIL import Image

    from vigie.detect import decode_image
    from vigie.errors import MediaError

    bomb = tmp_path / "bomb.png"
    for side in (20000, 10000):  # over twice Pillow's limit (its error), and just over it (ours)
        bomb.write_bytes(_png_claiming(side, side))
        with pytest.raises(MediaError, match=r"(?i)decompression"):
            decode_image(bomb)
    tiff = tmp_path / "fake.jpg"
    Image.new("RGB", (8, 8)).save(tiff, "TIFF")
    with pytest.raises(MediaError, match="not an allowed"):
        decode_image(tiff)
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(MediaError):
        decode_image(tmp_path / "empty.jpg")


def test_garbage_bytes_are_a_media_error_even_after_ultralytics_patches_pillow(
    tmp_path: Path,
) -> None:
    import ultralytics  # noqa: F401  (its Image.open hook imports an optional HEIF plugin)

    from vigie.detect import decode_image
    from vigie.errors import MediaError

    (tmp_path / "junk.jpg").write_bytes(b"<html>not found</html>")
    with pytest.raises(MediaError, match="cannot decode"):
        decode_image(tmp_path / "junk.jpg")


def test_driving_ultralytics_leaves_pillow_open_unpatched() -> None:
    """ultralytics' Image.open hook would pip-install a HEIF plugin on any unknown file."""
    import io

    from PIL import Image, UnidentifiedImageError

    from vigie.train import ultralytics_offline

    with ultralytics_offline():
        pass
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(b"<html>login</html>"))
