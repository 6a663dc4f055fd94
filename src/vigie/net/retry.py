"""The one retry policy (reliability promise 5): what is transient, how long to wait, when to stop.

Only transient failures are retried: timeouts, connection errors and resets, HTTP 408, 425, 429
and 5xx; 404, 403, 410 and the rest are final. Waits are exponential with full jitter, capped;
a server's ``Retry-After`` (seconds or an HTTP date; garbage ignored) replaces the backoff,
clamped; and all the attempts and waits of one item fit in a total time budget.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import httpx

from vigie.errors import UnsafeURLError

T = TypeVar("T")
TRANSIENT_STATUS = frozenset({408, 425, 429})
RETRY_AFTER_STATUS = frozenset({429, 503})


def is_transient_status(code: int) -> bool:
    """Whether an HTTP status may go away on a retry (408, 425, 429, 5xx)."""
    return code in TRANSIENT_STATUS or 500 <= code <= 599


def is_transient_error(exc: BaseException) -> bool:
    """Whether an exception of one attempt may go away on a retry: timeouts, refused or reset
    connections, a connection closed mid-answer. A refused address or scheme is final."""
    if isinstance(exc, UnsafeURLError | httpx.UnsupportedProtocol | httpx.InvalidURL):
        return False
    if isinstance(exc, RetryableStatus):
        return True
    return isinstance(
        exc, TimeoutError | ConnectionError | httpx.TimeoutException | httpx.TransportError
    )


def parse_retry_after(
    value: str | None, *, cap: float | None = None, now: datetime | None = None
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date.

    Args:
        value: the header (None when absent).
        cap: clamp the result to ``[0, cap]`` (a server asking for a day is not obeyed).
        now: the current time, for HTTP dates (tests).

    Returns:
        the seconds (>= 0), or None when absent or unreadable.
    """
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    seconds = max(0.0, seconds)
    return min(seconds, cap) if cap is not None else seconds


def retry_after_of(resp: httpx.Response, cap: float | None = None) -> float | None:
    """The ``Retry-After`` of a 429 or 503 answer (None for other statuses)."""
    if resp.status_code not in RETRY_AFTER_STATUS:
        return None
    return parse_retry_after(resp.headers.get("retry-after"), cap=cap)


def backoff(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter: uniform(0, min(cap, base * 2**(attempt-1)))."""
    return rng.uniform(0.0, min(cap, base * (2 ** max(0, attempt - 1))))


@dataclass(frozen=True)
class RetryPolicy:
    """How one item is retried.

    Args:
        retries: retries after the first attempt.
        base, cap: backoff (seconds) before retry n: uniform(0, min(cap, base * 2**(n-1))).
        budget: seconds all attempts and waits of one item may take.
        retry_after_max: clamp for a server's Retry-After (seconds).
    """

    retries: int = 3
    base: float = 0.5
    cap: float = 30.0
    budget: float = 300.0
    retry_after_max: float = 120.0

    def attempts(self, rng: random.Random | None = None) -> Attempts:
        """A fresh retry state for one item."""
        return Attempts(self, rng or random.Random())


class Attempts:
    """The retry state of one item: attempts made, time spent against the budget."""

    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self.policy, self.rng = policy, rng
        self.count = 0
        self.started = time.monotonic()
        self.why_stopped = ""

    def start(self) -> float:
        """Count an attempt; return the seconds of budget left for it (at least 1 ms)."""
        self.count += 1
        return max(0.001, self.policy.budget - (time.monotonic() - self.started))

    def wait(self, retry_after: float | None = None) -> float | None:
        """After a transient failure: the seconds to wait before the next attempt, or None when
        no retry is left (``why_stopped`` says which limit was reached)."""
        p = self.policy
        if self.count > p.retries:
            self.why_stopped = f"no retry left after {p.retries}"
            return None
        delay = backoff(self.count, p.base, p.cap, self.rng)
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), p.retry_after_max)
        if time.monotonic() - self.started + delay > p.budget:
            self.why_stopped = f"retry budget of {p.budget:g}s spent"
            return None
        return delay


class RetryableStatus(Exception):
    """A transient HTTP answer (408, 429, 5xx...), raised by an attempt so that it is retried."""

    def __init__(self, resp: httpx.Response, retry_after_max: float | None = None) -> None:
        super().__init__(f"HTTP {resp.status_code} {resp.reason_phrase}".strip())
        self.status = resp.status_code
        self.retry_after = retry_after_of(resp, retry_after_max)


class GaveUp(Exception):
    """Transient failures went on until no retry was left; ``last`` is the last one."""

    def __init__(self, last: BaseException, attempts: Attempts) -> None:
        what = str(last) or last.__class__.__name__
        super().__init__(
            f"gave up after {attempts.count} attempts ({attempts.why_stopped}): {what}"
        )
        self.last = last
        self.attempts = attempts.count


def call_with_retries(
    attempt: Callable[[float], T],
    policy: RetryPolicy,
    *,
    rng: random.Random | None = None,
    sleep: Callable[[float], None] | None = None,
) -> T:
    """Call ``attempt(seconds of budget left)`` until it returns, retrying transient errors.

    Raises:
        GaveUp: transient failures until no retry was left (count or budget).
        Exception: the first final one, as it is.
    """
    state = policy.attempts(rng)
    while True:
        budget = state.start()
        try:
            return attempt(budget)
        except Exception as exc:
            if not is_transient_error(exc):
                raise
            delay = state.wait(getattr(exc, "retry_after", None))
            if delay is None:
                raise GaveUp(exc, state) from exc
            (sleep or time.sleep)(delay)
