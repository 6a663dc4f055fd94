"""The capture schedule: a fixed grid on a monotonic clock, missed ticks coalesced.

Tick ``k`` is due at ``start + k * every``. A slow poll never shifts later ticks (no drift), and
ticks missed while a poll ran are coalesced, not replayed in a burst: the latest tick already due
is polled at once, the ones before it are skipped. A poll that overruns the next tick by a
millisecond therefore costs no snapshot; only a poll longer than two periods loses ticks.
"""

from __future__ import annotations

import math


class Grid:
    """Ticks ``start + k * every`` of a monotonic clock."""

    def __init__(self, start: float, every: float) -> None:
        if every <= 0:
            raise ValueError("every must be > 0")
        self.start = start
        self.every = every
        self.k = 0
        self.missed = 0  # ticks skipped because a poll overran them

    def due(self) -> float:
        """When the current tick is due."""
        return self.start + self.k * self.every

    def _first_at_or_after(self, t: float) -> int:
        # a tiny epsilon so a tick computed as 0.30000000000000004 counts as "at" 0.3
        return max(0, math.ceil((t - self.start) / self.every - 1e-9))

    def _last_at_or_before(self, t: float) -> int:
        return max(0, math.floor((t - self.start) / self.every + 1e-9))

    def advance(self, now: float) -> float:
        """Move past the current tick to the next one to poll; return its time.

        That is the next tick when it is still ahead of ``now``, else the latest tick already due
        (polled at once, late); the ticks between are counted in :attr:`missed`.
        """
        target = max(self.k + 1, self._last_at_or_before(now))
        self.missed += target - self.k - 1
        self.k = target
        return self.due()

    def skip_until(self, t: float) -> float:
        """Move to the first tick at or after ``t`` (e.g. a server's Retry-After); return it."""
        self.k = max(self.k, self._first_at_or_after(t))
        return self.due()
