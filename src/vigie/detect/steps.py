"""The steps of one image in ``detect``: decode, name its outputs, write them.

Shared by the local pipeline (:mod:`vigie.detect.pipeline`) and the Ray actors
(:mod:`vigie.detect.on_ray`), so both write the same files.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vigie.detect import outputs
from vigie.errors import MediaError
from vigie.media import decode_image

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from vigie.detect.coco import CocoResults
    from vigie.identity import MediaIdentity
    from vigie.types import Detections


@dataclass
class Decoded:
    path: Path
    image: NDArray[np.uint8] | None
    error: str | None = None


def decode(path: Path) -> Decoded:
    try:
        return Decoded(path, decode_image(path))
    except MediaError as exc:
        return Decoded(path, None, exc.message)


def decoded_stream(paths: list[Path], pool: ThreadPoolExecutor, ahead: int) -> Iterator[Decoded]:
    """Decoded images in input order, keeping at most ``ahead`` decodes in flight."""
    pending: deque[Future[Decoded]] = deque()
    it = iter(paths)
    for path in it:
        pending.append(pool.submit(decode, path))
        if len(pending) >= ahead:
            break
    while pending:
        yield pending.popleft().result()
        nxt = next(it, None)
        if nxt is not None:
            pending.append(pool.submit(decode, nxt))


@dataclass
class Options:
    out: Path
    root: Path
    save_images: bool
    save_json: bool
    save_crops: bool
    coco: CocoResults | None = None
    names: dict[Path, Path] = field(default_factory=dict)  # resolved image -> output name

    def name_of(self, path: Path) -> Path:
        return self.names.get(path.resolve()) or relative(path, self.root)


def relative(path: Path, root: Path) -> Path:
    try:
        return path.resolve().relative_to(root)
    except ValueError:
        return Path(path.name)


def write_outputs(
    opts: Options,
    path: Path,
    image: NDArray[np.uint8],
    dets: Detections,
    ident: MediaIdentity | None,
) -> None:
    rel = opts.name_of(path)
    if opts.save_images:
        outputs.write_annotated(opts.out / outputs.IMAGES_DIR / rel, image, dets)
    if opts.save_json:
        json_path = (opts.out / outputs.JSONS_DIR / rel).with_suffix(".json")
        outputs.write_json(json_path, outputs.detection_dicts(dets, ident))
    if opts.save_crops and len(dets):
        stem = str(rel.with_suffix("")).replace(os.sep, "_")
        outputs.write_crops(opts.out / outputs.CROPS_DIR, stem, image, dets)
