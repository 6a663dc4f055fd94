"""A user's bad inputs through every command: one clear line and a hint, exit 1, no traceback.

Usage errors that typer catches itself (a missing path, a file where a folder is expected) exit 2
with click's own message; Vigie's checks exit 1 with ``error: ...`` / ``hint: ...``. A per-item
failure (one corrupt image among good ones) is reported and the run goes on (exit 0), except for
`vigie ls push`, which exits 1 when any image failed. The chaos test at the end feeds ~200
malformed images and videos to frames, detect and dedup: no crash, every file gets a final status.
"""

from __future__ import annotations

import io
import random
import re
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from tests.fixtures.media import jpeg_bytes, png_bytes, write_video
from tests.frames.videos import write_audio_only, write_corrupt_moov, write_truncated
from vigie.cli import app

runner = CliRunner()
CLOSED = "http://127.0.0.1:1"  # nothing listens on port 1
DEAD_DB = "mysql+pymysql://u:pw@127.0.0.1:1/x"


def _tiff() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buf, "TIFF")
    return buf.getvalue()


def _bomb_png() -> bytes:
    """A small PNG whose header claims 20000x20000 pixels."""
    data = bytearray(png_bytes(64, 64))
    struct.pack_into(">II", data, 16, 20000, 20000)
    return bytes(data)


BAD_IMAGES = {
    "zero.jpg": lambda: b"",
    "html.jpg": lambda: b"<!doctype html><html><body>404 not found</body></html>",
    "half.jpg": lambda: jpeg_bytes()[:3000],
    "eps.jpg": lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
    "tiff.jpg": _tiff,
    "bomb.png": _bomb_png,
}


