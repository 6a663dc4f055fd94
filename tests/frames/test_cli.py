"""Every documented `vigie frames` / `vigie probe` example, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fixtures.media import write_video
from tests.frames.videos import write_audio_only
from vigie.catalog import Catalog
from vigie.cli import app

runner = CliRunner()


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_video(tmp_path / "clip.mp4", frames=80, fps=10)


def invoke(tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["-w", str(tmp_path / "ws"), *args], input=stdin)
    return result.exit_code, " ".join(result.output.split())  # rich wraps at 80 columns


def test_frames_step_example(tmp_path: Path, clip: Path) -> None:
    code, out = invoke(tmp_path, "frames", str(clip), "--mode", "step", "--value", "10")
    assert code == 0, out
    files = sorted((tmp_path / "ws" / "frames" / "clip").glob("*.jpg"))
    assert len(files) == 8
    assert "8 frames written" in out
    cat = Catalog(f"sqlite:///{tmp_path / 'ws' / 'vigie.db'}")
    assert len(cat.items(kind="frame")) == 8
    assert cat.last_runs("frames")[0].status == "done"
    cat.close()


def test_frames_of_one_video_with_ray_runs_here_and_says_so(tmp_path: Path, clip: Path) -> None:
    # no cluster is joined for one video: the note says why, the frames are the same
    code, out = invoke(
        tmp_path, "frames", str(clip), "--mode", "step", "--value", "10", "--ray", "auto"
    )
    assert code == 0, out
    assert "one video runs here" in out
    assert len(list((tmp_path / "ws" / "frames" / "clip").glob("*.jpg"))) == 8


def test_frames_time_range_example(tmp_path: Path, clip: Path) -> None:
    code, out = invoke(
        tmp_path,
        "frames",
        str(clip),
        "--mode",
        "time",
        "--value",
        "2.5",
        "--start",
        "1",
        "--end",
        "6",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 0, out
    names = sorted(p.name for p in (tmp_path / "o" / "clip").glob("*.jpg"))
    assert names == [
        "clip_time2.5s-from1s-to6s_f000010_1.000s.jpg",
        "clip_time2.5s-from1s-to6s_f000035_3.500s.jpg",
        "clip_time2.5s-from1s-to6s_f000060_6.000s.jpg",
    ]


def test_frames_percentage_random_example(tmp_path: Path, clip: Path) -> None:
    args = ["frames", str(clip), "--mode", "percentage", "--value", "5", "--strategy", "random"]
    code, out = invoke(tmp_path, *args, "--seed", "1", "--out", str(tmp_path / "o"))
    assert code == 0, out
    assert len(list((tmp_path / "o" / "clip").glob("*.jpg"))) == 4


def test_frames_folder_example(tmp_path: Path) -> None:
    folder = tmp_path / "videos"
    write_video(folder / "one.mp4", frames=40, fps=10)
    write_video(folder / "two.mp4", frames=40, fps=10)
    write_audio_only(folder / "voice.mp4")
    code, out = invoke(
        tmp_path,
        "frames",
        str(folder),
        "--mode",
        "time",
        "--value",
        "1",
        "--max",
        "3",
        "--format",
        "png",
        "--workers",
        "1",
    )
    assert code == 3, out  # voice.mp4 failed: finished with failures
    for name in ("one", "two"):
        assert len(list((tmp_path / "ws" / "frames" / name).glob("*.png"))) == 3
    assert "voice.mp4" in out and "failed" in out
    assert "1 videos skipped" in out


def test_frames_without_mode_and_no_terminal_names_the_missing_flags(
    tmp_path: Path, clip: Path
) -> None:
    code, out = invoke(tmp_path, "frames", str(clip))
    assert code == 1
    assert "missing --mode and --value" in out
    assert "Traceback" not in out


def test_frames_asks_the_seed_questions_on_a_terminal(
    tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("vigie.cli.common.is_interactive", lambda: True)
    # mode, value, limit to a range?, start, end, strategy
    answers = "percentage\n10\ny\n2\n5\nequal\n"
    code, out = invoke(tmp_path, "frames", str(clip), "--out", str(tmp_path / "o"), stdin=answers)
    assert code == 0, out
    assert "Extraction mode" in out and "Selection strategy" in out
    names = sorted(p.name for p in (tmp_path / "o" / "clip").glob("*.jpg"))
    assert len(names) == 3  # 10 % of the 31 frames in [2 s, 5 s]
    assert names[0] == "clip_pct10-equal-from2s-to5s_f000020_2.000s.jpg"


def test_frames_invalid_value_is_one_clear_error(tmp_path: Path, clip: Path) -> None:
    code, out = invoke(tmp_path, "frames", str(clip), "--mode", "percentage", "--value", "300")
    assert code == 1
    assert "error:" in out and "percentage" in out


def test_frames_unreadable_video_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"")
    code, out = invoke(tmp_path, "frames", str(bad), "--mode", "all")
    assert code == 1
    assert "empty" in out


def test_probe_example_shows_problems(tmp_path: Path, clip: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"")
    code, out = invoke(tmp_path, "probe", str(clip), str(bad))
    assert code == 3, out
    assert "clip.mp4" in out and "h264" in out and "80" in out
    assert "empty" in out
