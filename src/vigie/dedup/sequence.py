"""Keep/drop decisions for a time-ordered sequence of frames, cheap yet as full-decode imagehash.

The rule is the capture rule (and the seed's): a frame is dropped when its bytes equal the last
kept frame's, or its hash is within ``threshold`` bits of the last kept frame's hash.

Each frame's hash is known at one of three levels, each dearer and more precise than the last.
A level gives, for every thumbnail pixel, an estimate of the value Pillow's 8-bit LANCZOS resize
(what ``imagehash`` runs) holds just before rounding it to uint8, and how far off that estimate
may be; a hash bit is *uncertain* when some pixel values within those ranges would flip it
(aHash: ``t_i > mean(t)`` over the rounded pixels; dHash: ``right > left``):

1. **reduced** (:func:`hash_with_margin`): the JPEG decoded at 1/8 size (libjpeg DCT scaling,
   ~3.5x cheaper than imagehash's decode + resize), resized in floats, less the decode's known
   rounding bias; off by up to ``margin``.
2. **luma** (:func:`hash_refined`): the JPEG's luma at full size (no colour conversion) through
   an exact copy of Pillow's resize (uint8 horizontal pass included): the only difference left
   with ``imagehash`` is luma vs ``convert("L")`` of the RGB decode, where RGB clips; off by up
   to ``refine_margin``. About 1.5x the cost of level 1. aHash only (see ``DHASH_MARGIN``).
3. **full**: ``imagehash``'s own computation, exact.

A frame moves up a level only when its uncertain bits (or the kept frame's) can change the
decision: at threshold 0, if the certain bits already differ the frame is kept whatever the
uncertain ones are. The kept frame is refined first (its hash serves every following frame).
When most recent decisions needed a refinement, the next frames start at level 2. Identical
files are decoded once. pHash has no such bounds: it is decided on full decodes. Decisions are
taken while worker threads decode the next few frames (OpenCV releases the GIL).
"""

from __future__ import annotations

import os
import threading
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vigie.dedup.hashing import (
    full_grey,
    hamming,
    image_hash,
    lanczos_values,
    reduced_values,
    rounding_bits,
)

# How far a thumbnail pixel may be from the value imagehash's Pillow resize has before its final
# rounding to uint8 (``v`` with ``t = clip(floor(v + 0.5))``), per level. Measured on the 1049
# distinct 1280x720 frames of benchmarks/bench_dedup.py (seeds 0-3):
# - 1/8 decode, bias-corrected: median 0.049, 99% 0.25, max 0.45. Most bits stay certain whatever
#   the error, and at 0.15 no decision of the four sequences differed from imagehash's.
# - full-size luma through an exact copy of Pillow's resize: median 0.0001, 90% 0.012, 99% 0.066,
#   max 0.19 (luma vs ``convert("L")`` where RGB clips); at 0.02 every bit it got wrong was
#   marked uncertain.
# dHash compares neighbouring pixels, whose rounded values are often equal: the same errors flip
# more of its bits. On seeds 1 and 3 a 1/8-decode margin of 0.3 and full decodes (the luma level
# needed 0.2 and still left most refinements to a full decode, so dHash skips it) matched
# imagehash on every decision at thresholds 0 and 2.
DEFAULT_MARGIN = 0.15
DEFAULT_REFINE_MARGIN = 0.02
DHASH_MARGIN = 0.3

REDUCED, LUMA, FULL = 1, 2, 3
# When more than this share of recent decisions could not be taken on 1/8 decodes, the next
# frames are decoded at full size straight away: a refinement costs ~1.8 first passes, so that
# pays only where most frames would be refined anyway.
_DIRECT_ON, _DIRECT_OFF, _WINDOW = 0.6, 0.45, 20


def _check_bounded(method: str) -> None:
    if method not in ("ahash", "dhash"):
        raise ValueError(f"no uncertainty bound for {method!r}; use ahash or dhash")


def _luma_values(data: bytes, method: str, hash_size: int) -> np.ndarray | None:
    grey = full_grey(data)
    if grey is None:
        return None
    return lanczos_values(grey, hash_size + (method == "dhash"), hash_size)


