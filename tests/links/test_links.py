"""vigie links: the schema.sql selection on MariaDB, classification, S3 links, files, catalog."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.fixtures.common import Workspace
from tests.fixtures.studydb import (
    EXPECTED_IMAGES,
    EXPECTED_MISSING_URL,
    EXPECTED_UNKNOWN,
    EXPECTED_VIDEOS,
    StudyDB,
)
from tests.links.helpers import sqlite_study
from vigie.config import load_settings
from vigie.errors import ConfigError, DatabaseError
from vigie.links import (
    build_links,
    classify_media_type,
    parse_bound,
    rows_to_links,
)
from vigie.links.query import StudyMediaRow
from vigie.types import MediaKind


def test_media_types_map_to_image_video_or_unknown() -> None:
    for name in ("IMAGE", "CAROUSEL_ALBUM", "photo"):
        assert classify_media_type(name) is MediaKind.IMAGE
    for name in ("VIDEO", "video", "animated_gif"):
        assert classify_media_type(name) is MediaKind.VIDEO
    for name in ("STORY", "", None, "reel?"):
        assert classify_media_type(name) is MediaKind.UNKNOWN


def test_to_date_includes_the_whole_day() -> None:
    assert str(parse_bound("2025-10-31", end=True)) == "2025-10-31 23:59:59"
    assert str(parse_bound("2025-08-01", end=False)) == "2025-08-01 00:00:00"
    assert str(parse_bound("2025-10-31T12:00:00", end=True)) == "2025-10-31 12:00:00"
    with pytest.raises(ConfigError):
        parse_bound("31/10/2025", end=True)


def test_publication_id_cannot_escape_through_the_file_name() -> None:
    cfg = load_settings().links
    row = StudyMediaRow(53, 1, "../../etc/passwd", None, "IMAGE", None, "instagram", None)
    result = rows_to_links([row], cfg, lambda key: "https://b.example/" + key)
    assert result.links[0].filename == "53_etc_passwd_1.jpg"
    assert "/" not in result.links[0].filename


@pytest.mark.mariadb
def test_links_reads_schema_sql_database_with_every_edge(
    study_db: StudyDB, workspace: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    workspace.settings.links.s3_bucket = "vigie-media"
    result = build_links(
        study_db.study,
        study_db.start,
        study_db.end,
        db_url=study_db.url,
        out=out,
        settings=workspace.settings,
        catalog=workspace.catalog,
        tag="10",
    )
    images = {link.filename for link in result.links if link.media_type is MediaKind.IMAGE}
    videos = {link.filename for link in result.links if link.media_type is MediaKind.VIDEO}
    assert images == EXPECTED_IMAGES
    assert videos == EXPECTED_VIDEOS
    assert result.unknown == EXPECTED_UNKNOWN
    assert result.missing_url == EXPECTED_MISSING_URL
    assert result.duplicates == 1  # IG2 joined twice through publication_media_status
    by_name = {link.filename: link for link in result.links}
    assert by_name["53_IG1_1.jpg"].url == "https://vigie-media.s3.eu-west-3.amazonaws.com/IG1_1.jpg"
    assert by_name["53_FB2_2.mp4"].url.endswith("/FB2_2.mp4")
    assert by_name["53_TW1_3.jpg"].url == study_db.twitter_base + "tw1.jpg"

    # the seed's layout
    aws = (out / "images_53_10" / "aws_links.txt").read_text().splitlines()
    tw = (out / "images_53_10" / "twitter_links.txt").read_text().splitlines()
    assert len(aws) == 4 and len(set(aws)) == 4
    assert sorted(tw) == sorted(
        study_db.twitter_base + n for n in ("tw1.jpg", "tw4a.jpg", "tw4b.jpg")
    )
    assert (out / "videos_53_10" / "twitter_links.txt").read_text().splitlines() == [
        study_db.twitter_base + "tw2.mp4"
    ]
    assert len((out / "videos_53_10" / "aws_links.txt").read_text().splitlines()) == 2

    # the manifest
    manifest = [json.loads(line) for line in (out / "links_53_10.jsonl").read_text().splitlines()]
    assert {m["filename"] for m in manifest} == EXPECTED_IMAGES | EXPECTED_VIDEOS
    assert all(
        {"study_id", "platform_id", "publication_id", "media_type", "url"} <= m.keys()
        for m in manifest
    )

    # the catalog
    items = workspace.catalog.items(key_prefix="study:53:")
    assert {i.filename for i in items} == EXPECTED_IMAGES | EXPECTED_VIDEOS
    assert all(i.status == "pending" for i in items)
    tw2 = workspace.catalog.item("study:53:53_TW2_3.mp4")
    assert tw2 is not None and tw2.kind == "video" and tw2.publication_id == "TW2"
    assert tw2.platform_id == 3 and tw2.study_id == 53
    assert tw2.meta == {"platform_name": "twitter", "media_index": 1}  # the report reads it


@pytest.mark.mariadb
def test_links_rerun_is_idempotent_and_keeps_download_status(
    study_db: StudyDB, workspace: Workspace, tmp_path: Path
) -> None:
    workspace.settings.links.s3_bucket = "b"
    kwargs = dict(
        db_url=study_db.url, out=tmp_path, settings=workspace.settings, catalog=workspace.catalog
    )
    build_links(53, study_db.start, study_db.end, **kwargs)  # type: ignore[arg-type]
    first = (tmp_path / "links_53_links.jsonl").read_bytes()
    workspace.catalog.upsert_items(
        [{"key": "study:53:53_IG1_1.jpg", "kind": "image", "status": "done"}]
    )
    build_links(53, study_db.start, study_db.end, **kwargs)  # type: ignore[arg-type]
    assert (tmp_path / "links_53_links.jsonl").read_bytes() == first
    items = workspace.catalog.items(key_prefix="study:53:")
    assert len(items) == len(EXPECTED_IMAGES | EXPECTED_VIDEOS)
    assert workspace.catalog.item("study:53:53_IG1_1.jpg").status == "done"  # type: ignore[union-attr]


@pytest.mark.mariadb
def test_links_csv_manifest_has_every_field(study_db: StudyDB, tmp_path: Path) -> None:
    settings = load_settings(workspace=tmp_path, links={"manifest_format": "csv", "s3_bucket": "b"})
    build_links(
        53, study_db.start, study_db.end, db_url=study_db.url, out=tmp_path, settings=settings
    )
    lines = (tmp_path / "links_53_links.csv").read_text().splitlines()
    assert lines[0].split(",")[:6] == [
        "study_id",
        "platform_id",
        "platform_name",
        "publication_id",
        "media_type",
        "url",
    ]
    assert len(lines) == 1 + len(EXPECTED_IMAGES | EXPECTED_VIDEOS)


@pytest.mark.mariadb
def test_links_presigns_private_bucket_with_moto_s3(
    study_db: StudyDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        import boto3

        s3 = boto3.client("s3", region_name="eu-west-3", endpoint_url=endpoint)
        s3.create_bucket(
            Bucket="private-media", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
        )
        s3.put_object(Bucket="private-media", Key="IG1_1.jpg", Body=b"\xff\xd8\xffjpeg")
        settings = load_settings(
            workspace=tmp_path,
            links={"presign": True, "s3_bucket": "private-media", "s3_endpoint_url": endpoint},
        )
        result = build_links(
            53, study_db.start, study_db.end, db_url=study_db.url, out=tmp_path, settings=settings
        )
        url = next(link.url for link in result.links if link.filename == "53_IG1_1.jpg")
        assert "X-Amz-Signature=" in url
        assert httpx.get(url).content == b"\xff\xd8\xffjpeg"
    finally:
        server.stop()


def test_links_without_database_url_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no study database"):
        build_links(53, "2025-08-01", "2025-10-31", settings=load_settings(workspace=tmp_path))


def test_links_on_a_database_without_the_tables_is_a_database_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(DatabaseError, match="cannot read study 53"):
        build_links(
            53, "2025-08-01", "2025-10-31", db_url=url, settings=load_settings(workspace=tmp_path)
        )


def test_links_works_on_an_sqlite_study_database(tmp_path: Path, workspace: Workspace) -> None:
    from datetime import datetime

    url = sqlite_study(tmp_path / "study.db", 7, "VIDEO", datetime(2025, 10, 31, 23, 59, 59))
    workspace.settings.links.s3_bucket = "b"
    result = build_links(
        7,
        "2025-10-31",
        "2025-10-31",
        db_url=url,
        out=tmp_path,
        settings=workspace.settings,
        catalog=workspace.catalog,
    )
    assert [link.filename for link in result.links] == ["7_A_1.mp4"]


def _add_publications(url: str, n: int, study: int = 53) -> None:
    """``n`` more validated publications of ``study``: 0 to 3 media, 0 to 2 status rows each
    (so pages hold publications without media and duplicated join rows)."""
    from sqlalchemy import create_engine, text

    spa, meta, medias, statuses = [], [], [], []
    for i in range(n):
        platform, pub = 1 + i % 4, f"BULK{i:05d}"
        spa.append({"s": study, "p": platform, "u": pub})
        meta.append({"p": platform, "u": pub, "d": f"2025-09-{1 + i % 28:02d} 10:00:00"})
        for k in range(i % 4):
            link = f"https://pbs.twimg.com/media/{pub}_{k}.jpg" if platform == 3 else None
            medias.append({"p": platform, "u": pub, "m": link, "t": ("IMAGE", "VIDEO")[k % 2]})
        statuses += [{"u": pub, "s": f"s{k}"} for k in range(i % 3)]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO study_publication_affectation "
                "(id_study, id_plateform, id_publication, flag_validated) VALUES (:s, :p, :u, 1)"
            ),
            spa,
        )
        conn.execute(
            text(
                "INSERT INTO publications_meta (plateform_id, publication_id, publication_datetime)"
                " VALUES (:p, :u, :d)"
            ),
            meta,
        )
        conn.execute(
            text(
                "INSERT INTO publication_medias (id_plateform, publication_id, media_url, type) "
                "VALUES (:p, :u, :m, :t)"
            ),
            medias,
        )
        conn.execute(
            text("INSERT INTO publication_media_status (publication_id, status) VALUES (:u, :s)"),
            statuses,
        )
    engine.dispose()


def _single_query_rows(url: str, study: int, start: str, end: str) -> Counter[StudyMediaRow]:
    """What the schema.sql selection returns as one statement (the reference)."""
    from sqlalchemy import create_engine

    from vigie.links.query import SELECTION, _row

    engine = create_engine(url)
    with engine.connect() as conn:
        params = {
            "study": study,
            "start": parse_bound(start, end=False),
            "end": parse_bound(end, end=True),
        }
        rows = Counter(_row(r) for r in conn.execute(SELECTION, params))
    engine.dispose()
    return rows


def _kill_other_connections(url: str) -> int:
    """``KILL`` every other MariaDB connection on this test database (the reader's)."""
    from sqlalchemy import create_engine, make_url, text

    engine = create_engine(url)
    with engine.connect() as conn:
        ids = conn.execute(
            text(
                "SELECT ID FROM information_schema.PROCESSLIST "
                "WHERE DB = :db AND ID <> CONNECTION_ID()"
            ),
            {"db": make_url(url).database},
        ).scalars()
        killed = 0
        for ident in list(ids):
            conn.execute(text(f"KILL {int(ident)}"))
            killed += 1
    engine.dispose()
    return killed


@pytest.mark.mariadb
@pytest.mark.parametrize("page_size", [1, 2, 7, 5000])
def test_paged_read_returns_exactly_the_rows_of_the_single_query(
    study_db: StudyDB, page_size: int
) -> None:
    from vigie.links import select_study_media
    from vigie.studydb import connect

    _add_publications(study_db.url, 60)
    reference = _single_query_rows(study_db.url, 53, study_db.start, study_db.end)
    pages: list[int] = []
    engine = connect(study_db.url)
    try:
        rows = select_study_media(
            engine,
            53,
            parse_bound(study_db.start, end=False),
            parse_bound(study_db.end, end=True),
            page_size=page_size,
            on_page=lambda n, _rows: pages.append(n),
        )
    finally:
        engine.dispose()
    assert Counter(rows) == reference and len(rows) == sum(reference.values())
    publications = len({(r.platform_id, r.publication_id) for r in rows})
    assert len(pages) == publications // page_size + 1
    keys = [(r.platform_id, r.publication_id) for r in rows]
    assert keys == sorted(keys)  # deterministic order: the key, page after page


@pytest.mark.mariadb
def test_killed_connection_mid_read_resumes_from_the_last_key_without_loss_or_duplicate(
    study_db: StudyDB, caplog: pytest.LogCaptureFixture
) -> None:
    from vigie.links import select_study_media
    from vigie.studydb import connect

    _add_publications(study_db.url, 300)
    reference = _single_query_rows(study_db.url, 53, study_db.start, study_db.end)
    killed: list[int] = []

    def kill_between_pages(page: int, _rows: int) -> None:
        if page in (2, 5, 6):  # twice in a row too: the retry counter resets after a page
            killed.append(_kill_other_connections(study_db.url))

    engine = connect(study_db.url)
    try:
        rows = select_study_media(
            engine,
            53,
            parse_bound(study_db.start, end=False),
            parse_bound(study_db.end, end=True),
            page_size=7,
            retries=1,
            on_page=kill_between_pages,
        )
    finally:
        engine.dispose()
    assert killed == [1, 1, 1]
    assert Counter(rows) == reference  # nothing lost, nothing read twice
    assert len(rows) == sum(reference.values()) > 300
    assert "connection lost" in caplog.text


@pytest.mark.mariadb
def test_rows_added_behind_the_key_during_a_reconnect_fail_the_reconciliation(
    study_db: StudyDB,
) -> None:
    from sqlalchemy import create_engine, text

    from vigie.links import select_study_media
    from vigie.studydb import connect

    _add_publications(study_db.url, 40)

    def kill_and_insert(page: int, _rows: int) -> None:
        if page == 3:
            _kill_other_connections(study_db.url)
            writer = create_engine(study_db.url)
            with writer.begin() as conn:  # a media of a publication already read (IG1)
                conn.execute(
                    text(
                        "INSERT INTO publication_medias (id_plateform, publication_id, type) "
                        "VALUES (1, 'IG1', 'IMAGE')"
                    )
                )
            writer.dispose()

    engine = connect(study_db.url)
    try:
        with pytest.raises(DatabaseError, match="study database counts") as info:
            select_study_media(
                engine,
                53,
                parse_bound(study_db.start, end=False),
                parse_bound(study_db.end, end=True),
                page_size=5,
                on_page=kill_and_insert,
            )
    finally:
        engine.dispose()
    assert "run `vigie links` again" in (info.value.hint or "")


@pytest.mark.mariadb
def test_links_with_a_small_page_size_writes_the_same_links(
    study_db: StudyDB, workspace: Workspace, tmp_path: Path
) -> None:
    settings = load_settings(workspace=tmp_path / "ws", links={"page_size": 2, "s3_bucket": "b"})
    result = build_links(
        53, study_db.start, study_db.end, db_url=study_db.url, out=tmp_path, settings=settings
    )
    assert {link.filename for link in result.links} == EXPECTED_IMAGES | EXPECTED_VIDEOS
    assert result.unknown == EXPECTED_UNKNOWN and result.duplicates == 1