def _write_bad_videos(folder: Path) -> None:
    (folder / "zero.mp4").write_bytes(b"")
    (folder / "html.mp4").write_bytes(b"<html>not a video</html>")
    write_truncated(folder / "cut.mp4")
    write_corrupt_moov(folder / "moov.mp4")
    write_audio_only(folder / "audio.mp4", seconds=0.3)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder of every bad input the cases below use (built once for the module)."""
    root = tmp_path_factory.mktemp("bad_inputs")
    bad = root / "bad"
    bad.mkdir()
    for name, make in BAD_IMAGES.items():
        (bad / name).write_bytes(make())
    (bad / "good.jpg").write_bytes(jpeg_bytes(seed=1))
    _write_bad_videos(bad)
    write_video(bad / "good.mp4", frames=10)
    (root / "empty").mkdir()
    (root / "garbage.pt").write_text("not a model")
    (root / "garbage.onnx").write_text("not a model either")
    (root / "notjson.json").write_text("not json{")
    (root / "dict.json").write_text('{"a": 1}')
    (root / "missing.json").write_text('[{"id": 1}]')
    (root / "ints.json").write_text("[1, 2, 3]")
    (root / "gt.txt").write_text("1,1,10,10,20,20,1,-1,-1,-1\n")
    (root / "badmot.txt").write_text("garbage line\n1,2\n")
    (root / "emptymot.txt").write_text("")
    (root / "broken.yaml").write_text(": : :\n\t- [")
    (root / "noval.yaml").write_text("path: .\ntrain: images\n")
    (root / "nodirs.yaml").write_text("train: images/train\nval: images/val\nnames: [car]\n")
    ds = root / "ds_bad"
    (ds / "images").mkdir(parents=True)
    (ds / "labels").mkdir()
    for name in ("zero.jpg", "html.jpg", "half.jpg", "good.jpg"):
        (ds / "images" / name).write_bytes((bad / name).read_bytes())
        (ds / "labels" / f"{Path(name).stem}.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (ds / "classes.txt").write_text("car\n")
    return root


def _run(args: list[str], root: Path) -> tuple[int, str]:
    argv = ["-w", str(root / "ws"), *[a.format(root=root) for a in args]]
    result = runner.invoke(app, argv)
    return result.exit_code, result.output


def _assert_clean(code: int, out: str, per_item: bool = False) -> None:
    assert "Traceback" not in out, out
    assert "error: unexpected" not in " ".join(out.split()), out  # the mark of a vigie bug
    if code == 1 and not per_item:
        assert "error:" in out, out


# (arguments, exit code, text the message must hold). {root} is the folder of `inputs`.
CASES: list[tuple[str, int, str]] = [
    # frames
    ("frames {root}/nope.mp4 --mode all", 2, "does not exist"),
    ("frames {root}/empty --mode all", 1, "no video in"),
    ("frames {root}/bad/zero.mp4 --mode all", 1, "empty file"),
    ("frames {root}/bad/moov.mp4 --mode all", 1, "corrupt"),
    ("frames {root}/bad/html.mp4 --mode all", 1, "not a video"),
    ("frames {root}/bad/audio.mp4 --mode all", 1, "no video stream"),
    ("frames {root}/bad/good.mp4 --mode step --value -3", 1, "whole number"),
    ("frames {root}/bad/good.mp4 --mode percentage --value 150", 1, "0 < value <= 100"),
    ("frames {root}/bad/good.mp4 --mode time --value 1 --start 5 --end 2", 1, "swap them"),
    ("frames {root}/bad/good.mp4 --mode bogus --value 1", 2, "is not one of"),
    ("frames {root}/bad/good.mp4 --mode step", 1, "--value"),
    ("frames {root}/bad/good.mp4 --mode step --value 1 --format gif", 2, "is not one of"),
    ("frames {root}/bad/good.mp4 --mode all --out {root}/bad/good.jpg", 1, "not a folder"),
    ("frames {root}/bad/good.mp4 --mode all --start 1:75", 2, "below 60"),
    ("frames {root}/bad --mode all --out {root}/bad/good.jpg", 1, "not a folder"),
    ("probe {root}/bad/zero.mp4 {root}/bad/moov.mp4 {root}/bad/cut.mp4", 3, "moov.mp4"),
    # dedup
    ("dedup {root}/nope", 2, "does not exist"),
    ("dedup {root}/bad/good.jpg", 2, "is a file"),
    ("dedup {root}/bad", 3, "unreadable"),
    ("dedup {root}/bad --move-to {root}/gt.txt", 1, "not a folder"),
    # detect
    ("detect {root}/nope --model {root}/garbage.pt", 1, "does not exist"),
    ("detect {root}/empty --model {root}/garbage.pt", 1, "no image in"),
    ("detect {root}/bad --model {root}/nope.pt", 1, "model not found"),
    ("detect {root}/bad --model {root}/garbage.pt", 1, "not a loadable checkpoint"),
    ("detect {root}/bad --model {root}/garbage.pt --backend torch", 1, "not a loadable"),
    ("detect {root}/bad --model {root}/garbage.onnx", 1, "cannot load the ONNX model"),
    ("detect {root}/bad --model {root}/garbage.pt --backend bogus", 2, "is not one of"),
    ("detect {root}/bad --model x.pt --out {root}/bad/good.jpg", 1, "not a folder"),
    # track
    ("track {root}/nope.mp4 --model {root}/garbage.pt", 1, "does not exist"),
    ("track {root}/empty --model {root}/garbage.pt", 1, "no video in"),
    ("track {root}/bad/good.mp4 --model {root}/nope.pt", 1, "model not found"),
    ("track {root}/bad/good.mp4 --model {root}/garbage.pt", 1, "not a loadable"),
    ("track {root}/bad/good.mp4 --model x.pt --tracker bogus", 2, "is not one of"),
    ("track {root}/bad/good.mp4 --model x.pt --line 1,2,3", 1, "x1,y1,x2,y2"),
    ("track {root}/bad/good.mp4 --model x.pt --start xx", 2, "not a time"),
    ("track {root}/bad/good.mp4 --model x.pt --start 10 --end 2", 1, "after --start"),
    ("track {root}/bad/good.mp4 --model x.pt --stride -1", 1, "track.stride"),
    ("track {root}/bad/good.mp4 --model x.pt --backend bogus", 2, "is not one of"),
    ("track {root}/bad/good.mp4 --model x.pt --conf 5", 2, "less than or equal to 1"),
    # eval-track
    ("eval-track --gt {root}/nope.txt --pred {root}/gt.txt", 2, "does not exist"),
    ("eval-track --gt {root}/empty --pred {root}/gt.txt", 2, "is a directory"),
    ("eval-track --gt {root}/gt.txt --pred {root}/badmot.txt", 1, "not MOT format"),
    ("eval-track --gt {root}/emptymot.txt --pred {root}/gt.txt", 1, "no boxes"),
    ("eval-track --gt {root}/bad/good.jpg --pred {root}/gt.txt", 1, "not a text file"),
    ("eval-track --gt {root}/gt.txt --pred {root}/bad/good.jpg", 1, "not a text file"),
    # dataset
    ("dataset build {root}/nope", 2, "does not exist"),
    ("dataset build {root}/empty --out {root}/o1", 1, "ls pull"),
    ("dataset build {root}/ds_bad --out {root}/bad/good.jpg", 1, "not a folder"),
    ("dataset build {root}/ds_bad --out {root}/o2 --hash bogus", 2, "ahash"),
    (
        "dataset build {root}/ds_bad --out {root}/o3 --frames-manifest {root}/notjson.json",
        1,
        "frame manifest",
    ),
    ("dataset build {root}/ds_bad --out {root}/o4", 0, "unreadable: zero.jpg"),
    ("dataset check {root}/empty", 1, "no images/ or labels/"),
    # train (no training starts: every case fails before)
    ("train --data {root}/nope.yaml --name x", 1, "dataset file not found"),
    ("train --data {root}/broken.yaml --name x", 1, "not a valid YAML"),
    ("train --data {root}/noval.yaml --name x", 1, "has no val, names"),
    ("train --data {root}/nodirs.yaml --name x", 1, "images are missing"),
    ("train --data {root}/bad/good.jpg --name x", 1, "not a valid YAML"),
    ("train --data {root}/gt.txt --name x --arg bogus", 1, "key=value"),
    ("train --data {root}/gt.txt --name x --resume", 1, "not a dataset YAML"),
    # Label Studio
    ("ls pull --export {root}/nope.json", 2, "does not exist"),
    ("ls pull --export {root}/notjson.json --out {root}/l1", 1, "not valid JSON"),
    ("ls pull --export {root}/dict.json --out {root}/l2", 1, "not a list of tasks"),
    ("ls pull --export {root}/missing.json --out {root}/l3", 3, "missing image reference"),
    ("ls pull --export {root}/ints.json --out {root}/l4", 3, "not a JSON object"),
    ("ls pull --export {root}/bad/good.jpg --out {root}/l5", 1, "not a UTF-8 text file"),
    ("ls pull", 1, "--project"),
    ("ls pull --project 1 --url " + CLOSED, 1, "no Label Studio token"),
    ("ls push {root}/bad --project 1 --storage bogus", 2, "local-files"),
    ("ls push {root}/bad/good.jpg --project 1", 2, "is a file"),
    # databases and catalogs
    ("links --study 1 --from 2024-01-01 --to 2024-01-02 --db notaurl", 1, "study database"),
    ("links --study 1 --from 2024-01-01 --to 2024-01-02 --db " + DEAD_DB, 1, "study database"),
    ("links --study 1 --from bogus --to 2024-01-02 --db sqlite:///x.db", 1, "not a date"),
    ("--catalog notaurl status", 1, "not a database URL"),
    ("--catalog bogus://x status", 1, "unknown database driver"),
    ("--catalog sqlite:///{root}/bad/good.jpg/c.db status", 1, "not a folder"),
    ("-w {root}/bad/good.jpg status", 1, "not a folder"),
    # capture, download, report
    ("capture --url notaurl --count 1", 1, "not a camera URL"),
    ("capture --cameras {root}/nope.csv --count 1", 1, "camera list not found"),
    ("capture --cameras {root}/bad/good.jpg --count 1", 1, "not a text file"),
    ("status --runs -5", 2, "--runs"),
    (
        "capture --url http://127.0.0.1:1/x.jpg --count 1 --out {root}/bad/good.jpg",
        1,
        "not a folder",
    ),
    ("download", 1, "nothing to download"),
    ("download --study 999", 1, "no links of study 999"),
    ("report --out {root}/bad/good.jpg", 1, "another --out"),
    ("demo --out {root}/bad/good.jpg --quick", 1, "not a folder"),
    ("report --out {root}/r1", 0, "report"),
]


# `ls pull` lists each malformed export item and exits 3 (items failed, the run finished).
PER_ITEM = {"missing image reference", "not a JSON object"}


@pytest.mark.parametrize(("line", "code", "text"), CASES, ids=[c[0][:60] for c in CASES])
def test_bad_input_gives_one_clear_error(inputs: Path, line: str, code: int, text: str) -> None:
    exit_code, out = _run(line.split(), inputs)
    _assert_clean(exit_code, out, per_item=text in PER_ITEM)
    assert exit_code == code, out
    assert text in " ".join(out.split()), out


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("ls setup --url {url} --title t", "cannot reach Label Studio"),
        ("ls pull --project 1 --url {url}", "cannot reach Label Studio"),
        ("ls push {root}/bad --project 1 --url {url}", "cannot reach Label Studio"),
        ("ls setup --url notaurl --title t", "invalid Label Studio URL"),
        ("ls setup --url ftp://x --title t", "invalid Label Studio URL"),
    ],
)
def test_label_studio_unreachable_or_misnamed_is_one_clear_error(
    inputs: Path, monkeypatch: pytest.MonkeyPatch, line: str, text: str
) -> None:
    monkeypatch.setenv("VIGIE_LABELSTUDIO_TOKEN", "not-a-real-token")
    code, out = _run(line.replace("{url}", CLOSED).split(), inputs)
    _assert_clean(code, out)
    assert code == 1
    assert text in out and "hint:" in out, out


def test_bad_input_errors_name_what_to_do(inputs: Path) -> None:
    for line in (
        "detect {root}/bad --model {root}/garbage.pt",
        "train --data {root}/broken.yaml --name x",
        "frames {root}/bad --mode all --out {root}/bad/good.jpg",
    ):
        code, out = _run(line.split(), inputs)
        assert code == 1 and "hint:" in out, out
        assert len(out.split("error:")[1].split("hint:")[0].split()) < 40  # one short line


@pytest.mark.parametrize(
    "line",
    [
        "detect {root}/bad --model {model} --backend torch --db notaurl",
        "detect {root}/bad --model {model} --backend torch --db " + DEAD_DB,
        "track {root}/bad/good.mp4 --model {model} --backend torch --db notaurl",
        "track {root}/bad/good.mp4 --model {model} --backend torch --db " + DEAD_DB,
    ],
)
def test_unreachable_study_database_is_one_clear_error(
    inputs: Path, tiny_model: Path, line: str
) -> None:
    code, out = _run(line.replace("{model}", str(tiny_model)).split(), inputs)
    _assert_clean(code, out)
    assert code == 1
    assert "cannot connect to the study database" in " ".join(out.split()), out
    assert "pw@" not in out  # the password is never shown


# -- chaos: ~200 malformed images and videos -------------------------------------------------


def _mangle(data: bytes, rng: random.Random) -> bytes:
    """One random way media breaks in the wild (cut, zeroed, garbage, flipped bytes...)."""
    how = rng.randrange(6)
    if not data or how == 2:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000)))
    if how == 0:
        return data[: rng.randrange(0, max(1, len(data)))]
    if how == 1:
        return b""
    if how == 3:
        out = bytearray(data)
        for _ in range(rng.randrange(1, 50)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    if how == 4:
        return b"<!doctype html><title>503</title>" + data[:100]
    return data[: len(data) // 2] + bytes(len(data) // 2)


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~200 files: 120 images and 80 videos, most of them broken, a few sound."""
    root = tmp_path_factory.mktemp("chaos")
    images, videos = root / "images", root / "videos"
    images.mkdir()
    videos.mkdir()
    rng = random.Random(7)
    samples = [jpeg_bytes(160, 120, seed=s) for s in range(4)] + [png_bytes(64, 48, seed=9)]
    broken = [make() for make in BAD_IMAGES.values()]
    for i in range(120):
        ext = rng.choice(["jpg", "png", "jpeg", "webp"])
        if i < 12:
            data = samples[i % len(samples)]
        elif i < 40:
            data = broken[i % len(broken)]
        else:
            data = _mangle(rng.choice(samples), rng)
        (images / f"img{i:03d}.{ext}").write_bytes(data)
    _write_bad_videos(videos)
    good = write_video(root / "good.mp4", frames=8).read_bytes()
    kinds = [p.read_bytes() for p in sorted(videos.iterdir())] + [good]
    for i in range(75):
        data = good if i < 5 else _mangle(rng.choice(kinds), rng)
        (videos / f"vid{i:03d}.{rng.choice(['mp4', 'mov', 'mkv'])}").write_bytes(data)
    return root