def hash_with_margin(
    data: bytes, method: str = "ahash", hash_size: int = 8, margin: float | None = None
) -> tuple[int, int]:
    """(fast hash, mask of its uncertain bits) from a 1/8-size decode; ahash or dhash.

    The bits are those of imagehash's computation if the thumbnail pixels (before Pillow's final
    rounding) are within ``margin`` grey levels of the estimate; the mask marks the bits some
    pixel values within that margin would flip (default: 0.15 for aHash, 0.3 for dHash)."""
    _check_bounded(method)
    if margin is None:
        margin = DHASH_MARGIN if method == "dhash" else DEFAULT_MARGIN
    return rounding_bits(reduced_values(data, method, hash_size), method, margin)


def hash_refined(
    data: bytes,
    method: str = "ahash",
    hash_size: int = 8,
    refine_margin: float = DEFAULT_REFINE_MARGIN,
) -> tuple[int, int] | None:
    """(hash, mask of its uncertain bits) from the full-size luma of a JPEG, resized exactly as
    Pillow does; None when the bytes are not an RGB/greyscale JPEG (decode those in full)."""
    _check_bounded(method)
    v = _luma_values(data, method, hash_size)
    return None if v is None else rounding_bits(v, method, refine_margin)


@dataclass
class _Probe:
    digest: str
    path: Path
    bits: int = 0
    mask: int = 0  # uncertain bits of ``bits``
    level: int = REDUCED
    error: str | None = None
    # what a 1/8 decode would say (for choosing how to decode the next frames)
    first: tuple[int, int] = (0, 0)
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class SequenceDecisions:
    """Per frame: keep (True), drop (False) or None when unreadable; plus how it was decided."""

    keep: list[bool | None]
    hashes: list[int | None] = field(default_factory=list)  # best-known hash of each frame
    full_decodes: int = 0  # frames whose decision needed imagehash's full decode
    identical: int = 0  # frames with the same bytes as an earlier one (decoded once)
    errors: dict[int, str] = field(default_factory=dict)
    refined: int = 0  # frames refined to the full-size luma after a 1/8 decode
    luma_first: int = 0  # frames decoded at full-size luma straight away (busy scenes)


class _Prober:
    """Reads and hashes frames on worker threads; identical bytes are decoded once.

    ``direct`` (set by the decision loop) asks for the full-size luma instead of the 1/8 decode.
    """

    def __init__(self, method: str, hash_size: int, margin: float, refine_margin: float) -> None:
        self.method, self.hash_size = method, hash_size
        self.margin, self.refine_margin = margin, refine_margin
        self.by_key: dict[tuple[int, int], list[_Probe]] = {}
        self.lock = threading.Lock()
        self.direct = False

    def __call__(self, path: Path) -> _Probe:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return _Probe("", path, error=f"{exc.__class__.__name__}: {exc}")
        # Identical bytes: same length and CRC-32 (3x cheaper than SHA-256), confirmed byte for
        # byte against the earlier file (read again: only repeats get here).
        key = (len(data), zlib.crc32(data))
        with self.lock:
            same = self.by_key.setdefault(key, [])
            known = next((p for p in same if _same_bytes(p.path, data)), None)
            if known is None:
                probe = _Probe(f"{key[0]}:{key[1]:08x}:{len(same)}", path)
                same.append(probe)
        if known is not None:
            known.done.wait()  # another thread (maybe of a later frame) is decoding these bytes
            return known
        try:
            self._hash(probe, data)
        except Exception as exc:  # an undecodable file is a per-item failure
            probe.error = f"{exc.__class__.__name__}: {exc}"
        finally:
            probe.done.set()
        return probe

    def _hash(self, probe: _Probe, data: bytes) -> None:
        method, size = self.method, self.hash_size
        if method == "phash":
            probe.bits, probe.level = image_hash(data, method, size, fast=False), FULL
            probe.first = (probe.bits, 0)
            return
        if self.direct and method == "ahash":
            v = _luma_values(data, method, size)
            if v is not None:
                probe.bits, probe.mask = rounding_bits(v, method, self.refine_margin)
                probe.level = LUMA
                probe.first = rounding_bits(v, method, self.margin)
                return
        v = reduced_values(data, method, size)
        probe.bits, probe.mask = rounding_bits(v, method, self.margin)
        probe.first = (probe.bits, probe.mask)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _undecided(xb: int, xm: int, kb: int, km: int, threshold: int) -> bool:
    unsure = xm | km
    low = hamming(xb & ~unsure, kb & ~unsure)
    return low <= threshold < low + unsure.bit_count()


