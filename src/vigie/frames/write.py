"""Writing frames: stable names, upright pictures, atomic files, and the manifest."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from vigie.errors import MediaError
from vigie.files import write_atomic
from vigie.media import sha256_bytes, upright

if TYPE_CHECKING:
    from av.video.frame import VideoFrame
    from PIL.Image import Image

Format = Literal["jpg", "png"]
MANIFEST_CSV = "manifest.csv"
MANIFEST_JSON = "manifest.json"
MANIFEST_FIELDS = ("file", "video", "frame_index", "timestamp", "width", "height", "sha256")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class WrittenFrame:
    """One frame file on disk."""

    frame_index: int
    timestamp: float
    path: Path
    sha256: str
    width: int
    height: int
    existed: bool = False  # already there from an earlier run: not rewritten


def safe_stem(name: str, limit: int = 80) -> str:
    """A file-system-safe version of a video name (ASCII letters, digits, ``._-``)."""
    stem = _UNSAFE.sub("_", name).strip("._") or "video"
    return stem[:limit]


def frame_name(stem: str, tag: str, index: int, timestamp: float, fmt: str) -> str:
    """``<video>_<selection>_f<index>_<seconds>s.<fmt>``, e.g. ``clip_step10_f000120_4.800s.jpg``."""
    return f"{stem}_{tag}_f{index:06d}_{timestamp:.3f}s.{fmt}"


def encode(image: Image, fmt: str, quality: int) -> bytes:
    """Encode a picture as JPEG or PNG bytes (Pillow releases the GIL while encoding)."""
    buf = io.BytesIO()
    if fmt == "png":
        image.save(buf, "PNG", compress_level=3)
    else:
        image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


class FrameWriter:
    """Encodes and writes frames on a small thread pool, with a bounded backlog.

    ``submit`` blocks when ``backlog`` frames are waiting, so memory stays flat however fast the
    decoder runs.
    """

    def __init__(self, fmt: str, quality: int, workers: int = 2, backlog: int = 8) -> None:
        self.fmt, self.quality = fmt, quality
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="frames")
        self._slots = threading.BoundedSemaphore(max(1, backlog))
        self._futures: list[Future[WrittenFrame]] = []

    def submit(
        self, frame: VideoFrame, rotation: int, index: int, timestamp: float, path: Path
    ) -> None:
        """Queue one decoded frame; conversion, rotation and encoding happen on the pool."""
        self._slots.acquire()
        try:
            fut = self._pool.submit(self._write, frame, rotation, index, timestamp, path)
        except BaseException:
            self._slots.release()
            raise
        fut.add_done_callback(lambda _f: self._slots.release())
        self._futures.append(fut)

    def _write(
        self, frame: VideoFrame, rotation: int, index: int, timestamp: float, path: Path
    ) -> WrittenFrame:
        from PIL import Image as PILImage

        image = upright(PILImage.fromarray(frame.to_ndarray(format="rgb24")), rotation)
        data = encode(image, self.fmt, self.quality)
        write_atomic(path, data)
        return WrittenFrame(index, timestamp, path, sha256_bytes(data), image.width, image.height)

    def close(self) -> tuple[list[WrittenFrame], list[str]]:
        """Wait for every frame; return those written and one message per failure."""
        done: list[WrittenFrame] = []
        errors: list[str] = []
        for fut in self._futures:
            try:
                done.append(fut.result())
            except OSError as exc:
                errors.append(f"cannot write a frame: {exc}")
        self._pool.shutdown(wait=True)
        return done, errors

    def abort(self) -> None:
        for fut in self._futures:
            fut.cancel()
        self._pool.shutdown(wait=True)


def existing_frame(path: Path, index: int, timestamp: float) -> WrittenFrame | None:
    """A frame file from an earlier run (complete by construction: written atomically)."""
    try:
        from PIL import Image as PILImage

        data = path.read_bytes()
        with PILImage.open(io.BytesIO(data)) as img:
            width, height = img.size
    except (OSError, ValueError):
        return None
    return WrittenFrame(index, timestamp, path, sha256_bytes(data), width, height, existed=True)


def write_manifest(
    folder: Path, video: Path, frames: Iterable[WrittenFrame], info: dict[str, Any]
) -> Path:
    """Merge ``frames`` into ``folder``'s manifest.csv / manifest.json (keyed by file name).

    Returns the CSV path. Both files are written atomically.
    """
    csv_path = folder / MANIFEST_CSV
    rows: dict[str, dict[str, Any]] = {}
    if csv_path.exists():
        try:
            with open(csv_path, newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    if row.get("file") and (folder / row["file"]).exists():
                        rows[row["file"]] = dict(row)
        except (OSError, csv.Error, UnicodeDecodeError) as exc:
            raise MediaError(f"cannot read {csv_path}: {exc}", hint="delete the manifest") from None
    for f in frames:
        rows[f.path.name] = {
            "file": f.path.name,
            "video": str(video),
            "frame_index": f.frame_index,
            "timestamp": f"{f.timestamp:.6f}",
            "width": f.width,
            "height": f.height,
            "sha256": f.sha256,
        }
    ordered = sorted(
        rows.values(), key=lambda r: (str(r["video"]), int(r["frame_index"]), r["file"])
    )
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=MANIFEST_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(ordered)
    write_atomic(csv_path, buf.getvalue().encode("utf-8"))
    doc = {
        "video": info,
        "frames": [
            {
                **r,
                "frame_index": int(r["frame_index"]),
                "timestamp": float(r["timestamp"]),
                "width": int(r["width"]),
                "height": int(r["height"]),
            }
            for r in ordered
        ],
    }
    write_atomic(folder / MANIFEST_JSON, json.dumps(doc, indent=1).encode("utf-8"))
    return csv_path
