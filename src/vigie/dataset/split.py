"""Group-aware train/val split: near-duplicates and frames of one video stay on one side."""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vigie.errors import DatasetError

# Frame files of `vigie frames`: <video>_<tag>_f000123_4.100s.jpg; also <video>_f123.jpg.
FRAME_NAME = re.compile(r"^(?P<video>.+?)(?:_[A-Za-z0-9]+)?_f(?:rame)?\d{3,}(?:_\d+(?:\.\d+)?s)?$")


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for i in range(len(self.parent)):
            out.setdefault(self.find(i), []).append(i)
        return sorted(out.values(), key=lambda g: g[0])


def video_of_name(stem: str) -> str | None:
    """The video a frame file belongs to, from its name, or None."""
    m = FRAME_NAME.match(stem)
    return m.group("video") if m else None


def read_frame_manifests(paths: Sequence[Path]) -> dict[str, str]:
    """``{frame file name: video}`` from frame manifests (manifest.csv / manifest.json)."""
    out: dict[str, str] = {}
    for path in paths:
        rows = _manifest_rows(path)
        for row in rows:
            if isinstance(row, dict) and row.get("file") and row.get("video"):
                out[Path(str(row["file"])).name] = str(row["video"])
    return out


def _manifest_rows(path: Path) -> list[Any]:
    """The rows of one frame manifest, or a DatasetError naming the file."""
    hint = "give the manifest.csv or manifest.json that `vigie frames` wrote"
    try:
        if path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8") as fh:
                return list(csv.DictReader(fh))
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise DatasetError(f"cannot read the frame manifest {path}: {why}", hint=hint) from None
    rows = data.get("frames", []) if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise DatasetError(f"{path} is not a frame manifest (no list of frames)", hint=hint)
    return rows


def group_items(
    names: Sequence[str],
    hashes: Sequence[int] | None,
    threshold: int,
    videos: Sequence[str | None],
) -> list[list[int]]:
    """Groups of indices that must land on the same side of the split."""
    from vigie.dedup import group_near_duplicates

    uf = UnionFind(len(names))
    if hashes is not None:
        for group in group_near_duplicates(list(hashes), threshold):
            for other in group[1:]:
                uf.union(group[0], other)
    first: dict[str, int] = {}
    for i, video in enumerate(videos):
        if video is None:
            continue
        if video in first:
            uf.union(first[video], i)
        else:
            first[video] = i
    return uf.groups()


def split_groups(
    groups: list[list[int]], names: Sequence[str], val_fraction: float, seed: int
) -> dict[int, str]:
    """``{index: "train"|"val"}``: whole groups, about ``val_fraction`` of the images in val.

    Deterministic: groups are ordered by their first file name, shuffled with ``seed``, and
    taken into val until the target is reached.
    """
    total = sum(len(g) for g in groups)
    order = sorted(groups, key=lambda g: min(names[i] for i in g))
    random.Random(seed).shuffle(order)
    target = round(total * val_fraction)
    if val_fraction > 0 and target == 0 and len(groups) > 1:
        target = 1
    val: list[list[int]] = []
    in_val = 0
    for group in order:
        if in_val + len(group) <= target:
            val.append(group)
            in_val += len(group)
    if not val and target > 0 and len(groups) > 1:  # every group is bigger than the target
        val.append(min(order, key=len))
    val_ids = {i for g in val for i in g}
    return {i: ("val" if i in val_ids else "train") for g in groups for i in g}
