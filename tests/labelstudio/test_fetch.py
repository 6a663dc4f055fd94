"""Image references without a Label Studio server: S3, foreign hosts, bad bodies, local files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes, png_bytes
from vigie.errors import ConfigError, UnsafeURLError
from vigie.labelstudio import pull
from vigie.labelstudio.fetch import FetchError, ImageFetcher, check_image_bytes


def test_s3_reference_is_fetched_with_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    with mock_aws():
        import boto3

        s3 = boto3.client("s3", region_name="eu-west-3")
        s3.create_bucket(
            Bucket="frames", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
        )
        s3.put_object(Bucket="frames", Key="cam/a.png", Body=png_bytes(seed=2))
        fetcher = ImageFetcher(None, None)
        assert fetcher.fetch("s3://frames/cam/a.png") == png_bytes(seed=2)
        with pytest.raises(FetchError, match="S3"):
            fetcher.fetch("s3://frames/missing.png")
        fetcher.close()


def test_foreign_private_address_is_refused_unless_allowed(fault_server: FaultServer) -> None:
    url = fault_server.route("/a.jpg", Reply(body=jpeg_bytes()))
    fetcher = ImageFetcher(None, "http://labelstudio.invalid")
    with pytest.raises(UnsafeURLError):
        fetcher.fetch(url)
    assert fault_server.hits("/a.jpg") == 0
    allowed = ImageFetcher(None, "http://labelstudio.invalid", allow_private=True)
    assert allowed.fetch(url) == jpeg_bytes()
    fetcher.close()
    allowed.close()


def test_html_error_page_and_truncated_jpeg_are_not_images() -> None:
    with pytest.raises(FetchError, match="not a valid image"):
        check_image_bytes(b"<html>login</html>")
    with pytest.raises(FetchError):
        check_image_bytes(jpeg_bytes()[:200])
    with pytest.raises(FetchError, match="empty"):
        check_image_bytes(b"")


def test_pull_export_counts_failures_and_keeps_going(
    tmp_path: Path, fault_server: FaultServer
) -> None:
    good = fault_server.route("/good.jpg", Reply(body=jpeg_bytes()))
    html = fault_server.route("/html.jpg", Reply(body=b"<html>oops</html>"))
    gone = fault_server.route("/gone.jpg", Reply(status=404))
    root = tmp_path / "docroot"
    (root / "cam").mkdir(parents=True)
    (root / "cam" / "local.jpg").write_bytes(jpeg_bytes(seed=5))
    items = [
        {"id": i, "data": {"image": ref}, "annotations": [{"id": i, "result": []}]}
        for i, ref in enumerate([good, html, gone, "/data/local-files/?d=cam/local.jpg"], 1)
    ]
    items.append({"id": 9, "data": {}, "annotations": []})  # malformed: reported, skipped
    export = tmp_path / "export.json"
    export.write_text(json.dumps(items))
    res = pull(
        tmp_path / "out", export_file=export, labels=["Car"], allow_private=True, document_root=root
    )
    assert (res.labelled, res.downloaded, res.failed) == (4, 2, 2)
    assert res.downloaded + res.present + res.failed == res.labelled
    assert res.labelled + res.unannotated + res.cancelled + len(res.malformed) == res.tasks
    assert [w for w, _ in res.malformed] == ["task 9"]
    assert sorted(p.name for p in (tmp_path / "out" / "images").iterdir()) == [
        "good.jpg",
        "local.jpg",
    ]
    assert sorted(p.name for p in (tmp_path / "out" / "labels").iterdir()) == [
        "good.txt",
        "local.txt",
    ]
    assert not list((tmp_path / "out").rglob("*.part"))
    again = pull(
        tmp_path / "out", export_file=export, labels=["Car"], allow_private=True, document_root=root
    )
    assert (again.present, again.downloaded) == (2, 0)
    assert fault_server.hits("/good.jpg") == 1


def test_uploaded_files_are_read_from_the_media_root(tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / "upload" / "3").mkdir(parents=True)
    (media / "upload" / "3" / "ab12-cam.jpg").write_bytes(jpeg_bytes(seed=4))
    (tmp_path / "secret.jpg").write_bytes(jpeg_bytes(seed=5))
    fetcher = ImageFetcher(None, "http://ls.invalid:8080", media_root=media)
    for ref in (
        "/data/upload/3/ab12-cam.jpg",
        "/storage-data/uploaded/?filepath=upload/3/ab12-cam.jpg",
        "upload/3/ab12-cam.jpg",  # the seed's bare form
        "http://ls.invalid:8080/data/upload/3/ab12-cam.jpg",  # absolute, on the server
    ):
        assert fetcher.fetch(ref) == jpeg_bytes(seed=4), ref
    # not in the media root, or not an uploaded file: the server's to serve (none here)
    for ref in (
        "/data/upload/3/missing.jpg",
        "/data/upload/3/../../../secret.jpg",
        "/data/upload/x/../../secret.jpg",
    ):
        with pytest.raises(FetchError, match="needs the Label Studio server"):
            fetcher.fetch(ref)
    fetcher.close()


def test_pull_with_a_media_root_needs_no_server_and_refuses_a_wrong_folder(
    tmp_path: Path,
) -> None:
    media = tmp_path / "ls-data" / "media"
    (media / "upload" / "1").mkdir(parents=True)
    (media / "upload" / "1" / "9f-a.jpg").write_bytes(jpeg_bytes(seed=6))
    items = [
        {
            "id": 1,
            "file_upload": "9f-a.jpg",
            "data": {"image": "/data/upload/1/9f-a.jpg"},
            "annotations": [{"id": 1, "result": []}],
        }
    ]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(items))
    res = pull(tmp_path / "out", export_file=export, labels=["Car"], media_root=media)
    assert (res.downloaded, res.failed) == (1, 0)
    assert (tmp_path / "out" / "images" / "9f-a.jpg").read_bytes() == jpeg_bytes(seed=6)
    with pytest.raises(ConfigError, match="no upload/ folder"):
        pull(tmp_path / "o2", export_file=export, labels=["Car"], media_root=media.parent)


def test_the_media_folder_of_a_local_server_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vigie.labelstudio.pull import local_media_root

    monkeypatch.setenv("LABEL_STUDIO_BASE_DATA_DIR", str(tmp_path))
    assert local_media_root("http://127.0.0.1:8080") is None  # no upload/ yet
    (tmp_path / "media" / "upload").mkdir(parents=True)
    assert local_media_root("http://127.0.0.1:8080") == tmp_path / "media"
    assert local_media_root("http://localhost:8080/") == tmp_path / "media"
    assert local_media_root("https://labelstudio.example.org") is None  # another machine's
