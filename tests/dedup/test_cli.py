"""The documented ``vigie dedup`` examples, run with CliRunner."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.dedup.test_find_duplicates import make_folder
from vigie.catalog import Catalog
from vigie.cli import app

runner = CliRunner()


def test_cli_dedup_reports_groups_without_moving(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "imgs")
    res = runner.invoke(app, ["-w", str(tmp_path), "dedup", str(folder), "--threshold", "2"])
    assert res.exit_code == 3, res.output  # one unreadable image: finished with failures
    assert "a.jpg" in res.output
    assert "5 images, 1 groups, 2 duplicates, 1 unreadable" in res.output
    assert (folder / "b.jpg").exists()
    with Catalog(f"sqlite:///{tmp_path / 'vigie.db'}") as cat:
        run = cat.last_runs("dedup")[0]
        assert run.status == "done" and run.counts["duplicates"] == 2


def test_cli_dedup_move_to(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "imgs")
    aside = tmp_path / "duplicates"
    res = runner.invoke(
        app,
        ["-w", str(tmp_path), "dedup", str(folder), "--threshold", "2", "--move-to", str(aside)],
    )
    assert res.exit_code == 3, res.output
    assert "moved 2" in res.output
    assert sorted(p.relative_to(aside).as_posix() for p in aside.rglob("*.jpg")) == [
        "b.jpg",
        "sub/c.jpg",
    ]


def test_cli_dedup_hash_and_no_recursive(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "imgs")
    res = runner.invoke(
        app, ["-w", str(tmp_path), "dedup", str(folder), "--hash", "dhash", "--no-recursive"]
    )
    assert res.exit_code == 3, res.output
    assert "4 images" in res.output


def test_cli_dedup_missing_folder(tmp_path: Path) -> None:
    res = runner.invoke(app, ["-w", str(tmp_path), "dedup", str(tmp_path / "nope")])
    assert res.exit_code != 0


def test_cli_dedup_consecutive_move_to(tmp_path: Path) -> None:
    from tests.dedup.test_sequence import make_sequence

    folder, expected = make_sequence(tmp_path / "images")
    aside = tmp_path / "images-duplicates"
    res = runner.invoke(
        app,
        ["-w", str(tmp_path), "dedup", str(folder), "--consecutive", "--move-to", str(aside)],
    )
    assert res.exit_code == 3, res.output
    unreadable = "20250101000006.jpg"  # reported, left in place
    kept = [n for n, keep in expected if keep]
    assert sorted(p.name for p in folder.glob("*.jpg")) == [*kept, unreadable]
    assert sorted(p.name for p in aside.glob("*.jpg")) == [n for n, keep in expected if not keep]
