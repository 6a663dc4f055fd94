"""One identity per media: indexes, file names and media ids from study rows, and back again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.common import Workspace
from tests.links.helpers import sqlite_study
from vigie.cli import app
from vigie.config import load_settings
from vigie.errors import ConfigError
from vigie.identity import (
    MediaIdentity,
    identity_from_name,
    identity_from_row,
    identity_of,
    media_id,
)
from vigie.links import link_record, rows_to_links
from vigie.links.query import StudyMediaRow
from vigie.types import MediaKind

runner = CliRunner()
TW = "https://pbs.twimg.com/media/"


def _row(platform: int, pub: str, kind: str | None, url: str | None = None) -> StudyMediaRow:
    return StudyMediaRow(53, platform, pub, url, kind, "s", "x", None)


def _links(rows: list[StudyMediaRow]) -> dict[str, tuple[str, int]]:
    cfg = load_settings(links={"s3_bucket": "b"}).links
    result = rows_to_links(rows, cfg, lambda key: f"https://s3.example/{key}")
    return {link.filename: (link.url, link.media_index) for link in result.links}


def test_every_media_of_a_publication_gets_its_own_index_name_and_media_id() -> None:
    rows = [
        # a tweet with four photos, listed out of order, one twice (the status join)
        *(_row(3, "1520", "photo", TW + n) for n in ("d.jpg", "b.jpg", "a.jpg", "c.jpg", "a.jpg")),
        # a tweet with two videos, one URL with a query string
        _row(3, "1600", "video", "https://video.twimg.com/v2.mp4?tag=12"),
        _row(3, "1600", "video", "https://video.twimg.com/v1.mp4"),
        # an Instagram post with a photo and a video: two S3 keys
        _row(1, "IGPV", "VIDEO"),
        _row(1, "IGPV", "IMAGE"),
        # a carousel whose three rows share one S3 key: one media
        *(_row(1, "CAR", "CAROUSEL_ALBUM") for _ in range(3)),
        _row(4, "1789", "video"),
    ]
    got = _links(rows)
    assert got == {
        "53_1520_3.jpg": (TW + "a.jpg", 1),
        "53_1520_3_2.jpg": (TW + "b.jpg", 2),
        "53_1520_3_3.jpg": (TW + "c.jpg", 3),
        "53_1520_3_4.jpg": (TW + "d.jpg", 4),
        "53_1600_3.mp4": ("https://video.twimg.com/v1.mp4", 1),
        "53_1600_3_2.mp4": ("https://video.twimg.com/v2.mp4?tag=12", 2),
        "53_IGPV_1.jpg": ("https://s3.example/IGPV_1.jpg", 1),
        "53_IGPV_1_2.mp4": ("https://s3.example/IGPV_1.mp4", 2),
        "53_CAR_1.jpg": ("https://s3.example/CAR_1.jpg", 1),
        "53_1789_4.mp4": ("https://s3.example/1789_4.mp4", 1),
    }
    assert _links(list(reversed(rows))) == got  # the database's row order changes nothing


def test_manifest_rows_carry_the_media_index_and_media_id() -> None:
    cfg = load_settings(links={"s3_bucket": "b"}).links
    rows = [_row(3, "1520", "photo", TW + "a.jpg"), _row(3, "1520", "photo", TW + "b.jpg")]
    records = [link_record(x) for x in rows_to_links(rows, cfg, str).links]
    assert [(r["filename"], r["media_index"], r["media_id"]) for r in records] == [
        ("53_1520_3.jpg", 1, "1520"),
        ("53_1520_3_2.jpg", 2, "1520_2"),
    ]


def test_file_names_map_back_to_the_identity_they_were_built_from() -> None:
    for ident in (
        MediaIdentity(53, 4, "1789"),
        MediaIdentity(53, 3, "TW4", 2),
        MediaIdentity(7, 1, "abc_def", 12),
        MediaIdentity(53, 2, "104958162837_10158123456", 3),  # Facebook <page>_<post>
        MediaIdentity(53, 1, "C8x_1_AbC"),  # an Instagram shortcode
    ):
        assert identity_from_name(ident.filename("jpg")) == ident
    assert identity_from_name("53_1789_4.jpg") == MediaIdentity(53, 4, "1789", 1)  # the seed's
    assert MediaIdentity(53, 3, "TW4", 2).media_id == "TW4_2" == media_id("TW4", 2)
    assert MediaIdentity(53, 3, "TW4").media_id == "TW4"
    for name in ("street.png", "20250312100000.jpg", "53_B_1_all_f000012_1.200s.jpg"):
        assert identity_from_name(name) is None


def test_the_catalog_row_wins_over_an_ambiguous_name() -> None:
    # publication "A_12" of platform 3: the name alone reads as publication "A", platform 12
    name = MediaIdentity(53, 3, "A_12").filename("jpg")
    assert identity_from_name(name) == MediaIdentity(53, 12, "A", 3)

    class Row:
        kind, study_id, publication_id, platform_id, meta = "image", 53, "A_12", 3, None
        filename = name

    assert identity_of(name, Row()) == MediaIdentity(53, 3, "A_12", 1)
    Row.filename = MediaIdentity(53, 3, "A_12", 2).filename("jpg")
    assert identity_from_row(Row()) == MediaIdentity(53, 3, "A_12", 2)  # index from the name
    Row.meta = {"media_index": 5}
    assert identity_from_row(Row()) == MediaIdentity(53, 3, "A_12", 5)  # as `vigie links` said
    Row.kind = "frame"  # a frame of a video is no media of the study
    assert identity_of(name, Row()) is None


def test_links_without_a_bucket_stop_with_what_to_set() -> None:
    cfg = load_settings().links
    from vigie.links.urls import make_url_builder

    with pytest.raises(ConfigError, match="no S3 bucket") as info:
        rows_to_links([_row(1, "IG1", "IMAGE")], cfg, make_url_builder(cfg))
    hint = info.value.hint or ""
    assert "--s3-bucket" in hint and "VIGIE_LINKS__S3_BUCKET" in hint and "[links]" in hint
    only_twitter = rows_to_links([_row(3, "T", "photo", TW + "t.jpg")], cfg, make_url_builder(cfg))
    assert [x.url for x in only_twitter.links] == [TW + "t.jpg"]  # no bucket needed


def test_links_cli_names_the_bucket_settings_then_takes_the_s3_flags(
    tmp_path: Path, workspace: Workspace
) -> None:
    db = sqlite_study(tmp_path / "study.db", 53, "IMAGE")
    base = ["-w", str(workspace.root), "links", "--study", "53", "--from", "2025-08-01",
            "--to", "2025-10-31", "--db", db]  # fmt: skip
    res = runner.invoke(app, base)
    assert res.exit_code == 1
    assert "no S3 bucket" in res.output and "[links] in vigie.toml" in res.output
    assert not (workspace.root / "links_53_links.jsonl").exists()  # nothing half-written
    res = runner.invoke(app, [*base, "--s3-bucket", "team-media", "--s3-region", "eu-west-1"])
    assert res.exit_code == 0, res.output
    manifest = workspace.root / "links_53_links.jsonl"  # the output rule: in the workspace
    url = json.loads(manifest.read_text())["url"]
    assert url == "https://team-media.s3.eu-west-1.amazonaws.com/A_1.jpg"
    res = runner.invoke(app, [*base, "--s3-url-template", "http://127.0.0.1:9/{key}"])
    assert res.exit_code == 0, res.output
    assert json.loads(manifest.read_text())["url"] == "http://127.0.0.1:9/A_1.jpg"
    assert json.loads(manifest.read_text())["media_type"] == MediaKind.IMAGE.value
