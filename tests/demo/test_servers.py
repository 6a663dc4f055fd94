"""Demo servers: the camera repeats its picture between refreshes; the media host serves files."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from vigie.demo import CameraServer, MediaServer, Scene
from vigie.demo.study import build_study, s3_template


def test_camera_repeats_the_same_picture_until_it_refreshes() -> None:
    with CameraServer(Scene(seed=0), refresh=0.3, speedup=10.0) as cam:
        url = cam.url("/camera.jpg")
        first = httpx.get(url)
        again = httpx.get(url)
        assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
        if cam.pictures == 1:  # both answered before a refresh: the very same bytes
            assert first.content == again.content
        time.sleep(0.7)
        later = httpx.get(url)
        assert later.content != first.content
        assert httpx.get(cam.url("/other.jpg")).status_code == 404


def test_media_server_serves_files_and_scripted_failures(tmp_path: Path) -> None:
    (tmp_path / "s3").mkdir()
    (tmp_path / "s3" / "a_1.jpg").write_bytes(b"\xff\xd8jpeg")
    (tmp_path.parent / "secret.txt").write_text("no")
    with MediaServer(tmp_path) as media:
        ok = httpx.get(media.url("/s3/a_1.jpg"))
        assert ok.status_code == 200 and ok.content == b"\xff\xd8jpeg"
        assert httpx.get(media.url("/s3/missing.jpg")).status_code == 404
        assert httpx.get(media.url("/../secret.txt")).status_code == 404
        url = media.add_failure("/twitter/x.jpg", 200, b"<html>rate limited</html>")
        page = httpx.get(url)
        assert page.status_code == 200 and page.content.startswith(b"<html>")


def test_build_study_writes_rows_and_serves_their_media(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'study.db'}"
    with MediaServer(tmp_path / "media") as media:
        study = build_study(Scene(seed=0), media, db, images=3, videos=1, video_frames=10)
        assert s3_template(media).endswith("/s3/{key}")
        engine = create_engine(db)
        with engine.connect() as conn:
            validated = conn.execute(
                text("SELECT count(*) FROM study_publication_affectation WHERE flag_validated > 0")
            ).scalar()
            twitter = (
                conn.execute(
                    text("SELECT media_url FROM publication_medias WHERE id_plateform = 3")
                )
                .scalars()
                .all()
            )
        engine.dispose()
        assert validated == study.selected + 1  # + the one published after the period
        assert study.images == 3 and study.videos == 1 and study.broken == 3
        served = [u for u in twitter if u and "gone" not in u]
        assert served and all(httpx.get(u).status_code == 200 for u in served)
        assert (media.root / "s3" / "img000_1.jpg").is_file()
