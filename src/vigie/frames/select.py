"""Which frames to take: pure functions over the presentation timestamps of a video.

The selection semantics (the seed's, made exact):

- the range is the frames whose timestamp lies in ``[start, end]`` (the whole video by default);
- ``all``: every frame of the range; ``step n``: the first frame of the range and every n-th after;
- ``time x``: the first frame at or after ``start``, ``start + x``, ``start + 2x``... (by timestamp,
  so it stays right on variable-frame-rate video);
- ``percentage p``: ``target = max(1, floor(p/100 * frames in range))``; ``equal`` spreads the
  target evenly over the range (first frame included), ``random`` draws a seeded sample of that
  size, returned in order.

``max_count`` caps any mode, using ``strategy`` to choose which candidates stay.
Every function returns frame indices (positions in presentation order), sorted and unique.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Literal

from vigie.errors import ConfigError

Mode = Literal["all", "percentage", "step", "time"]
Strategy = Literal["equal", "random"]
MODES: tuple[str, ...] = ("all", "percentage", "step", "time")
STRATEGIES: tuple[str, ...] = ("equal", "random")

# Timestamps are floats from pts * time_base: compare with a tolerance well below any frame gap.
EPS = 1e-6


def validate_selection(
    mode: str,
    value: float,
    start: float | None = None,
    end: float | None = None,
    strategy: str = "equal",
    max_count: int | None = None,
) -> None:
    """Check a selection request; raise ConfigError naming the bad flag."""
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}", hint=f"use one of: {', '.join(MODES)}")
    if strategy not in STRATEGIES:
        raise ConfigError(
            f"unknown strategy {strategy!r}", hint=f"use one of: {', '.join(STRATEGIES)}"
        )
    if not math.isfinite(value):
        raise ConfigError(f"--value must be a finite number, got {value}")
    if mode == "percentage" and not 0 < value <= 100:
        raise ConfigError(f"--value {value} is not a percentage", hint="use 0 < value <= 100")
    if mode == "step" and (value < 1 or value != int(value)):
        raise ConfigError(f"--value {value} is not a step", hint="use a whole number >= 1")
    if mode == "time" and value <= 0:
        raise ConfigError(f"--value {value} is not an interval", hint="use seconds > 0")
    for name, bound in (("--start", start), ("--end", end)):
        if bound is not None and (not math.isfinite(bound) or bound < 0):
            raise ConfigError(f"{name} {bound} is not a time", hint="use seconds >= 0")
    if start is not None and end is not None and end < start:
        raise ConfigError(f"--end {end} is before --start {start}", hint="swap them")
    if max_count is not None and max_count < 1:
        raise ConfigError(f"--max {max_count} must be at least 1")


def frame_range(
    timestamps: Sequence[float], start: float | None = None, end: float | None = None
) -> tuple[int, int]:
    """Indices ``[lo, hi)`` of the frames whose timestamp lies in ``[start, end]``.

    ``timestamps`` are the presentation times of the frames, ascending.
    """
    lo = 0 if start is None else bisect_left(timestamps, start - EPS)
    hi = len(timestamps) if end is None else bisect_right(timestamps, end + EPS)
    return lo, max(lo, hi)


def spread_evenly(candidates: Sequence[int], count: int) -> list[int]:
    """``count`` items of ``candidates`` spread evenly, the first included."""
    n = len(candidates)
    if count >= n:
        return list(candidates)
    return [candidates[(k * n) // count] for k in range(count)]


def sample_sorted(candidates: Sequence[int], count: int, seed: int) -> list[int]:
    """A seeded random sample of ``count`` items of ``candidates``, in their order."""
    n = len(candidates)
    if count >= n:
        return list(candidates)
    picks = random.Random(seed).sample(range(n), count)
    return [candidates[i] for i in sorted(picks)]


def cap(
    candidates: Sequence[int], max_count: int | None, strategy: Strategy, seed: int
) -> list[int]:
    """Keep at most ``max_count`` candidates, chosen by ``strategy``."""
    if max_count is None or len(candidates) <= max_count:
        return list(candidates)
    if strategy == "random":
        return sample_sorted(candidates, max_count, seed)
    return spread_evenly(candidates, max_count)


def percentage_target(p: float, n: int) -> int:
    """``max(1, floor(p/100 * n))`` frames of ``n`` (0 when the range is empty)."""
    if n <= 0:
        return 0
    # The small tolerance keeps e.g. 29 % of 100 at 29 despite binary floating point.
    return min(n, max(1, math.floor(p * n / 100 + 1e-9)))


def select_time(
    timestamps: Sequence[float], lo: int, hi: int, interval: float, origin: float
) -> list[int]:
    """The first frame at or after ``origin``, ``origin + interval``... within ``[lo, hi)``."""
    picked: list[int] = []
    k = 0
    while True:
        target = origin + k * interval
        j = bisect_left(timestamps, target - EPS, lo, hi)
        if j >= hi:
            return picked
        picked.append(j)
        # Every target up to this frame's time maps onto it: jump to the first one beyond.
        k = max(k + 1, math.floor((timestamps[j] + EPS - origin) / interval) + 1)


def select_frames(
    timestamps: Sequence[float],
    *,
    mode: Mode,
    value: float = 1,
    start: float | None = None,
    end: float | None = None,
    strategy: Strategy = "equal",
    seed: int = 0,
    max_count: int | None = None,
) -> list[int]:
    """Indices of the frames to extract, sorted and unique.

    Args:
        timestamps: presentation time (seconds) of every frame, ascending.
        mode: ``all``, ``percentage``, ``step`` or ``time``.
        value: the percentage, the step (frames) or the interval (seconds).
        start, end: the time range in seconds (inclusive); None = the video's ends.
        strategy: ``equal`` or ``random``: how ``percentage`` (and any ``max_count`` cap) picks.
        seed: the random seed (same seed, same frames).
        max_count: at most this many frames.

    Raises:
        ConfigError: an invalid mode, value, range or cap.
    """
    validate_selection(mode, value, start, end, strategy, max_count)
    lo, hi = frame_range(timestamps, start, end)
    if hi <= lo:
        return []
    if mode == "all":
        candidates: list[int] = list(range(lo, hi))
    elif mode == "step":
        candidates = list(range(lo, hi, int(value)))
    elif mode == "time":
        origin = timestamps[lo] if start is None else start
        candidates = select_time(timestamps, lo, hi, value, origin)
    else:
        target = percentage_target(value, hi - lo)
        if max_count is not None:
            target = min(target, max_count)
        span = range(lo, hi)
        if strategy == "random":
            return sample_sorted(span, target, seed)
        return spread_evenly(span, target)
    return cap(candidates, max_count, strategy, seed)


def selection_tag(
    mode: str,
    value: float,
    start: float | None = None,
    end: float | None = None,
    strategy: str = "equal",
    seed: int = 0,
    max_count: int | None = None,
) -> str:
    """A short stable name for a selection, used in frame file names: ``step10``, ``time2.5s``..."""

    def num(x: float) -> str:
        return f"{x:g}"

    if mode == "all":
        tag = "all"
    elif mode == "step":
        tag = f"step{int(value)}"
    elif mode == "time":
        tag = f"time{num(value)}s"
    else:
        tag = f"pct{num(value)}"
    randomised = strategy == "random" and (mode == "percentage" or max_count is not None)
    if mode == "percentage" or max_count is not None:
        tag += f"-{strategy}"
    if randomised:
        tag += f"{seed}"
    if max_count is not None:
        tag += f"-max{max_count}"
    if start is not None or end is not None:
        tag += f"-from{num(start or 0)}s"
        if end is not None:
            tag += f"-to{num(end)}s"
    return tag


def seed_selection_indices(
    total: int, fps: float, *, mode: Mode, value: float, start_sec: float = 0.0
) -> list[int]:
    """The seed script's index arithmetic on a constant-frame-rate video (for comparisons).

    ``step``: every ``value``-th frame; ``time``: every ``int(fps * value)``-th frame; both from
    the frame at ``int(start_sec * fps)``. Used by the benchmark to check Vigie picks the same
    frames as the seed did on the videos where the seed was right.
    """
    first = int(start_sec * fps)
    step = int(value) if mode == "step" else max(1, round(fps * value))
    return list(range(first, total, step))
