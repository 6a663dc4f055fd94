"""Keep/drop decisions for a time-ordered sequence of frames, cheap yet full-decode exact.

The rule is the capture rule (and the seed's): a frame is dropped when its bytes equal the last
kept frame's, or its hash is within ``threshold`` bits of the last kept frame's hash.

Speed comes from decoding JPEGs at 1/8 size (:func:`hash_with_margin`); exactness from knowing
which bits of that fast hash are uncertain: a thumbnail pixel within ``margin`` grey levels of
the mean (aHash) or of its neighbour (dHash) may fall on the other side in a full decode. When the
uncertain bits cannot change the decision it is taken at once; otherwise, and only then, both
frames are hashed on a full decode, exactly as ``imagehash`` does. Identical files are decoded
once. pHash has no such bound here: it is decided on full decodes.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from vigie.dedup.hashing import bits_to_int, hamming, image_hash, reduced_grey

_LANCZOS = Image.Resampling.LANCZOS
# In benchmarks/bench_dedup.py the bits that differ between a 1/8-decode float thumbnail and the
# full decode lie within ~0.35 grey levels of their tipping point; closer than this is "uncertain".
DEFAULT_MARGIN = 0.5


def hash_with_margin(
    data: bytes, method: str = "ahash", hash_size: int = 8, margin: float = DEFAULT_MARGIN
) -> tuple[int, int]:
    """(fast hash, mask of its uncertain bits) from a reduced-size decode; ahash or dhash."""
    grey = reduced_grey(data, (hash_size + 1) * 4).convert("F")
    if method == "ahash":
        v = np.asarray(grey.resize((hash_size, hash_size), _LANCZOS), dtype=np.float64)
        delta = v - v.mean()
        return bits_to_int(delta > 0), bits_to_int(np.abs(delta) < margin)
    if method == "dhash":
        v = np.asarray(grey.resize((hash_size + 1, hash_size), _LANCZOS), dtype=np.float64)
        delta = v[:, 1:] - v[:, :-1]
        return bits_to_int(delta > 0), bits_to_int(np.abs(delta) < 2 * margin)
    raise ValueError(f"no uncertainty bound for {method!r}; use ahash or dhash")


@dataclass
class _Probe:
    digest: str
    path: Path
    fast: int = 0
    mask: int = 0
    full: int | None = None
    error: str | None = None


@dataclass
class SequenceDecisions:
    """Per frame: keep (True), drop (False) or None when unreadable; plus how it was decided."""

    keep: list[bool | None]
    hashes: list[int | None] = field(default_factory=list)  # full-decode hash where computed
    full_decodes: int = 0  # frames whose decision needed a full decode
    identical: int = 0  # frames with the same bytes as an earlier one (decoded once)
    errors: dict[int, str] = field(default_factory=dict)


class _Prober:
    """Reads and fast-hashes frames on worker threads; identical bytes are decoded once."""

    def __init__(self, method: str, hash_size: int, margin: float) -> None:
        self.method, self.hash_size, self.margin = method, hash_size, margin
        self.by_digest: dict[str, _Probe] = {}
        self.lock = threading.Lock()

    def __call__(self, path: Path) -> _Probe:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return _Probe("", path, error=f"{exc.__class__.__name__}: {exc}")
        digest = hashlib.sha256(data).hexdigest()
        with self.lock:
            known = self.by_digest.get(digest)
            if known is not None:
                return known  # filled by the thread of the earlier frame, yielded before us
            probe = self.by_digest[digest] = _Probe(digest, path)
        try:
            if self.method == "phash":
                probe.full = image_hash(data, self.method, self.hash_size, fast=False)
                probe.fast = probe.full
            else:
                probe.fast, probe.mask = hash_with_margin(
                    data, self.method, self.hash_size, self.margin
                )
        except Exception as exc:  # an undecodable file is a per-item failure
            probe.error = f"{exc.__class__.__name__}: {exc}"
        return probe


def keep_decisions(
    paths: Sequence[Path],
    threshold: int = 0,
    method: str = "ahash",
    hash_size: int = 8,
    workers: int | None = None,
    margin: float = DEFAULT_MARGIN,
    on_progress: Callable[[int], None] | None = None,
) -> SequenceDecisions:
    """Decide, in order, which frames to keep; same answers as full-decode imagehash.

    Args:
        paths: frames in time order.
        threshold: a frame within this many bits of the last kept frame is dropped.
        method: ``ahash`` (default), ``dhash`` or ``phash``.
        workers: threads for decoding (default: one per core, at most 8).
        margin: grey levels around a bit's tipping point that count as uncertain.
    """
    if method not in ("ahash", "dhash", "phash"):
        raise ValueError(f"unknown hash method {method!r}")
    n = workers or min(8, os.cpu_count() or 1)
    probes: list[_Probe] = []
    with ThreadPoolExecutor(max_workers=n) as pool:
        for probe in pool.map(_Prober(method, hash_size, margin), paths):
            probes.append(probe)
            if on_progress is not None:
                on_progress(1)
    out = SequenceDecisions(keep=[])
    seen: set[str] = set()
    last: _Probe | None = None
    for i, probe in enumerate(probes):
        if probe.digest in seen:
            out.identical += 1
        seen.add(probe.digest)
        if probe.error is not None:
            out.keep.append(None)
            out.errors[i] = probe.error
            continue
        keep = last is None or _differs(probe, last, threshold, method, hash_size, out)
        out.keep.append(keep)
        if keep:
            last = probe
    out.hashes = [None if p.error else (p.full if p.full is not None else p.fast) for p in probes]
    return out


def _full(probe: _Probe, method: str, hash_size: int, out: SequenceDecisions) -> int:
    if probe.full is None:
        probe.full = image_hash(probe.path, method, hash_size, fast=False)
        out.full_decodes += 1
    return probe.full


def _bounds(x: _Probe, k: _Probe) -> tuple[int, int]:
    """(smallest, largest) hamming distance the full-decode hashes of x and k can have."""
    x_bits, x_mask = (x.full, 0) if x.full is not None else (x.fast, x.mask)
    k_bits, k_mask = (k.full, 0) if k.full is not None else (k.fast, k.mask)
    unsure = x_mask | k_mask
    known = hamming(x_bits & ~unsure, k_bits & ~unsure)
    return known, known + unsure.bit_count()


def _differs(
    x: _Probe, k: _Probe, threshold: int, method: str, hash_size: int, out: SequenceDecisions
) -> bool:
    if x.digest == k.digest:
        return False
    # Resolve uncertainty one frame at a time, the kept frame first: its full hash is reused
    # for every following frame, so most frames never need a full decode of their own.
    for resolve in (None, k, x):
        if resolve is not None:
            _full(resolve, method, hash_size, out)
        low, high = _bounds(x, k)
        if low > threshold:
            return True
        if high <= threshold:
            return False
    raise AssertionError("both hashes are exact by now")  # pragma: no cover