@dataclass
class _Rule:
    threshold: int
    method: str
    hash_size: int
    refine_margin: float
    out: SequenceDecisions

    def refine(self, probe: _Probe) -> None:
        """Move ``probe`` up one level (luma, then full decode)."""
        if probe.level == REDUCED and self.method == "ahash":
            probe.level = LUMA
            refined = hash_refined(
                probe.path.read_bytes(), self.method, self.hash_size, self.refine_margin
            )
            if refined is not None:
                probe.bits, probe.mask = refined
                self.out.refined += 1
                return
        probe.level = FULL
        probe.bits = image_hash(probe.path, self.method, self.hash_size, fast=False)
        probe.mask = 0
        self.out.full_decodes += 1

    def differs(self, x: _Probe, k: _Probe) -> bool:
        """Whether x's full-decode hash is more than ``threshold`` bits from k's."""
        if x.digest == k.digest:
            return False
        while _undecided(x.bits, x.mask, k.bits, k.mask, self.threshold):
            # Refine the less precise of the two; on a tie the kept frame, whose hash is reused
            # for every following frame, so that most frames never need a refinement of their own.
            if k.mask and (k.level <= x.level or not x.mask):
                self.refine(k)
            else:
                self.refine(x)
        unsure = x.mask | k.mask
        return hamming(x.bits & ~unsure, k.bits & ~unsure) > self.threshold


def keep_decisions(
    paths: Sequence[Path],
    threshold: int = 0,
    method: str = "ahash",
    hash_size: int = 8,
    workers: int | None = None,
    margin: float | None = None,
    on_progress: Callable[[int], None] | None = None,
    refine_margin: float = DEFAULT_REFINE_MARGIN,
) -> SequenceDecisions:
    """Decide, in order, which frames to keep; same answers as full-decode imagehash.

    Args:
        paths: frames in time order.
        threshold: a frame within this many bits of the last kept frame is dropped.
        method: ``ahash`` (default), ``dhash`` or ``phash``.
        workers: threads decoding frames ahead of the decisions (default: one per core, at
            most 8); refinements run on the calling thread meanwhile.
        margin: how far (grey levels) a 1/8-decode thumbnail pixel may be from imagehash's
            (default 0.15 for aHash, 0.3 for dHash).
        on_progress: called with 1 after each frame is decided.
        refine_margin: the same for the full-size luma (0 trusts that level as exact); aHash
            only: dHash goes from the 1/8 decode straight to a full decode.
    """
    if method not in ("ahash", "dhash", "phash"):
        raise ValueError(f"unknown hash method {method!r}")
    n = workers or min(8, os.cpu_count() or 1)
    out = SequenceDecisions(keep=[])
    if margin is None:
        margin = DHASH_MARGIN if method == "dhash" else DEFAULT_MARGIN
    rule = _Rule(threshold, method, hash_size, refine_margin, out)
    prober = _Prober(method, hash_size, margin, refine_margin)
    recent: deque[bool] = deque(maxlen=_WINDOW)  # decisions a 1/8 decode could not take
    seen: set[str] = set()
    last: _Probe | None = None
    probes: list[_Probe] = []
    with ThreadPoolExecutor(max_workers=n) as pool:
        ahead: deque[Future[_Probe]] = deque()
        todo = iter(paths)
        for path in todo:  # keep a few frames in flight: enough to feed the workers, few
            ahead.append(pool.submit(prober, path))  # enough that a change of mode applies soon
            if len(ahead) >= 2 * n + 2:
                break
        i = 0
        while ahead:
            probe = ahead.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                ahead.append(pool.submit(prober, nxt))
            probes.append(probe)
            if probe.digest in seen:
                out.identical += 1
            elif probe.level == LUMA:
                out.luma_first += 1
            if probe.error is not None:
                out.keep.append(None)
                out.errors[i] = probe.error
            else:
                if last is not None and probe.digest not in seen:
                    recent.append(_undecided(*probe.first, last.bits, last.mask, threshold))
                    rate = sum(recent) / _WINDOW
                    prober.direct = rate > _DIRECT_ON or (prober.direct and rate >= _DIRECT_OFF)
                keep = last is None or rule.differs(probe, last)
                out.keep.append(keep)
                if keep:
                    last = probe
            seen.add(probe.digest)
            if on_progress is not None:
                on_progress(1)
            i += 1
    out.hashes = [None if p.error else p.bits for p in probes]
    return out
