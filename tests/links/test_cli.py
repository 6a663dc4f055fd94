"""`vigie links` examples of the help text and docs/links.md, run through CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.studydb import EXPECTED_IMAGES, EXPECTED_VIDEOS, StudyDB
from vigie.cli import app

runner = CliRunner()


@pytest.mark.mariadb
def test_links_example_with_database_from_the_environment(
    study_db: StudyDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_STUDY_DB_URL", study_db.url)
    monkeypatch.setenv("VIGIE_LINKS__S3_BUCKET", "my-bucket")
    res = runner.invoke(
        app, ["links", "--study", "53", "--from", "2025-08-01", "--to", "2025-10-31"]
    )
    assert res.exit_code == 0, res.output
    cwd = Path.cwd()
    assert (cwd / "images_53_links" / "aws_links.txt").exists()
    assert (cwd / "videos_53_links" / "twitter_links.txt").exists()
    lines = (cwd / "links_53_links.jsonl").read_text().splitlines()
    assert len(lines) == len(EXPECTED_IMAGES | EXPECTED_VIDEOS)
    assert "TW3" in res.output  # the Twitter row without URL is reported
    # rerun: same files, no new catalog rows
    res = runner.invoke(
        app, ["links", "--study", "53", "--from", "2025-08-01", "--to", "2025-10-31"]
    )
    assert res.exit_code == 0
    assert (cwd / "links_53_links.jsonl").read_text().splitlines() == lines


@pytest.mark.mariadb
def test_links_example_with_db_out_and_csv(study_db: StudyDB) -> None:
    res = runner.invoke(
        app,
        ["links", "--study", "53", "--from", "2025-08-01", "--to", "2025-10-31",
         "--db", study_db.url, "--out", "links", "--format", "csv", "--s3-bucket", "b"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (Path("links") / "links_53_links.csv").read_text().startswith("study_id,platform_id")


def test_links_rejects_a_bad_date_in_one_line(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "links",
            "--study",
            "53",
            "--from",
            "01/08/2025",
            "--to",
            "2025-10-31",
            "--db",
            "sqlite://",
        ],
    )
    assert res.exit_code == 1 and "not a date" in res.output and "Traceback" not in res.output


def test_links_on_an_unreachable_database_is_a_one_line_error() -> None:
    res = runner.invoke(
        app,
        ["links", "--study", "53", "--from", "2025-08-01", "--to", "2025-10-31",
         "--db", "mysql+pymysql://nobody@127.0.0.1:1/none"],
    )  # fmt: skip
    assert res.exit_code == 1 and "cannot connect to the study database" in res.output
