"""A real study, end to end, loses nothing (issue 11, reliability promises 15-17).

MariaDB study DB (tests/fixtures/realstudy.py) -> `vigie links` -> `vigie download` -> `vigie
detect --db` -> `vigie track --db` -> a rerun of each -> `--retry-failed` from a fresh workspace
that has only the media folder. At every point the study tables hold exactly one row per
detection in the JSON files and one per track in the track files, each under its own media id.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tests.fixtures import realstudy
from tests.fixtures.http import FaultServer
from vigie.catalog import Catalog
from vigie.cli import app
from vigie.identity import identity_from_name

pytestmark = [pytest.mark.mariadb, pytest.mark.slow]
runner = CliRunner()
MODEL = ["--imgsz", "160", "--conf", "0.05"]


def _vigie(*args: str, code: int = 0) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == code, res.output
    return " ".join(res.output.split())


def _db(url: str, table: str) -> Counter[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT study_id, media_id, plateform_id FROM {table}")).all()
    engine.dispose()
    for study, media, platform in rows:  # every row names its media exactly
        assert study == 53 and platform == str(_platform(media)), (study, media, platform)
    return Counter(str(media) for _s, media, _p in rows)


def _platform(media_id: str) -> int:
    name = next(n for n, m in realstudy.LINKS.items() if m == media_id)
    ident = identity_from_name(name)
    assert ident is not None
    return ident.platform_id


def _in_detection_jsons(out: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in (out / "detection_jsons").glob("*.json"):
        ident = identity_from_name(path.name)
        assert ident is not None, path
        records = json.loads(path.read_text())
        assert all(r["media_id"] == ident.media_id for r in records)
        found[ident.media_id] += len(records)
    return +found


def _in_track_files(out: Path) -> Counter[str]:
    found: Counter[str] = Counter()
    for path in out.glob("*.tracks.json"):
        media = realstudy.LINKS[path.name.replace(".tracks.json", ".mp4")]
        found[media] += len(json.loads(path.read_text())["tracks"])
    return +found


def _check_study_tables(url: str, ws: Path) -> tuple[Counter[str], Counter[str]]:
    images, videos = _in_detection_jsons(ws), _in_track_files(ws / "tracks")
    assert _db(url, "yolo_image_detection") == images
    assert _db(url, "yolo_video_detection") == videos
    return images, videos


def test_a_real_study_end_to_end_loses_nothing(
    fault_server: FaultServer, mysql_db: str, tiny_model: Path, tmp_path: Path
) -> None:
    study = realstudy.serve(fault_server, tmp_path / "gen")
    realstudy.populate(mysql_db, fault_server.url(""))
    ws, media = tmp_path / "ws", tmp_path / "media"
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        from vigie.catalog.models import register_model

        register_model(cat, "traffic", tiny_model)
    links = ["-w", str(ws), "links", "--study", "53", "--from", realstudy.START, "--to",
             realstudy.END, "--db", mysql_db, "--s3-url-template", study.s3_template]  # fmt: skip
    download = ["-w", str(ws), "download", "--study", "53", "--purpose", "media_analysis",
                "--out", str(media), "--allow-private-networks", "--retries", "0"]  # fmt: skip
    detect = ["-w", str(ws), "detect", str(media / "images_53"), "--model", "traffic",
              "--db", mysql_db, *MODEL]  # fmt: skip
    track = ["-w", str(ws), "track", str(media / "videos_53"), "--model", "traffic",
             "--db", mysql_db, "--no-video", *MODEL]  # fmt: skip

    # links: one link per distinct media, each with its identity
    out = _vigie(*links)
    assert "duplicates removed" in out
    manifest = [json.loads(x) for x in (ws / "links_53_links.jsonl").read_text().splitlines()]
    assert {m["filename"]: m["media_id"] for m in manifest} == realstudy.LINKS
    first_manifest = (ws / "links_53_links.jsonl").read_bytes()

    # download: the dead links fail (exit 3), everything else lands under its identity's name
    out = _vigie(*download, code=3)
    assert "4 of 15 downloads failed" in out
    on_disk = {p.name for p in (media / "images_53").iterdir()} | {
        p.name for p in (media / "videos_53").iterdir()
    }
    assert on_disk == set(realstudy.LINKS) - realstudy.FIRST_FAILURES
    logged = {
        json.loads(x)["filename"] for x in (media / "errors_53.jsonl").read_text().splitlines()
    }
    assert logged == realstudy.FIRST_FAILURES

    # detect and track into the study database
    _vigie(*detect)
    _vigie(*track)
    images, videos = _check_study_tables(mysql_db, ws)
    assert {"1520", "1520_2", "1520_3", "1520_4"} <= set(images)  # four photos, four media
    assert {"1600", "1600_2"} <= set(videos) and sum(videos.values()) > 0  # two videos

    # a rerun of each: same links, nothing downloaded again, the same rows, once
    _vigie(*links)
    assert (ws / "links_53_links.jsonl").read_bytes() == first_manifest
    hits = fault_server.hits("/tw/pa.jpg")
    out = _vigie(*download, code=3)
    assert fault_server.hits("/tw/pa.jpg") == hits and "4 of 15 downloads failed" in out
    _vigie(*detect)
    assert "skipped 3" in _vigie(*track)  # done before: not analysed again, rows rewritten
    assert _check_study_tables(mysql_db, ws) == (images, videos)
    # partial reruns: one photo, one video analysed again; the other media keep their rows
    _vigie("-w", str(ws), "detect", str(media / "images_53" / "53_1520_3_3.jpg"), "--model",
           "traffic", "--db", mysql_db, *MODEL)  # fmt: skip
    _vigie(*track[:3], str(media / "videos_53" / "53_1600_3_2.mp4"), *track[4:], "--force")
    assert _db(mysql_db, "yolo_image_detection") == images
    assert _db(mysql_db, "yolo_video_detection") == videos

    # retry from a fresh workspace that has only the media folder (and its failure logs)
    fresh = tmp_path / "fresh"
    shutil.rmtree(ws / "detection_jsons")
    study.revive()
    out = _vigie("-w", str(fresh), "download", "--study", "53", "--retry-failed", "--purpose",
                 "media_analysis", "--out", str(media), "--allow-private-networks",
                 "--retries", "0", code=3)  # fmt: skip
    assert "2 of 4 downloads failed" in out
    logged = {
        json.loads(x)["filename"] for x in (media / "errors_53.jsonl").read_text().splitlines()
    }
    assert logged == realstudy.STILL_FAILING  # exactly what still fails
    assert (media / "images_53" / "53_1800_3.jpg").is_file()  # came back
    assert (media / "images_53" / "53_1900_3.jpg").is_file()  # the dead video's own poster
    assert not (media / "images_53" / "53_IGPV_1_2.jpg").exists()  # never a copy of IGPV's photo
    assert fault_server.hits("/s3/IGPV_1.jpg") == 1

    # the fresh workspace knows only the retried files: the others' names give the same media
    _vigie("-w", str(fresh), "detect", str(media / "images_53"), "--model", str(tiny_model),
           "--db", mysql_db, *MODEL)  # fmt: skip
    again = _in_detection_jsons(fresh)
    assert set(again) >= set(images) | {"1800"}
    assert _db(mysql_db, "yolo_image_detection") == again
    assert _db(mysql_db, "yolo_video_detection") == videos
