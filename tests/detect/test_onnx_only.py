"""`vigie export`, then detect and track from the .onnx on a Python without torch/ultralytics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.fixtures.common import REPO
from tests.fixtures.models import traffic_scene
from vigie.catalog import Catalog
from vigie.catalog.models import get_model, register_model
from vigie.cli import app
from vigie.detect.export import weights_digest

runner = CliRunner()
pytestmark = pytest.mark.slow

# A sitecustomize that makes torch, torchvision and ultralytics uninstalled (import raises,
# importlib.util.find_spec gives None) and records every attempt to import them anyway.
BLOCKER = """
import atexit, builtins, os, sys
BLOCKED = ("torch", "torchvision", "ultralytics")
for name in BLOCKED:
    sys.modules[name] = None
tried = []
_import = builtins.__import__
def _recording_import(name, *args, **kwargs):
    if name.split(".")[0] in BLOCKED:
        tried.append(name)
    return _import(name, *args, **kwargs)
builtins.__import__ = _recording_import
def _report():
    loaded = sorted(k for k, v in sys.modules.items() if v is not None)
    with open(os.environ["VIGIE_TEST_IMPORTS"], "w") as fh:
        fh.write(",".join(tried) + "\\n" + "\\n".join(loaded))
atexit.register(_report)
"""


def _traffic_video(path: Path, frames: int = 12) -> Path:
    import av

    scene, _ = traffic_scene(160, seed=7)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 160, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.roll(scene, 2 * i, axis=1), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def _without_torch(
    args: list[str], tmp_path: Path, tag: str, code: int = 0
) -> tuple[str, list[str], set[str]]:
    site = tmp_path / "blocker"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    report = tmp_path / f"imports-{tag}.txt"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(REPO / "src")]),
        "VIGIE_TEST_IMPORTS": str(report),
    }
    out = subprocess.run(
        [sys.executable, "-m", "vigie", *args], capture_output=True, text=True, env=env,
        timeout=300, check=False,
    )  # fmt: skip
    assert out.returncode == code, out.stdout + out.stderr
    tried, *loaded = report.read_text().split("\n")
    return out.stdout + out.stderr, [t for t in tried.split(",") if t], set(loaded)


def test_export_then_detect_and_track_with_onnx_runtime_alone(
    tiny_model: Path, image_dir: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        register_model(cat, "tiny", tiny_model)
    onnx = tmp_path / "edge" / "tiny.onnx"
    res = runner.invoke(
        app, ["-w", str(ws), "export", "--model", "tiny", "--imgsz", "160", "--out", str(onnx)]
    )
    assert res.exit_code == 0, res.output
    assert onnx.is_file() and "recorded on the registry entry 'tiny'" in res.output
    with Catalog(f"sqlite:///{ws / 'vigie.db'}") as cat:
        row = get_model(cat, "tiny")
    assert row is not None and row.params["exports"] == {"onnx@160": str(onnx.resolve())}

    out = tmp_path / "out"
    args = ["-w", str(tmp_path / "edge-ws"), "detect", str(image_dir), "--model", str(onnx)]
    text, tried, loaded = _without_torch(
        [
            *args,
            "--imgsz",
            "160",
            "--conf",
            "0.05",
            "--out",
            str(out),
            "--coco",
            str(out / "c.json"),
        ],
        tmp_path,
        "detect",
        code=3,  # broken.jpg of image_dir fails: finished with failures
    )
    assert "detections by tiny.onnx (onnx)" in text
    assert tried == [] and not {"torch", "ultralytics"} & loaded
    assert "onnxruntime" in loaded
    from pycocotools.coco import COCO

    coco = COCO(str(out / "c.images.json")).loadRes(str(out / "c.json"))
    assert len(coco.getAnnIds()) > 0
    boxes = json.loads((out / "detection_jsons" / "street.json").read_text())
    assert boxes and boxes[0]["name"] in {"Car", "Pedestrian", "Truck", "Scooter", "Motorbike",
                                          "Bus", "Bicycle", "Motor Scooter"}  # fmt: skip

    video = _traffic_video(tmp_path / "clip.mp4")
    args = ["-w", str(tmp_path / "edge-ws"), "track", str(video), "--model", str(onnx)]
    text, tried, loaded = _without_torch(
        [*args, "--imgsz", "160", "--out", str(tmp_path / "tracks")], tmp_path, "track"
    )
    assert "done 1" in text, text
    assert tried == [] and not {"torch", "ultralytics"} & loaded


def test_export_of_a_weights_file_writes_beside_it_from_the_cache(
    tiny_model: Path, tmp_path: Path
) -> None:
    cached = tiny_model.parent / f"{tiny_model.stem}.{weights_digest(tiny_model)}.160.onnx"
    res = runner.invoke(
        app, ["-w", str(tmp_path), "export", "-m", str(tiny_model), "--imgsz", "160"]
    )
    assert res.exit_code == 0, res.output
    beside = tiny_model.with_suffix(".onnx")
    assert beside.read_bytes() == cached.read_bytes()  # the --backend onnx export, reused
    assert "recorded" not in res.output  # not a registered model


def test_detect_with_a_missing_onnx_file_is_a_clear_error(image_dir: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["-w", str(tmp_path), "detect", str(image_dir), "-m", "gone.onnx"])
    assert res.exit_code == 1 and "no such ONNX model: gone.onnx" in res.output
    bad = runner.invoke(app, ["-w", str(tmp_path), "export", "-m", "x.pt", "--format", "tflite"])
    assert bad.exit_code == 2
