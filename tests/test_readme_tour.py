"""The README's 5-minute tour is true: each of its commands runs, in order, as a user types it.

The commands are read from README.md, never copied here. The test runs them through typer's
CliRunner in a study-shaped workspace: a MariaDB study database (tests/fixtures/realstudy.py),
its media and a Grand Lyon stand-in on 127.0.0.1, a real Label Studio, and the tiny model instead
of yolo11n.pt. What differs from the user's machine is the explicit ``TOUR`` table below: each
README command has an entry (its replacements, extra flags, expected exit code and the step a
user does by hand before it, such as annotating in Label Studio). A README command without an
entry, or a shell command the table does not name, fails the test.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.fixtures import realstudy
from tests.fixtures.common import REPO, SHARED
from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes, write_video
from vigie.cli import app

pytestmark = [pytest.mark.mariadb, pytest.mark.labelstudio, pytest.mark.slow]
runner = CliRunner()
GRAND_LYON = "https://download.data.grandlyon.com/"


def tour_commands(readme: str) -> list[str]:
    """The shell commands of the README's tour block, continuation lines joined, ``&&`` split."""
    block = re.search(r"## A 5-minute tour\s+```bash\n(.*?)```", readme, re.S)
    assert block is not None, "README.md has no '## A 5-minute tour' bash block"
    text = block.group(1).replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        command: list[str] = []
        for word in [*words, "&&"]:
            if word == "&&":
                commands.append(shlex.join(command))
                command = []
            else:
                command.append(word)
    return commands


@dataclass
class Step:
    """How the test runs one README command."""

    replace: dict[str, str] = field(default_factory=dict)  # token -> token (loopback, sizes)
    append: list[str] = field(default_factory=list)  # flags for the test machine
    code: int = 0  # the exit code the command must give here
    before: Callable[[Tour], None] | None = None  # what the user does by hand first
    shell: str | None = None  # not a vigie command: why the test does not run it


@dataclass
class Tour:
    """The world the tour runs in."""

    server: FaultServer
    study: realstudy.StudyServer
    db_url: str
    ls: Any
    tiny_model: Path
    monkeypatch: Any = None
    project: int | None = None
    served: list[int] = field(default_factory=list)  # status codes of the dashboard's page
    ran: list[str] = field(default_factory=list)  # the vigie commands run, as the README has them

    def annotate_every_task(self) -> None:
        """What the user does in Label Studio's web page between push and pull."""
        from tests.labelstudio.helpers import annotate, tasks_of

        assert self.project is not None
        tasks = tasks_of(self.ls, self.project)
        assert tasks, "ls push imported nothing"
        for i, task in enumerate(tasks):
            annotate(
                self.ls, task["id"], [("Car", 10 + i % 30, 20, 30, 25), ("Bus", 55, 50, 30, 30)]
            )

    def serve_once(self) -> None:
        """`vigie serve` serves until Ctrl-C: here it serves in a thread, the test opens the
        dashboard once, then stops it (what Ctrl-C does)."""
        import httpx

        from vigie.serve import Dashboard

        def run_once(dashboard: Dashboard) -> None:
            dashboard.start()
            try:
                page = httpx.get(dashboard.url, timeout=30, follow_redirects=True)
                self.served.append(page.status_code)
            finally:
                dashboard.stop()

        self.monkeypatch.setattr(Dashboard, "run", run_once)


def _substitute(tour: Tour, words: list[str], step: Step) -> list[str]:
    out = []
    for word in words:
        word = step.replace.get(word, word)
        if word.startswith(GRAND_LYON):
            word = tour.server.url("/" + word[len(GRAND_LYON) :])
        if tour.project is not None and word == "1" and out and out[-1] == "--project":
            word = str(tour.project)
        out.append(os.path.expandvars(word))
    return out + step.append


