"""vigie.timeparse: one time format (seconds, m:ss, h:mm:ss.f) for every time-like option."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigie.timeparse import TimeFormatError, format_time, parse_time


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("2.5", 2.5),
        (".5", 0.5),
        ("1:30", 90.0),
        ("0:01", 1.0),
        ("1:30.25", 90.25),
        ("00:01:30.5", 90.5),
        ("1:02:03", 3723.0),
        ("90:00", 5400.0),
        (" 12 ", 12.0),
    ],
)
def test_parse_time_reads_seconds_minutes_and_hours(text: str, seconds: float) -> None:
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "-1", "abc", "1:60", "1:61:00", "1:2:3:4", "1:", "1e3"])
def test_parse_time_refuses_what_is_not_a_time_and_says_the_forms(text: str) -> None:
    with pytest.raises(TimeFormatError) as info:
        parse_time(text)
    assert repr(text) in str(info.value)


def test_time_format_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="1:30"):
        parse_time("x")


def test_format_time_never_writes_sixty_seconds() -> None:
    assert format_time(59.9999999) == "0:01:00"
    assert format_time(90.5) == "0:01:30.5"
    assert format_time(0) == "0:00:00"


@given(st.floats(min_value=0, max_value=10 * 24 * 3600, allow_nan=False))
def test_format_then_parse_round_trips(seconds: float) -> None:
    assert parse_time(format_time(seconds)) == pytest.approx(seconds, abs=1e-6)


@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59), st.integers(0, 999))
def test_every_clock_spelling_means_the_same_seconds(h: int, m: int, s: int, ms: int) -> None:
    total = h * 3600 + m * 60 + s + ms / 1000
    assert parse_time(f"{h}:{m:02d}:{s:02d}.{ms:03d}") == pytest.approx(total)
    assert parse_time(f"{h * 60 + m}:{s:02d}.{ms:03d}") == pytest.approx(total)
    assert parse_time(f"{total:.3f}") == pytest.approx(total)
