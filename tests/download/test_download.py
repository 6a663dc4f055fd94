"""vigie.download against the fault server: retries, final failures, names, reruns, SSRF."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.download.helpers import fast_settings, media_files, study_row, write_manifest
from tests.fixtures.common import Workspace
from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes, write_video
from vigie.catalog import Catalog
from vigie.download import download
from vigie.types import ItemStatus

JPEG = jpeg_bytes(160, 120, seed=1)


def _run(tmp_path: Path, rows: list[dict], **kwargs) -> tuple:  # type: ignore[type-arg]
    settings = kwargs.pop("settings", None) or fast_settings(tmp_path / "ws")
    manifest = write_manifest(tmp_path / "m.jsonl", rows)
    cat = Catalog.from_settings(settings)
    try:
        result = download(
            study=53,
            purpose=kwargs.pop("purpose", "media_analysis"),
            manifest=manifest,
            out=tmp_path / "out",
            settings=settings,
            catalog=cat,
            **kwargs,
        )
        items = {r.key: r for r in cat.items(key_prefix="study:53:")}
    finally:
        cat.close()
    return result, items


def test_download_stores_a_valid_jpeg_with_provenance(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    url = fault_server.route("/IG1_1.jpg", Reply(body=JPEG))
    result, items = _run(tmp_path, [study_row(url, "53_IG1_1.jpg")])
    assert (result.done, result.failed, result.total) == (1, 0, 1)
    path = tmp_path / "out" / "images_53" / "53_IG1_1.jpg"
    assert path.read_bytes() == JPEG
    row = items["study:53:53_IG1_1.jpg"]
    assert row.status == "done" and row.path == str(path.resolve()) and row.size_bytes == len(JPEG)
    assert (row.width, row.height) == (160, 120) and len(row.sha256) == 64
    assert row.url == url and row.publication_id == "IG1" and row.platform_id == 1


@pytest.mark.parametrize(
    ("replies", "hits"),
    [
        ([Reply(fault="reset", body=JPEG), Reply(body=JPEG)], 2),
        ([Reply(status=503), Reply(status=503), Reply(status=503), Reply(body=JPEG)], 4),
        ([Reply(status=429, headers={"Retry-After": "1"}), Reply(body=JPEG)], 2),
        ([Reply(status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), Reply(body=JPEG)], 2),
        ([Reply(status=429, headers={"Retry-After": "99999999"}), Reply(body=JPEG)], 2),
        ([Reply(status=429, headers={"Retry-After": "garbage"}), Reply(body=JPEG)], 2),
        ([Reply(fault="short", body=JPEG), Reply(body=JPEG)], 2),
        ([Reply(status=408), Reply(body=JPEG)], 2),
        ([Reply(fault="close"), Reply(body=JPEG)], 2),
    ],
    ids=["reset", "503x3", "retry-after-s", "retry-after-date", "retry-after-huge",
         "retry-after-garbage", "short", "408", "close"],
)  # fmt: skip
def test_transient_faults_are_retried_until_the_file_is_complete(
    fault_server: FaultServer, tmp_path: Path, replies: list[Reply], hits: int
) -> None:
    url = fault_server.route("/a.jpg", *replies)
    result, items = _run(tmp_path, [study_row(url, "53_A_1.jpg")])
    assert result.done == 1, result.items
    assert fault_server.hits("/a.jpg") == hits
    assert (tmp_path / "out" / "images_53" / "53_A_1.jpg").read_bytes() == JPEG
    assert items["study:53:53_A_1.jpg"].attempts == hits


@pytest.mark.parametrize(
    ("reply", "error_class", "hits"),
    [
        (Reply(status=404), "http_404", 1),
        (Reply(status=410), "http_410", 1),
        (Reply(status=403), "http_403", 1),
        (Reply(body=b"<html><body>Not here</body></html>", headers={"Content-Type": "image/jpeg"}), "not_media", 1),
        (Reply(body=b""), "empty_body", 1),
        (Reply(body=JPEG[: len(JPEG) // 2]), "corrupt_media", 1),
        (Reply(status=500), "http_500", 4),
        (Reply(fault="short", body=JPEG), "short_body", 4),
    ],
)  # fmt: skip
def test_final_failures_are_recorded_with_a_reason_and_leave_no_file(
    fault_server: FaultServer, tmp_path: Path, reply: Reply, error_class: str, hits: int
) -> None:
    url = fault_server.route("/b.jpg", reply)
    result, items = _run(tmp_path, [study_row(url, "53_B_1.jpg")])
    assert (result.done, result.failed) == (0, 1)
    assert fault_server.hits("/b.jpg") == hits
    row = items["study:53:53_B_1.jpg"]
    assert row.status == "failed" and row.error_class == error_class and row.error
    assert media_files(tmp_path / "out" / "images_53") == set()
    log = (tmp_path / "out" / "errors_53.log").read_text().splitlines()
    assert log == [f"{url}\t53_B_1.jpg\t{error_class}: {row.error}"]
    record = json.loads((tmp_path / "out" / "errors_53.jsonl").read_text())
    assert record["error_class"] == error_class and record["attempts"] == hits


def test_slow_body_and_hanging_server_hit_the_deadlines(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    slow = fault_server.route("/slow.jpg", Reply(fault="slow", body=JPEG, byte_interval=0.3))
    hang = fault_server.route("/hang.jpg", Reply(fault="hang"))
    endless = fault_server.route("/endless.jpg", Reply(fault="endless"))
    settings = fast_settings(tmp_path / "ws", retries=1, item_deadline=1.0, max_bytes=4_000_000)
    result, items = _run(
        tmp_path,
        [
            study_row(slow, "53_S_1.jpg"),
            study_row(hang, "53_H_1.jpg"),
            study_row(endless, "53_E_1.jpg"),
        ],
        settings=settings,
    )
    assert result.failed == 3
    assert items["study:53:53_S_1.jpg"].error_class == "timeout"
    assert items["study:53:53_H_1.jpg"].error_class == "timeout"
    assert items["study:53:53_E_1.jpg"].error_class in ("too_large", "timeout")
    assert not list((tmp_path / "out").rglob("*.part"))


def test_max_size_is_enforced_from_content_length(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    url = fault_server.route("/big.jpg", Reply(body=JPEG))
    settings = fast_settings(tmp_path / "ws", max_bytes=1000)
    _result, items = _run(tmp_path, [study_row(url, "53_BIG_1.jpg")], settings=settings)
    assert items["study:53:53_BIG_1.jpg"].error_class == "too_large"


def test_rerun_skips_done_items_and_sweeps_stale_part_files(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    url = fault_server.route("/c.jpg", Reply(body=JPEG))
    rows = [study_row(url, "53_C_1.jpg")]
    first, _ = _run(tmp_path, rows)
    stale = tmp_path / "out" / "images_53" / "53_X_1.jpg.part"
    stale.write_bytes(b"half")
    second, items = _run(tmp_path, rows)
    assert (first.done, second.done, second.skipped) == (1, 0, 1)
    assert fault_server.hits("/c.jpg") == 1
    assert not stale.exists() and second.swept_parts == 1
    assert items["study:53:53_C_1.jpg"].status == "done"


def test_a_deleted_file_is_downloaded_again(fault_server: FaultServer, tmp_path: Path) -> None:
    url = fault_server.route("/d.jpg", Reply(body=JPEG))
    rows = [study_row(url, "53_D_1.jpg")]
    _run(tmp_path, rows)
    (tmp_path / "out" / "images_53" / "53_D_1.jpg").unlink()
    second, _ = _run(tmp_path, rows)
    assert second.done == 1 and fault_server.hits("/d.jpg") == 2


def test_retry_failed_retries_only_failures_and_falls_back_to_the_jpg_sibling(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    ok = fault_server.route("/ok.jpg", Reply(body=JPEG))
    gone = fault_server.route("/P1_2.mp4", Reply(status=404))
    fault_server.route("/P1_2.jpg", Reply(body=JPEG))
    flaky = fault_server.route("/flaky.jpg", Reply(status=404), Reply(body=JPEG))
    rows = [
        study_row(ok, "53_OK_1.jpg"),
        study_row(gone, "53_P1_2.mp4", kind="video"),
        study_row(flaky, "53_FL_1.jpg"),
    ]
    first, _ = _run(tmp_path, rows)
    assert (first.done, first.failed) == (1, 2)
    second, items = _run(tmp_path, rows, retry_failed=True)
    assert second.total == 2 and second.done == 2 and second.failed == 0
    assert fault_server.hits("/ok.jpg") == 1
    assert items["study:53:53_P1_2.mp4"].status == "skipped"
    assert items["study:53:53_P1_2.mp4"].error_class == "replaced_by_jpg"
    assert items["study:53:53_P1_2.jpg"].status == "done"
    assert (tmp_path / "out" / "images_53" / "53_P1_2.jpg").exists()
    assert (tmp_path / "out" / "errors_53.log").read_text() == ""


def test_manifest_names_are_used_and_cannot_escape(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    url = fault_server.route("/weird/name.jpg", Reply(body=JPEG))
    result, _ = _run(tmp_path, [study_row(url, "../../evil.jpg")])
    assert result.done == 1
    assert (tmp_path / "out" / "images_53" / "evil.jpg").exists()
    assert not (tmp_path / "evil.jpg").exists()


def test_a_video_where_an_image_was_expected_is_refused(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    video = write_video(tmp_path / "v.mp4", frames=5, width=64, height=48).read_bytes()
    url = fault_server.route("/v.jpg", Reply(body=video))
    _result, items = _run(tmp_path, [study_row(url, "53_V_1.jpg")])
    assert items["study:53:53_V_1.jpg"].error_class == "wrong_type"


def test_url_list_names_files_after_the_url_safe_and_unique(
    fault_server: FaultServer, workspace: Workspace, tmp_path: Path
) -> None:
    a = fault_server.route("/a/photo.jpg", Reply(body=JPEG))
    b = fault_server.route("/b/photo.jpg", Reply(body=jpeg_bytes(seed=2)))
    c = fault_server.route("/img", Reply(body=JPEG))
    d = fault_server.route("/x/..%2F..%2Fescape.jpg", Reply(body=JPEG))
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{a}\n{b}\n\n# comment\n{c}\n{a}\n{d}\n")
    settings = fast_settings(workspace.root)
    out = tmp_path / "dl"
    result = download(urls=urls, out=out, settings=settings, catalog=workspace.catalog)
    assert (result.total, result.done, result.skipped, result.failed) == (5, 4, 1, 0)
    names = media_files(out) - {"errors_urls.log", "errors_urls.jsonl"}
    assert "photo.jpg" in names and "img.jpg" in names and "escape.jpg" in names
    assert len(names) == 4 and any(n.startswith("photo-") for n in names)
    assert fault_server.hits("/a/photo.jpg") == 1
    rows = workspace.catalog.items(key_prefix="url:")
    assert len(rows) == 4 and all(r.status == "done" for r in rows)
    assert {Path(r.path).name for r in rows} == names


def test_loopback_is_refused_unless_allowed(fault_server: FaultServer, tmp_path: Path) -> None:
    url = fault_server.route("/e.jpg", Reply(body=JPEG))
    settings = fast_settings(tmp_path / "ws", allow_private=False)
    _result, items = _run(tmp_path, [study_row(url, "53_E_1.jpg")], settings=settings)
    assert items["study:53:53_E_1.jpg"].error_class == "unsafe_url"
    assert fault_server.hits("/e.jpg") == 0


@pytest.mark.parametrize(
    "location",
    ["http://[::1]:{port}/target.jpg",
     "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "http://127.0.0.2:{port}/x"],
)  # fmt: skip
def test_every_redirect_hop_is_checked_on_the_address_connected_to(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, location: str
) -> None:
    from vigie.net import policy

    # Only 127.0.0.1 plays "the public internet" here; every other address is private.
    monkeypatch.setattr(policy, "address_allowed", lambda addr, allow: addr == "127.0.0.1")
    fault_server.route("/target.jpg", Reply(body=JPEG))
    start = fault_server.route(
        "/start.jpg",
        Reply(status=302, headers={"Location": location.format(port=fault_server.port)}),
    )
    settings = fast_settings(tmp_path / "ws", allow_private=False)
    _result, items = _run(tmp_path, [study_row(start, "53_R_1.jpg")], settings=settings)
    row = items["study:53:53_R_1.jpg"]
    assert row.status == "failed" and row.error_class == "unsafe_url", row.error
    assert fault_server.hits("/start.jpg") == 1 and fault_server.hits("/target.jpg") == 0


def test_redirects_are_followed_to_an_allowed_host(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    fault_server.route("/final.jpg", Reply(body=JPEG))
    start = fault_server.route("/go", Reply(status=301, headers={"Location": "/final.jpg"}))
    loop = fault_server.route("/loop", Reply(status=302, headers={"Location": "/loop"}))
    _result, items = _run(tmp_path, [study_row(start, "53_G_1.jpg"), study_row(loop, "53_L_1.jpg")])
    assert items["study:53:53_G_1.jpg"].status == "done"
    assert items["study:53:53_L_1.jpg"].error_class == "too_many_redirects"


def test_refused_connection_is_retried_then_failed(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result, items = _run(tmp_path, [study_row(f"http://127.0.0.1:{port}/x.jpg", "53_N_1.jpg")])
    row = items["study:53:53_N_1.jpg"]
    assert row.error_class == "connection" and row.attempts == 4
    assert result.items[0].status is ItemStatus.FAILED


def test_seed_link_files_with_a_study_get_the_seed_names_and_folders(
    fault_server: FaultServer, workspace: Workspace, tmp_path: Path
) -> None:
    video = write_video(tmp_path / "v.mp4", frames=5, width=64, height=48).read_bytes()
    aws = tmp_path / "aws_links.txt"
    aws.write_text(
        fault_server.route("/IG1_1.jpg", Reply(body=JPEG))
        + "\n"
        + fault_server.route("/FB2_2.mp4", Reply(body=video))
        + "\n"
    )
    settings = fast_settings(workspace.root)
    result = download(
        study=53,
        urls=aws,
        out=tmp_path / "data",
        settings=settings,
        catalog=workspace.catalog,
        purpose="media_analysis",
    )
    assert result.done == 2
    assert (tmp_path / "data" / "images_53" / "53_IG1_1.jpg").exists()
    assert (tmp_path / "data" / "videos_53" / "53_FB2_2.mp4").exists()
    assert (tmp_path / "data" / "errors_53.log").exists()
    again = download(
        study=53,
        urls=aws,
        out=tmp_path / "data",
        settings=settings,
        catalog=workspace.catalog,
        purpose="media_analysis",
    )
    assert again.skipped == 2 and fault_server.hits("/IG1_1.jpg") == 1


def test_binary_or_empty_url_lists_are_clear_errors(tmp_path: Path) -> None:
    from vigie.download import read_manifest, read_url_list
    from vigie.errors import SourceError

    binary = tmp_path / "urls.bin"
    binary.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)))
    with pytest.raises(SourceError, match="not a text URL list"):
        read_url_list(binary, tmp_path / "out")
    comments = tmp_path / "urls.txt"
    comments.write_text("# nothing here\n\n")
    with pytest.raises(SourceError, match="holds no URL"):
        read_url_list(comments, tmp_path / "out")
    header_only = tmp_path / "links.csv"
    header_only.write_text("study_id,platform_id,publication_id,media_type,url,filename\n")
    with pytest.raises(SourceError, match="lists no link"):
        read_manifest(header_only)


def test_cli_download_of_an_empty_manifest_says_nothing_to_download(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vigie.cli import app

    manifest = tmp_path / "links.csv"
    manifest.write_text("study_id,platform_id,publication_id,media_type,url,filename\n")
    result = CliRunner().invoke(
        app, ["-w", str(tmp_path), "download", "--manifest", str(manifest), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "nothing to download" in result.output
    assert "Traceback" not in result.output
