"""Camera health rules: ok, stale or failing, and the reason given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vigie.serve.health import Poll, age, camera_health, iso

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _polls(*spec: tuple[float, str]) -> list[Poll]:
    """Polls ``seconds before NOW`` with a status, newest first."""
    return [
        Poll(NOW - timedelta(seconds=s), st, "http_503" if st == "failed" else None, "busy")
        for s, st in spec
    ]


def test_a_camera_polled_on_time_is_ok_with_its_last_success() -> None:
    h = camera_health(
        _polls((20, "duplicate"), (80, "done")),
        now=NOW, every=60, run_status="running", last_success=NOW - timedelta(seconds=20),
    )  # fmt: skip
    assert (h.state, h.reason) == ("ok", "last success 20 s ago")


def test_one_failed_poll_among_good_ones_is_still_ok() -> None:
    h = camera_health(
        _polls((5, "failed"), (65, "done"), (125, "done")),
        now=NOW, every=60, run_status="running", last_success=NOW - timedelta(seconds=65),
    )  # fmt: skip
    assert h.state == "ok"


def test_three_failures_in_a_row_are_failing_with_the_error() -> None:
    h = camera_health(
        _polls((5, "failed"), (65, "failed"), (125, "failed"), (185, "done")),
        now=NOW, every=60, run_status="running", last_success=NOW - timedelta(seconds=185),
    )  # fmt: skip
    assert h.state == "failing"
    assert h.reason == "the last 3 polls failed (http_503: busy); last success 3 min ago"


def test_a_camera_that_never_answered_is_failing_without_success() -> None:
    h = camera_health(
        _polls((2, "failed")), now=NOW, every=5, run_status="running", last_success=None
    )
    assert (h.state, h.reason) == (
        "failing",
        "the last poll failed (http_503: busy); no success yet",
    )


def test_a_stopped_capture_is_stale_and_says_so() -> None:
    h = camera_health(
        _polls((7200, "done")), now=NOW, every=60, run_status="interrupted",
        last_success=NOW - timedelta(hours=2),
    )  # fmt: skip
    assert (h.state, h.reason) == (
        "stale",
        "capture not running (its run is interrupted); last poll 2 h ago",
    )


def test_no_poll_for_three_intervals_is_stale_even_if_the_run_says_running() -> None:
    # a capture killed with SIGKILL leaves its run 'running' forever
    h = camera_health(
        _polls((400, "done")), now=NOW, every=60, run_status="running",
        last_success=NOW - timedelta(seconds=400),
    )  # fmt: skip
    assert (h.state, h.reason) == ("stale", "no poll for 7 min (expected every 60 s)")
    fast = camera_health(
        _polls((20, "done")), now=NOW, every=1, run_status="running",
        last_success=NOW - timedelta(seconds=20),
    )  # fmt: skip
    assert fast.state == "ok"  # never stale within 30 s, however fast the capture


def test_a_camera_without_any_poll_is_stale() -> None:
    h = camera_health([], now=NOW, every=None, run_status=None, last_success=None)
    assert (h.state, h.reason) == ("stale", "no poll recorded yet")


def test_ages_and_dates_read_well() -> None:
    assert [age(s) for s in (3, 89, 600, 5000, 7200, 3 * 86400)] == [
        "3 s", "89 s", "10 min", "83 min", "2 h", "3 d"
    ]  # fmt: skip
    assert iso(datetime(2026, 3, 1, 12, 0, 5)) == "2026-03-01T12:00:05Z"  # naive = UTC
    assert iso(None) is None
