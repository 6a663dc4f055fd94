"""End to end through the CLI: MariaDB study -> vigie links -> vigie download (fault server, S3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes, write_video
from tests.fixtures.studydb import EXPECTED_IMAGES, EXPECTED_VIDEOS, StudyDB
from vigie.catalog import Catalog
from vigie.cli import app

runner = CliRunner()


def _serve_study(server: FaultServer, tmp_path: Path) -> None:
    """Every link of the fixture study answered by the fault server (S3 keys and Twitter)."""
    video = write_video(tmp_path / "v.mp4", frames=12, fps=6, width=64, height=48).read_bytes()
    for i, name in enumerate(["IG1_1", "IG2_1", "FB1_2", "IG5_1"]):
        server.route(f"/s3/{name}.jpg", Reply(body=jpeg_bytes(64, 48, seed=i)))
    server.route("/s3/FB2_2.mp4", Reply(body=video))
    server.route("/s3/TT1_4.mp4", Reply(status=404))  # gone: its .jpg sibling exists
    server.route("/s3/TT1_4.jpg", Reply(body=jpeg_bytes(64, 48, seed=9)))
    server.route("/tw/tw1.jpg", Reply(status=503), Reply(body=jpeg_bytes(64, 48, seed=10)))
    server.route("/tw/tw2.mp4", Reply(body=video))
    server.route("/tw/tw4a.jpg", Reply(body=jpeg_bytes(64, 48, seed=11)))
    server.route("/tw/tw4b.jpg", Reply(body=b"<html>removed</html>"))


@pytest.mark.mariadb
def test_links_then_download_a_study_end_to_end(
    fault_server: FaultServer,
    study_db_factory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    db: StudyDB = study_db_factory(fault_server.url("/tw/"))
    _serve_study(fault_server, tmp_path)
    ws, out = tmp_path / "ws", tmp_path / "links"
    monkeypatch.setenv("VIGIE_LINKS__S3_URL_TEMPLATE", fault_server.url("/s3/{key}"))
    monkeypatch.setenv("VIGIE_DOWNLOAD__BACKOFF_BASE", "0.01")
    res = runner.invoke(
        app,
        ["-w", str(ws), "links", "--study", "53", "--from", "2025-08-01", "--to", "2025-10-31",
         "--db", db.url, "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "image links" in res.output and "STORY" in res.output
    manifest = out / "links_53_links.jsonl"
    assert len(manifest.read_text().splitlines()) == len(EXPECTED_IMAGES | EXPECTED_VIDEOS)

    data = tmp_path / "data"
    args = ["-w", str(ws), "download", "--study", "53", "--purpose", "media_analysis",
            "--manifest", str(manifest), "--out", str(data), "--allow-private-networks"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 3, res.output  # finished, some items failed
    assert "not_media" in res.output and "http_404" in res.output
    images = {p.name for p in (data / "images_53").iterdir()}
    assert images == EXPECTED_IMAGES - {"53_TW4_3_2.jpg"}
    assert {p.name for p in (data / "videos_53").iterdir()} == {"53_FB2_2.mp4", "53_TW2_3.mp4"}
    errors = (data / "errors_53.log").read_text().splitlines()
    assert len(errors) == 2

    res = runner.invoke(app, [*args, "--retry-failed"])
    assert res.exit_code == 3, res.output  # 53_TW4_3_2.jpg is still an HTML page
    assert (data / "images_53" / "53_TT1_4.jpg").exists()
    errors = [json.loads(line) for line in (data / "errors_53.jsonl").read_text().splitlines()]
    assert [e["filename"] for e in errors] == ["53_TW4_3_2.jpg"]
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        row = cat.item("study:53:53_FB2_2.mp4")
        assert row is not None and row.status == "done" and row.frame_count == 12
        assert row.publication_id == "FB2" and row.platform_id == 2 and row.sha256
        statuses = {r.filename: r.status for r in cat.items(key_prefix="study:53:")}
    assert statuses["53_TW4_3_2.jpg"] == "failed" and statuses["53_TT1_4.mp4"] == "skipped"
    assert statuses["53_TT1_4.jpg"] == "done"


@pytest.mark.mariadb
def test_download_from_presigned_links_of_a_moto_s3_bucket(
    study_db: StudyDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client("s3", region_name="eu-west-3", endpoint_url=endpoint)
        s3.create_bucket(
            Bucket="priv", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
        )
        for i, key in enumerate(["IG1_1.jpg", "IG2_1.jpg", "FB1_2.jpg", "IG5_1.jpg"]):
            s3.put_object(Bucket="priv", Key=key, Body=jpeg_bytes(64, 48, seed=i))
        ws = tmp_path / "ws"
        res = runner.invoke(
            app,
            ["-w", str(ws), "links", "--study", "53", "--from", "2025-08-01", "--to", "2025-10-31",
             "--db", study_db.url, "--out", str(tmp_path), "--presign"],
            env={"VIGIE_LINKS__S3_BUCKET": "priv", "VIGIE_LINKS__S3_ENDPOINT_URL": endpoint},
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        # no --manifest: the study's links come from the catalog; private network allowed by env
        res = runner.invoke(
            app,
            [
                "-w",
                str(ws),
                "download",
                "--study",
                "53",
                "--out",
                str(tmp_path / "d"),
                "--retries",
                "0",
            ],
            env={"VIGIE_ALLOW_PRIVATE_NETWORKS": "1"},
        )
        assert res.exit_code == 3, res.output  # the fixture's Twitter URLs are not reachable
        got = {p.name for p in (tmp_path / "d" / "dataset_53").iterdir()}  # --purpose dataset
        assert {"53_IG1_1.jpg", "53_IG2_1.jpg", "53_FB1_2.jpg", "53_IG5_1.jpg"} <= got
    finally:
        server.stop()


def test_download_without_any_input_is_a_one_line_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["-w", str(tmp_path), "download", "--out", str(tmp_path)])
    assert res.exit_code == 1
    assert "nothing to download" in res.output and "Traceback" not in res.output


def test_download_url_list_example(fault_server: FaultServer, tmp_path: Path) -> None:
    url = fault_server.route("/pics/cat.jpg", Reply(body=jpeg_bytes()))
    urls = tmp_path / "urls.txt"
    urls.write_text(url + "\n")
    res = runner.invoke(
        app,
        ["-w", str(tmp_path / "ws"), "download", "--urls", str(urls), "--out", str(tmp_path / "downloads"),
         "--allow-private-networks"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (tmp_path / "downloads" / "cat.jpg").exists()
    assert "done" in res.output and "files/s" in res.output


def test_download_refuses_loopback_by_default_from_the_cli(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    url = fault_server.route("/pics/cat.jpg", Reply(body=jpeg_bytes()))
    urls = tmp_path / "urls.txt"
    urls.write_text(url + "\n")
    res = runner.invoke(
        app,
        ["-w", str(tmp_path / "ws"), "download", "--urls", str(urls), "--out", str(tmp_path / "d")],
    )
    assert res.exit_code == 3  # every item failed
    assert "unsafe_url" in res.output and fault_server.hits("/pics/cat.jpg") == 0


def test_links_without_db_is_a_one_line_error(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "-w",
            str(tmp_path),
            "links",
            "--study",
            "53",
            "--from",
            "2025-08-01",
            "--to",
            "2025-10-31",
        ],
    )
    assert res.exit_code == 1 and "no study database" in res.output


def test_download_dataset_example_from_a_manifest(
    fault_server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = write_video(tmp_path / "v.mp4", frames=30, fps=10, width=64, height=48).read_bytes()
    rows = [
        {"study_id": 53, "platform_id": 1, "publication_id": "A", "media_type": "image",
         "url": fault_server.route("/A_1.jpg", Reply(body=jpeg_bytes())), "filename": "53_A_1.jpg"},
        {"study_id": 53, "platform_id": 1, "publication_id": "B", "media_type": "video",
         "url": fault_server.route("/B_1.mp4", Reply(body=video)), "filename": "53_B_1.mp4"},
    ]  # fmt: skip
    Path("links_53_links.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setenv("VIGIE_ALLOW_PRIVATE_NETWORKS", "1")
    res = runner.invoke(
        app,
        ["download", "--study", "53", "--purpose", "dataset", "--manifest", "links_53_links.jsonl",
         "--out", "data"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    dataset = Path("data") / "dataset_53"
    assert (dataset / "53_A_1.jpg").exists()
    assert len(list(dataset.glob("53_B_1*.jpg"))) == 20  # about 20 evenly spaced frames
    assert (Path("data") / "videos_53" / "53_B_1.mp4").exists()
    res = runner.invoke(
        app, ["download", "--study", "53", "--purpose", "media_analysis", "--retry-failed"]
    )
    assert res.exit_code == 0, res.output
    assert "input items" in res.output
