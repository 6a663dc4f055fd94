"""Camera health from its last polls: ok, stale or failing, with the reason in words.

Pure functions of what the catalog says (no database here), so each rule is tested alone:

- **stale**: nothing polled yet, the capture run of the last poll has ended, or no poll for
  longer than ``STALE_FACTOR`` times the capture interval (a capture killed without a trace);
- **failing**: the last ``FAILING_AFTER`` polls (or every poll, if fewer) failed;
- **ok** otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

FAILING_AFTER = 3
STALE_FACTOR = 3.0
STALE_MIN_SECONDS = 30.0


@dataclass(frozen=True)
class Poll:
    """One poll of a camera as the catalog recorded it."""

    at: datetime
    status: str  # done | duplicate | failed
    error_class: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Health:
    state: str  # ok | stale | failing
    reason: str


def utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (the catalog stores UTC; SQLite returns it naive)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` (None stays None)."""
    if value is None:
        return None
    return utc(value).isoformat(timespec="seconds").replace("+00:00", "Z")


def age(seconds: float) -> str:
    """A short duration in words: ``12 s``, ``5 min``, ``3 h``, ``2 d``."""
    s = max(0.0, seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 36 * 3600:
        return f"{s / 3600:.0f} h"
    return f"{s / 86400:.0f} d"


def camera_health(
    polls: Sequence[Poll],
    *,
    now: datetime,
    every: float | None,
    run_status: str | None,
    last_success: datetime | None,
) -> Health:
    """The health of one camera.

    Args:
        polls: its most recent polls, newest first (a few are enough).
        now: the time to judge by.
        every: seconds between polls of its capture run (None if unknown: 60).
        run_status: status of the run of the newest poll (``running``, ``done``...).
        last_success: time of its newest poll that got a picture (kept or duplicate).
    """
    if not polls:
        return Health("stale", "no poll recorded yet")
    newest = polls[0]
    since_poll = (utc(now) - utc(newest.at)).total_seconds()
    failed = 0
    for poll in polls:
        if poll.status != "failed":
            break
        failed += 1
    failing = failed >= min(FAILING_AFTER, len(polls))
    why_failing = ""
    if failing:
        detail = f"{newest.error_class or 'error'}" + (f": {newest.error}" if newest.error else "")
        many = f"the last {failed} polls failed" if failed > 1 else "the last poll failed"
        why_failing = f"{many} ({detail[:160]})"
    interval = every if every and every > 0 else 60.0
    if run_status is not None and run_status != "running":
        reason = f"capture not running (its run is {run_status}); last poll {age(since_poll)} ago"
        return Health("stale", f"{reason}; {why_failing}" if failing else reason)
    if since_poll > max(STALE_FACTOR * interval, STALE_MIN_SECONDS):
        reason = f"no poll for {age(since_poll)} (expected every {interval:g} s)"
        return Health("stale", f"{reason}; {why_failing}" if failing else reason)
    if failing:
        success = (
            f"; last success {age((utc(now) - utc(last_success)).total_seconds())} ago"
            if last_success is not None
            else "; no success yet"
        )
        return Health("failing", why_failing + success)
    if last_success is None:
        return Health("ok", f"polling every {interval:g} s")
    return Health("ok", f"last success {age((utc(now) - utc(last_success)).total_seconds())} ago")
