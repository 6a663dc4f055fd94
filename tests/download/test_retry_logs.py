"""--retry-failed from the failure logs alone, logs that lose nothing, and a fallback that never
copies another media (reliability promise 16)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.download.helpers import fast_settings, media_files, study_row, write_manifest
from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes
from vigie.catalog import Catalog
from vigie.cli import app
from vigie.download import download
from vigie.download.failures import parse_log_line, read_failure_logs

runner = CliRunner()
JPEG = jpeg_bytes(96, 64, seed=3)


def _logged(out: Path) -> tuple[list[str], list[str]]:
    """The file names of errors_53.jsonl and the URLs of errors_53.log."""
    jsonl = [json.loads(x)["filename"] for x in (out / "errors_53.jsonl").read_text().splitlines()]
    text = [line.split("\t")[0] for line in (out / "errors_53.log").read_text().splitlines()]
    return jsonl, text


def test_retry_from_a_fresh_workspace_with_only_the_media_folder(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    ok = fault_server.route("/A_1.jpg", Reply(body=JPEG))
    flaky = fault_server.route("/B_1.jpg", Reply(status=404), Reply(body=JPEG))
    dead = fault_server.route("/C_1.jpg", Reply(status=410))
    rows = [study_row(ok, "53_A_1.jpg"), study_row(flaky, "53_B_1.jpg"),
            study_row(dead, "53_C_1.jpg")]  # fmt: skip
    out = tmp_path / "media"
    first = download(study=53, manifest=write_manifest(tmp_path / "m.jsonl", rows), out=out,
                     settings=fast_settings(tmp_path / "ws1"))  # fmt: skip
    assert (first.done, first.failed) == (1, 2)
    assert sorted(_logged(out)[0]) == ["53_B_1.jpg", "53_C_1.jpg"]

    # a new workspace (no catalog record at all), the media folder with its logs, the seed's call
    res = runner.invoke(
        app,
        ["-w", str(tmp_path / "ws2"), "download", "--study", "53", "--retry-failed",
         "--out", str(out), "--allow-private-networks"],
    )  # fmt: skip
    assert res.exit_code == 3, res.output  # C_1 is gone for good
    assert fault_server.hits("/A_1.jpg") == 1  # only what the logs list was tried
    assert media_files(out / "dataset_53") == {"53_A_1.jpg", "53_B_1.jpg"}
    assert _logged(out) == (["53_C_1.jpg"], [dead])  # exactly what still fails
    with Catalog(f"sqlite:///{tmp_path / 'ws2' / 'vigie.db'}") as cat:
        row = cat.item("study:53:53_B_1.jpg")
        assert row is not None and row.status == "done"
        assert (row.study_id, row.publication_id, row.platform_id) == (53, "B", 1)


def test_the_seeds_plain_log_lines_are_retried_and_kept_until_they_succeed(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    url_only = fault_server.route("/s3/P_1.jpg", Reply(body=JPEG))
    with_name = fault_server.route("/s3/Q_2.jpg", Reply(body=JPEG))
    still_bad = fault_server.route("/s3/R_1.jpg", Reply(status=404))
    out = tmp_path / "seed"
    out.mkdir()
    (out / "errors_53.log").write_text(
        f"{url_only}\n{with_name} 53_Q_2.jpg\n\n{still_bad}\t53_R_1.jpg\thttp_404: gone\n"
    )
    result = download(study=53, retry_failed=True, out=out, settings=fast_settings(tmp_path / "w"))
    assert (result.total, result.done, result.failed) == (3, 2, 1)
    assert media_files(out / "dataset_53") == {"53_P_1.jpg", "53_Q_2.jpg"}
    assert _logged(out) == (["53_R_1.jpg"], [still_bad])
    assert read_failure_logs(out, "53")[0].error_class == "http_404"


def test_a_run_never_drops_log_entries_it_did_not_retry(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    gone = fault_server.route("/G_1.jpg", Reply(status=404))
    settings = fast_settings(tmp_path / "ws")
    download(study=53, manifest=write_manifest(tmp_path / "a.jsonl", [study_row(gone, "53_G_1.jpg")]),
             out=out, settings=settings)  # fmt: skip
    other = fault_server.route("/H_1.jpg", Reply(body=JPEG))
    second = download(
        study=53, manifest=write_manifest(tmp_path / "b.jsonl", [study_row(other, "53_H_1.jpg")]),
        out=out, settings=settings,
    )  # fmt: skip
    assert second.failed == 0
    assert _logged(out) == (["53_G_1.jpg"], [gone])  # another manifest: G_1 still listed


def test_the_jpg_fallback_never_copies_another_media_of_the_publication(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    photo = fault_server.route("/PV_1.jpg", Reply(body=JPEG))
    video = fault_server.route("/PV_1.mp4", Reply(status=404))  # the post's video: gone
    tweet = fault_server.route("/tw/v.mp4", Reply(status=404))  # a tweet's video: its poster
    fault_server.route("/tw/v.jpg", Reply(body=jpeg_bytes(96, 64, seed=8)))
    rows = [
        study_row(photo, "53_PV_1.jpg"),
        study_row(video, "53_PV_1_2.mp4", kind="video"),
        {**study_row(tweet, "53_T9_3.mp4", kind="video"), "publication_id": "T9"},
    ]
    rows[1]["publication_id"] = "PV"
    manifest = write_manifest(tmp_path / "m.jsonl", rows)
    out, settings = tmp_path / "out", fast_settings(tmp_path / "ws")
    download(study=53, manifest=manifest, out=out, settings=settings)
    again = download(study=53, manifest=manifest, out=out, settings=settings, retry_failed=True)
    assert again.done == 1 and again.failed == 1
    assert media_files(out / "dataset_53") == {"53_PV_1.jpg", "53_T9_3.jpg"}  # no 53_PV_1_2.jpg
    assert fault_server.hits("/PV_1.jpg") == 1
    # from the logs alone (a fresh workspace) the rule holds too: the n-th S3 media has no .jpg
    fresh = download(study=53, retry_failed=True, out=out, settings=fast_settings(tmp_path / "w2"))
    assert (fresh.total, fresh.failed) == (1, 1) and fault_server.hits("/PV_1.jpg") == 1


def test_retry_with_neither_catalog_links_nor_logs_is_a_one_line_error(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["-w", str(tmp_path), "download", "--study", "53", "--retry-failed", "--out", "d"]
    )
    assert res.exit_code == 1
    assert "nothing to retry" in res.output and "errors_53.log" in res.output


def test_log_lines_of_every_shape_parse() -> None:
    vigie = parse_log_line("https://h/x.mp4?a=1\t53_X_1.mp4\thttp_404: Not Found")
    assert vigie is not None
    assert (vigie.url, vigie.filename, vigie.error_class, vigie.error) == (
        "https://h/x.mp4?a=1", "53_X_1.mp4", "http_404", "Not Found",
    )  # fmt: skip
    plain = parse_log_line("Echec: https://h/y.jpg, 53_Y_1.jpg")
    assert plain is not None and (plain.url, plain.filename) == ("https://h/y.jpg", "53_Y_1.jpg")
    assert parse_log_line("no url here") is None


def test_a_logged_item_whose_link_changed_is_retried_from_the_new_link(
    fault_server: FaultServer, tmp_path: Path
) -> None:
    # presigned links change at every `vigie links`: the log's URL is stale, its file name is not
    new = fault_server.route("/new/A_1.jpg", Reply(body=JPEG))
    out = tmp_path / "out"
    out.mkdir()
    (out / "errors_53.log").write_text(
        "https://old.example/A_1.jpg?X-Amz-Signature=1\t53_A_1.jpg\n"
    )
    manifest = write_manifest(tmp_path / "m.jsonl", [study_row(new, "53_A_1.jpg")])
    result = download(study=53, manifest=manifest, retry_failed=True, out=out,
                      settings=fast_settings(tmp_path / "ws"))  # fmt: skip
    assert (result.total, result.done) == (1, 1) and fault_server.hits("/new/A_1.jpg") == 1
    assert (out / "errors_53.log").read_text() == ""