FAST = ["--imgsz", "160", "--conf", "0.05"]
TOUR: dict[str, Step] = {
    "source .venv/bin/activate": Step(shell="the test runs in the project's environment already"),
    "vigie --help": Step(),
    "vigie demo --out demo-workspace": Step(append=["--quick"]),
    "vigie cameras list --search 'Croix Rousse'": Step(),  # the feed: VIGIE_CAPTURE__CAMERAS_SOURCE
    (
        "vigie capture --url https://download.data.grandlyon.com/files/rdata/"
        "pvo_patrimoine_voirie.pvocameracriter/CWL9018.JPG --camera CWL9018 --every 60 "
        "--count 50 --out captures"
    ): Step(replace={"60": "0.05", "50": "4"}),
    "vigie dedup captures/CWL9018 --threshold 4 --move-to captures/duplicates": Step(),
    "export VIGIE_STUDY_DB_URL=mysql+pymysql://user:pass@host/studies": Step(),
    "export VIGIE_LINKS__S3_BUCKET=my-bucket": Step(),
    "vigie links --study 53 --from 2025-08-01 --to 2025-10-31": Step(
        append=["--s3-url-template", "{s3}"]  # the bucket is the loopback server
    ),
    "vigie download --study 53 --purpose dataset": Step(
        append=["--allow-private-networks", "--frame-threshold", "20", "--retries", "0"],
        code=3,  # the study's dead links
    ),
    "vigie download --study 53 --retry-failed": Step(
        append=["--allow-private-networks", "--retries", "0"],
        code=3,  # two media stay dead
        before=lambda t: t.study.revive(),
    ),
    "vigie frames videos_to_be_cut/ --mode step --value 10 --out frames": Step(),
    "vigie frames clip.mp4 --mode time --value 2 --start 30 --end 90": Step(),
    "export LABEL_STUDIO_API_KEY=...": Step(),
    (
        "vigie ls setup --title Traffic --labels "
        "'Car,Pedestrian,Truck,Scooter,Motorbike,Bus,Bicycle,Motor Scooter'"
    ): Step(),
    "vigie ls push frames --project 1": Step(),
    "vigie ls pull --project 1 --out labelled": Step(before=Tour.annotate_every_task),
    "vigie dataset build labelled --out dataset": Step(),
    "vigie dataset check dataset": Step(),
    "vigie train --data dataset/data.yaml --model yolo11n.pt --epochs 100 --name traffic": Step(
        replace={"yolo11n.pt": "{tiny}", "100": "1"},
        append=["--imgsz", "160", "--batch", "8", "--workers", "0", "--device", "cpu"],
    ),
    "vigie detect dataset_53 --model traffic --csv --db '$VIGIE_STUDY_DB_URL'": Step(append=FAST),
    (
        "vigie track videos_53 videos_to_be_cut --model traffic --tracker vigie "
        "--db '$VIGIE_STUDY_DB_URL'"
    ): Step(append=FAST),
    "vigie report --out report": Step(),
    "xdg-open report/index.html": Step(shell="opens a browser"),
    "vigie serve -w .": Step(append=["--port", "0"], before=Tour.serve_once),
    "vigie status": Step(),
}
EXPORTS = {  # what the README's `export` lines hold on the test machine
    "VIGIE_STUDY_DB_URL": lambda t: t.db_url,
    "LABEL_STUDIO_API_KEY": lambda t: t.ls.token,
    "VIGIE_LINKS__S3_BUCKET": lambda t: "my-bucket",
}


def _run(tour: Tour, command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    step = TOUR.get(command)
    assert step is not None, (
        f"README tour command not covered by tests/test_readme_tour.py: {command}"
    )
    if step.shell is not None:
        return
    words = shlex.split(command)
    if words[0] == "export":
        name = words[1].split("=", 1)[0]
        assert name in EXPORTS, f"README exports {name}: give its test value in EXPORTS"
        monkeypatch.setenv(name, EXPORTS[name](tour))
        return
    assert words[0] == "vigie", f"not a vigie command and not in TOUR as shell: {command}"
    if step.before is not None:
        step.before(tour)
    args = [
        a.replace("{s3}", tour.study.s3_template).replace("{tiny}", str(tour.tiny_model))
        for a in _substitute(tour, words[1:], step)
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == step.code, f"{command}\n-> {shlex.join(args)}\n{res.output}"
    tour.ran.append(command)
    if words[1:3] == ["ls", "setup"]:
        found = re.search(r"project (\d+)", res.output)
        assert found is not None, res.output
        tour.project = int(found.group(1))


def test_every_tour_command_is_in_the_table_and_the_table_has_no_stale_entry() -> None:
    commands = tour_commands((REPO / "README.md").read_text(encoding="utf-8"))
    assert [c for c in commands if c not in TOUR] == []
    assert [c for c in TOUR if c not in commands] == []


@pytest.mark.timeout(2400)
def test_the_readme_tour_runs_command_by_command(
    fault_server: FaultServer,
    mysql_db: str,
    labelstudio_server: Any,
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    study = realstudy.serve(fault_server, tmp_path / "gen")
    realstudy.populate(mysql_db, fault_server.url(""))
    feed = (SHARED / "fixtures" / "grandlyon-criter-cameras.geojson").read_bytes()
    fault_server.route("/wfs/grandlyon", Reply(body=feed))
    snapshots = [Reply(body=jpeg_bytes(160, 120, seed=s)) for s in (1, 1, 2, 3)]
    fault_server.route("/files/rdata/pvo_patrimoine_voirie.pvocameracriter/CWL9018.JPG", *snapshots)
    monkeypatch.setenv("VIGIE_CAPTURE__CAMERAS_SOURCE", fault_server.url("/wfs/grandlyon"))
    monkeypatch.setenv("VIGIE_LABELSTUDIO__URL", labelstudio_server.url)
    write_video(Path("clip.mp4"), frames=190, fps=2, width=64, height=48)  # the user's own video
    tour = Tour(fault_server, study, mysql_db, labelstudio_server, tiny_model, monkeypatch)

    commands = tour_commands((REPO / "README.md").read_text(encoding="utf-8"))
    for command in commands:
        _run(tour, command, monkeypatch)
    assert tour.ran == [c for c in commands if c.startswith("vigie ")]  # every one, in order

    cwd = Path.cwd()  # no workspace given: every output is in the current folder
    assert (cwd / "demo-workspace" / "report" / "index.html").is_file()
    assert len(list((cwd / "captures" / "CWL9018").glob("*.jpg"))) == 3  # one repeat not kept
    assert (cwd / "links_53_links.jsonl").is_file() and (cwd / "dataset_53").is_dir()
    assert [p.name for p in (cwd / "videos_to_be_cut").iterdir()] == ["53_1789_4.mp4"]
    assert (cwd / "labelled" / "labels").is_dir() and (cwd / "dataset" / "data.yaml").is_file()
    assert (cwd / "detection_jsons" / "53_1520_3_4.json").is_file()
    assert (cwd / "tracks" / "53_1789_4.tracks.json").is_file()
    assert (cwd / "report" / "index.html").is_file() and (cwd / "vigie.db").is_file()
    assert tour.served == [200]