def _statuses(ws: Path, folder: Path) -> dict[str, str]:
    with sqlite3.connect(ws / "vigie.db") as db:
        rows = db.execute("SELECT path, status FROM media_items").fetchall()
    return {Path(p).name: s for p, s in rows if p and Path(p).parent == folder}


@pytest.mark.allow_error_logs
def test_chaos_folder_gets_a_final_status_per_file_in_every_stage(
    chaos: Path, tiny_model: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    images, videos = chaos / "images", chaos / "videos"
    n_images, n_videos = len(list(images.iterdir())), len(list(videos.iterdir()))
    assert n_images + n_videos >= 200

    frames = runner.invoke(
        app,
        ["-w", str(ws), "frames", str(videos), "--mode", "step", "--value", "4", "--workers", "2",
         "--timeout", "60", "--out", str(tmp_path / "frames")],
    )  # fmt: skip
    _assert_clean(frames.exit_code, frames.output)
    assert frames.exit_code == 3, frames.output  # finished, some videos failed
    status = _statuses(ws, videos)
    assert len(status) == n_videos, sorted(set(p.name for p in videos.iterdir()) - set(status))
    assert set(status.values()) <= {"done", "failed"}
    assert list(status.values()).count("done") >= 5  # the sound videos went through
    assert not list((tmp_path / "frames").rglob("*.part"))

    track = runner.invoke(
        app,
        ["-w", str(ws), "track", str(videos), "--model", str(tiny_model), "--backend", "torch",
         "--imgsz", "160", "--no-video", "--out", str(tmp_path / "tracks")],
    )  # fmt: skip
    _assert_clean(track.exit_code, track.output)
    assert track.exit_code == 3, track.output
    found = re.search(r"done (\d+), skipped (\d+), failed (\d+)", track.output)
    assert found is not None, track.output
    assert int(found[1]) + int(found[2]) + int(found[3]) == n_videos
    assert int(found[1]) >= 5

    detect = runner.invoke(
        app,
        ["-w", str(ws), "detect", str(images), "--model", str(tiny_model), "--backend", "torch",
         "--imgsz", "160", "--out", str(tmp_path / "det")],
    )  # fmt: skip
    _assert_clean(detect.exit_code, detect.output)
    assert detect.exit_code == 3, detect.output
    status = _statuses(ws, images)
    assert len(status) == n_images
    assert set(status.values()) <= {"done", "failed"}
    assert list(status.values()).count("done") >= 12
    assert list(status.values()).count("failed") >= 28

    dedup = runner.invoke(app, ["-w", str(ws), "dedup", str(images)])
    _assert_clean(dedup.exit_code, dedup.output)
    assert dedup.exit_code == 3, dedup.output
    found = re.search(r"(\d+) images, .*?(\d+) unreadable", " ".join(dedup.output.split()))
    assert found is not None, dedup.output
    scanned, unreadable = int(found[1]), int(found[2])
    assert scanned == n_images
    assert 28 <= unreadable < n_images - 11


@pytest.mark.parametrize("line", ["ls pull --project 1", "ls push {root}/bad --project 1"])
def test_label_studio_wrong_token_is_one_clear_error(
    inputs: Path, monkeypatch: pytest.MonkeyPatch, fault_server: Any, line: str
) -> None:
    from tests.fixtures.http import Reply

    denied = Reply(status=401, body=b'{"detail": "Invalid token."}')
    for path in (
        "/api/projects/",
        "/api/projects/1/",
        "/api/projects/1/export",  # ls pull reads the project through one export
        "/api/current-user/whoami/",
    ):
        fault_server.route(path, denied)
    monkeypatch.setenv("VIGIE_LABELSTUDIO_TOKEN", "wrong-token")
    code, out = _run([*line.split(), "--url", fault_server.url("")], inputs)
    _assert_clean(code, out)
    assert code == 1
    assert "refused the token" in " ".join(out.split()) and "hint:" in out, out
