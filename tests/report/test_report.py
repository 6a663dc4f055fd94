"""The HTML report: built from catalog rows, checked in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.common import Workspace
from tests.report.conftest import check_in_chromium, fill_catalog, screenshot
from vigie.cli import app
from vigie.report import build_report, read_results_csv
from vigie.report.svg import nice_ticks

# Where to keep the screenshot after the run (a CI artifact folder); else it stays in tmp_path.
ARTIFACTS = os.environ.get("VIGIE_TEST_ARTIFACTS")


def test_report_renders_every_chart_and_image_in_chromium(
    workspace: Workspace, chromium: str, tmp_path: Path
) -> None:
    fill_catalog(workspace)
    index = build_report(workspace.catalog, tmp_path / "report")
    check = check_in_chromium(chromium, index, tmp_path)
    assert check["badImages"] == [] and check["badCharts"] == []
    assert check["images"] >= 4  # samples from the camera and the study
    # camera over time, study sizes, a track timeline, 2 training charts, health
    assert check["charts"] >= 6
    shot = screenshot(chromium, index, tmp_path / "report.png", tmp_path)
    assert shot.stat().st_size > 20_000
    if ARTIFACTS:  # for a human look after the run
        Path(ARTIFACTS).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(ARTIFACTS) / "report.png")


def test_report_shows_each_section_from_the_catalog(workspace: Workspace, tmp_path: Path) -> None:
    fill_catalog(workspace)
    html = build_report(workspace.catalog, tmp_path / "r").read_text()
    cameras = html.split('id="cameras"')[1].split("</section>")[0]
    assert "CAM1" in cameras and "12 kept snapshots" in cameras and "demo-model" in cameras
    studies = html.split('id="studies"')[1].split("</section>")[0]
    assert "instagram" in studies and "facebook" in studies and "medium" in studies
    tracks = html.split('id="tracks"')[1].split("</section>")[0]
    assert "53_v1_3.mp4" in tracks and "Pedestrian" in tracks and "tracks of" in tracks
    models = html.split('id="models"')[1].split("</section>")[0]
    assert "mAP50-95" in models and "losses of demo-model" in models
    health = html.split('id="health"')[1].split("</section>")[0]
    assert "duplicate" in health and "http_404" in health and "not_media" in health
    assert len(list((tmp_path / "r" / "img").glob("sample_*.jpg"))) >= 4


def test_report_opens_from_disk_without_any_external_resource(
    workspace: Workspace, tmp_path: Path
) -> None:
    fill_catalog(workspace)
    index = build_report(workspace.catalog, tmp_path / "r")
    html = index.read_text()
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html)) - {"http://www.w3.org/2000/svg"}
    assert not urls
    links = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url\(([^)]*)\)", html)
    assert all(not re.match(r"^(?:[a-z]+:|//)", link) for link in links), links
    assert "<script" not in html
    for src in re.findall(r'src="([^"]+)"', html):
        assert (index.parent / src).is_file()


def test_report_of_an_empty_catalog_says_no_data_yet(workspace: Workspace, tmp_path: Path) -> None:
    html = build_report(workspace.catalog, tmp_path / "r").read_text()
    assert html.count("no data yet") == 7
    assert "<svg" not in html


def test_report_reads_ultralytics_results_csv_with_padded_headers(tmp_path: Path) -> None:
    csv = tmp_path / "results.csv"
    csv.write_text(
        "  epoch,  train/box_loss,  metrics/mAP50(B)\n  1,  2.5,  0.1\n  2,  2.0,  0.3\n"
    )
    curves = read_results_csv(csv)
    assert curves["train/box_loss"] == [(1.0, 2.5), (2.0, 2.0)]
    assert curves["metrics/mAP50(B)"][-1] == (2.0, 0.3)
    assert read_results_csv(tmp_path / "missing.csv") == {}


def test_nice_ticks_cover_the_range_with_round_steps() -> None:
    assert nice_ticks(0, 10) == [0, 2, 4, 6, 8, 10]
    ticks = nice_ticks(0, 0.37)
    assert ticks[0] == 0 and ticks[-1] >= 0.37


def test_cli_report_writes_the_page_and_prints_a_summary(
    workspace: Workspace, tmp_path: Path
) -> None:
    fill_catalog(workspace)
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["-w", str(workspace.root), "report", "--out", str(out), "--title", "Lyon, week 3"]
    )
    assert result.exit_code == 0, result.output
    assert "<title>Lyon, week 3</title>" in (out / "index.html").read_text()
    assert "sample images" in result.output


def test_cli_report_defaults_to_the_workspace_report_folder(workspace: Workspace) -> None:
    result = CliRunner().invoke(app, ["-w", str(workspace.root), "report", "--samples", "0"])
    assert result.exit_code == 0, result.output
    assert (workspace.root / "report" / "index.html").is_file()


def test_cli_report_refuses_a_negative_sample_count(workspace: Workspace) -> None:
    result = CliRunner().invoke(app, ["-w", str(workspace.root), "report", "--samples", "-1"])
    assert result.exit_code == 2


def test_report_shows_metrics_of_a_model_whose_run_folder_is_gone(
    workspace: Workspace, tmp_path: Path
) -> None:
    from vigie.catalog.models import register_model

    register_model(
        workspace.catalog,
        "moved",
        tmp_path / "elsewhere" / "weights" / "best.pt",
        metrics={"all": {"mAP50": 0.61}, "per_class": {"Car": {"mAP50": 0.7}}},
    )
    html = build_report(workspace.catalog, tmp_path / "r").read_text()
    models = html.split('id="models"')[1].split("</section>")[0]
    assert "moved" in models and "0.61" in models and "no data yet" in models
    assert "<td>Car</td>" in models


@pytest.mark.mariadb
def test_report_reads_a_mariadb_catalog_like_sqlite(mysql_db: str, tmp_path: Path) -> None:
    from vigie.catalog import Catalog
    from vigie.config import load_settings

    root = tmp_path / "ws"
    root.mkdir()
    settings = load_settings(workspace=root, catalog_url=mysql_db)
    catalog = Catalog(mysql_db)
    try:
        fill_catalog(Workspace(root, settings, catalog))
        html = build_report(catalog, tmp_path / "r").read_text()
    finally:
        catalog.close()
    assert "no data yet" not in html
    assert "12 kept snapshots" in html and "http_404" in html and "53_v1_3.mp4" in html


def test_cli_report_into_a_file_is_one_clear_error(workspace: Workspace, tmp_path: Path) -> None:
    blocker = tmp_path / "report"
    blocker.write_text("a file, not a folder")
    result = CliRunner().invoke(app, ["-w", str(workspace.root), "report", "--out", str(blocker)])
    assert result.exit_code == 1
    assert "cannot write the report folder" in result.output
    assert "Traceback" not in result.output


def _platform_db(tmp_path: Path) -> str:
    from sqlalchemy import create_engine

    from vigie.studydb import create_schema, plateforms

    url = f"sqlite:///{tmp_path / 'study.db'}"
    engine = create_engine(url)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            plateforms.insert(),
            [{"id_plateform": 1, "name": "instagram"}, {"id_plateform": 3, "name": "twitter"}],
        )
    engine.dispose()
    return url


def test_report_names_platforms_from_the_study_database(
    workspace: Workspace, tmp_path: Path
) -> None:
    fill_catalog(workspace)
    url = _platform_db(tmp_path)
    html = build_report(workspace.catalog, tmp_path / "r", study_db_url=url).read_text()
    studies = html.split('id="studies"')[1].split("</section>")[0]
    assert "53 · twitter" in studies  # the video's platform, named by the study database


def test_cli_report_takes_platform_names_from_db(workspace: Workspace, tmp_path: Path) -> None:
    fill_catalog(workspace)
    db = _platform_db(tmp_path)
    out = tmp_path / "r"
    result = CliRunner().invoke(
        app, ["-w", str(workspace.root), "report", "--out", str(out), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "53 · twitter" in (out / "index.html").read_text()


def test_report_without_a_reachable_study_database_still_builds(
    workspace: Workspace, tmp_path: Path
) -> None:
    fill_catalog(workspace)
    url = "mysql+pymysql://nobody@127.0.0.1:1/none"
    html = build_report(workspace.catalog, tmp_path / "r", study_db_url=url).read_text()
    assert "53 · platform 3" in html
