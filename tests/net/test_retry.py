"""The one retry policy: what is transient, Retry-After in both forms, backoff, the budget."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from tests.fixtures.http import FaultServer, Reply
from tests.fixtures.media import jpeg_bytes
from vigie.errors import UnsafeURLError
from vigie.labelstudio.fetch import FetchError, ImageFetcher
from vigie.net import (
    BlockedAddressError,
    GaveUp,
    RetryableStatus,
    RetryPolicy,
    backoff,
    call_with_retries,
    is_transient_error,
    is_transient_status,
    parse_retry_after,
    retry_after_of,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def http_date(delta: float) -> str:
    return format_datetime(NOW + timedelta(seconds=delta), usegmt=True)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), (" 7 ", 7.0), ("0", 0.0), (http_date(30), 30.0), (http_date(-30), 0.0),
     ("soon", None), ("-5", None), ("1.5", None), ("", None), (None, None),
     ("Wed, 99 Foo 2015 07:28:00 GMT", None)],
)  # fmt: skip
def test_retry_after_takes_seconds_and_http_dates_and_ignores_garbage(
    value: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_retry_after_is_clamped_and_only_read_on_429_and_503() -> None:
    assert parse_retry_after("86400", cap=120) == 120
    assert parse_retry_after(http_date(99999), cap=60, now=NOW) == 60
    for code, expected in ((429, 3.0), (503, 3.0), (500, None), (301, None)):
        assert retry_after_of(httpx.Response(code, headers={"Retry-After": "3"})) == expected


def test_only_transient_failures_are_retried() -> None:
    for code in (408, 425, 429, 500, 502, 503, 504, 599):
        assert is_transient_status(code)
    for code in (400, 401, 403, 404, 410, 451):
        assert not is_transient_status(code)
    request = httpx.Request("GET", "http://h/")
    for exc in (
        httpx.ReadTimeout("t", request=request),
        httpx.ConnectError("refused", request=request),
        httpx.RemoteProtocolError("closed mid-body", request=request),
        ConnectionResetError(),
        TimeoutError(),
    ):
        assert is_transient_error(exc), exc
    for final in (
        BlockedAddressError("private"),
        UnsafeURLError("file://"),
        httpx.UnsupportedProtocol("ftp", request=request),
        ValueError("bad"),
    ):
        assert not is_transient_error(final), final


def test_backoff_is_exponential_with_full_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    waits = [[backoff(n, 0.5, 4.0, rng) for _ in range(200)] for n in (1, 2, 3, 4, 5)]
    for n, (ws, ceiling) in enumerate(zip(waits, (0.5, 1.0, 2.0, 4.0, 4.0), strict=True)):
        assert min(ws) >= 0.0 and max(ws) <= ceiling, n
        assert max(ws) > 0.8 * ceiling  # full jitter spreads over the whole range


def test_attempts_stop_after_the_retries_or_the_budget() -> None:
    attempts = RetryPolicy(retries=2, base=0.01, budget=60).attempts(random.Random(0))
    delays = []
    for _ in range(5):
        attempts.start()
        wait = attempts.wait()
        if wait is None:
            break
        delays.append(wait)
    assert len(delays) == 2 and attempts.count == 3 and "no retry left" in attempts.why_stopped
    tight = RetryPolicy(retries=5, budget=10, retry_after_max=120).attempts()
    tight.start()
    assert tight.wait(retry_after=3600) is None  # clamped to 120 s: still past the budget
    assert "budget" in tight.why_stopped


def test_call_with_retries_waits_what_the_server_asks_then_succeeds() -> None:
    slept: list[float] = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(503), None])

    def attempt(budget: float) -> str:
        resp = next(answers)
        if resp is not None:
            raise RetryableStatus(resp, retry_after_max=5)
        return "ok"

    policy = RetryPolicy(retries=3, base=0.01, cap=0.01)
    assert call_with_retries(attempt, policy, sleep=slept.append) == "ok"
    assert slept[0] == 5  # Retry-After 7, clamped to 5
    assert len(slept) == 2 and slept[1] <= 0.01  # no Retry-After: backoff


def test_persistent_transient_errors_end_in_gave_up() -> None:
    def attempt(budget: float) -> None:
        raise httpx.ConnectError("refused")

    with pytest.raises(
        GaveUp, match=r"after 3 attempts \(no retry left after 2\): refused"
    ) as info:
        call_with_retries(attempt, RetryPolicy(retries=2), sleep=lambda s: None)
    assert isinstance(info.value.last, httpx.ConnectError)


def test_a_final_error_is_raised_at_once() -> None:
    calls = []

    def attempt(budget: float) -> None:
        calls.append(budget)
        raise BlockedAddressError("private")

    with pytest.raises(BlockedAddressError):
        call_with_retries(attempt, RetryPolicy(retries=5), sleep=lambda s: None)
    assert len(calls) == 1


def test_the_fetcher_retries_503s_then_gets_the_image(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr("vigie.net.retry.time.sleep", slept.append)
    url = fault_server.route(
        "/a.jpg", Reply(status=503), Reply(status=503), Reply(status=503), Reply(body=jpeg_bytes())
    )
    fetcher = ImageFetcher(None, None, allow_private=True, retries=3)
    assert fetcher.fetch(url) == jpeg_bytes()
    assert fault_server.hits("/a.jpg") == 4 and len(slept) == 3
    gone = fault_server.route("/gone.jpg", Reply(status=404))
    with pytest.raises(FetchError, match="HTTP 404"):
        fetcher.fetch(gone)
    assert fault_server.hits("/gone.jpg") == 1  # 404 is final
    fetcher.close()


def test_the_fetcher_gives_up_when_retry_after_overruns_its_budget(
    fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr("vigie.net.retry.time.sleep", slept.append)
    url = fault_server.route("/busy.jpg", Reply(status=429, headers={"Retry-After": "3600"}))
    fetcher = ImageFetcher(None, None, allow_private=True, timeout=1.0, retries=5)
    with pytest.raises(FetchError, match=r"gave up.*HTTP 429"):
        fetcher.fetch(url)
    fetcher.close()
    assert fault_server.hits("/busy.jpg") == 1 and slept == []
