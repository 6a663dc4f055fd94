"""Selection semantics as properties: count, order, bounds, determinism for a seed."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigie.errors import ConfigError
from vigie.frames import frame_range, select_frames, selection_tag
from vigie.frames.select import percentage_target, seed_selection_indices


@st.composite
def timelines(draw: st.DrawFn) -> list[float]:
    """Ascending presentation times: constant or variable frame rate, possibly empty."""
    n = draw(st.integers(0, 300))
    if draw(st.booleans()):
        fps = draw(st.sampled_from([1.0, 10.0, 25.0, 29.97, 30.0, 60.0]))
        return [i / fps for i in range(n)]
    gaps = draw(st.lists(st.floats(0.001, 2.0), min_size=n, max_size=n))
    times, t = [], 0.0
    for g in gaps:
        times.append(round(t, 6))
        t += g
    return sorted(set(times))


ranges = st.tuples(
    st.one_of(st.none(), st.floats(0, 50)), st.one_of(st.none(), st.floats(0, 80))
).filter(lambda r: r[0] is None or r[1] is None or r[0] <= r[1])


def in_range(ts: list[float], start: float | None, end: float | None) -> list[int]:
    return [
        i
        for i, t in enumerate(ts)
        if (start is None or t >= start - 1e-6) and (end is None or t <= end + 1e-6)
    ]


@settings(max_examples=150, deadline=None)
@given(timelines(), ranges)
def test_all_selects_exactly_the_frames_of_the_range(ts: list[float], rng: tuple) -> None:
    start, end = rng
    assert select_frames(ts, mode="all", start=start, end=end) == in_range(ts, start, end)


@settings(max_examples=150, deadline=None)
@given(timelines(), ranges, st.integers(1, 50))
def test_step_takes_first_frame_of_range_then_every_nth(
    ts: list[float], rng: tuple, n: int
) -> None:
    start, end = rng
    inside = in_range(ts, start, end)
    picked = select_frames(ts, mode="step", value=n, start=start, end=end)
    assert picked == inside[::n]
    assert len(picked) == math.ceil(len(inside) / n)


@settings(max_examples=150, deadline=None)
@given(timelines(), ranges, st.floats(0.01, 20))
def test_time_picks_first_frame_at_or_after_each_instant(
    ts: list[float], rng: tuple, x: float
) -> None:
    start, end = rng
    inside = in_range(ts, start, end)
    picked = select_frames(ts, mode="time", value=x, start=start, end=end)
    assert picked == sorted(set(picked))
    assert set(picked) <= set(inside)
    if not inside:
        assert picked == []
        return
    origin = ts[inside[0]] if start is None else start
    assert picked[0] == inside[0]
    # every instant origin + k*x inside the range maps to a picked frame: the first at/after it
    k = 0
    while origin + k * x <= ts[inside[-1]] + 1e-6:
        instant = origin + k * x
        first = next(i for i in inside if ts[i] >= instant - 1e-6)
        assert first in picked
        k += 1
        if k > 5000:
            break
    # and no picked frame is there without an instant between it and the previous frame
    for j in picked[1:]:
        prev = ts[j - 1]
        kk = math.floor((ts[j] + 1e-6 - origin) / x)
        assert origin + kk * x > prev - 1e-6


@settings(max_examples=150, deadline=None)
@given(
    timelines(),
    ranges,
    st.floats(0.01, 100),
    st.sampled_from(["equal", "random"]),
    st.integers(0, 10_000),
)
def test_percentage_count_order_bounds_and_seed(
    ts: list[float], rng: tuple, p: float, strategy: str, seed: int
) -> None:
    start, end = rng
    inside = in_range(ts, start, end)
    kw = {"mode": "percentage", "value": p, "start": start, "end": end, "strategy": strategy}
    picked = select_frames(ts, seed=seed, **kw)  # type: ignore[arg-type]
    expected = max(1, math.floor(p / 100 * len(inside) + 1e-9)) if inside else 0
    assert len(picked) == min(expected, len(inside))
    assert picked == sorted(set(picked))
    assert set(picked) <= set(inside)
    assert picked == select_frames(ts, seed=seed, **kw)  # type: ignore[arg-type]
    if strategy == "equal" and inside:
        assert picked[0] == inside[0]


@settings(max_examples=100, deadline=None)
@given(
    timelines(),
    st.sampled_from(["all", "step", "time", "percentage"]),
    st.integers(1, 40),
    st.sampled_from(["equal", "random"]),
    st.integers(0, 99),
)
def test_max_caps_any_mode_with_the_strategy(
    ts: list[float], mode: str, cap: int, strategy: str, seed: int
) -> None:
    value = {"all": 1, "step": 3, "time": 0.5, "percentage": 50}[mode]
    uncapped = select_frames(ts, mode=mode, value=value)  # type: ignore[arg-type]
    picked = select_frames(
        ts,
        mode=mode,  # type: ignore[arg-type]
        value=value,
        strategy=strategy,  # type: ignore[arg-type]
        seed=seed,
        max_count=cap,
    )
    assert len(picked) == min(cap, len(uncapped)) or mode == "percentage"
    assert len(picked) <= cap
    assert picked == sorted(set(picked))
    if mode != "percentage":
        assert set(picked) <= set(uncapped)
        if strategy == "equal" and uncapped:
            assert picked[0] == uncapped[0]


def test_random_strategy_differs_between_seeds_and_repeats_for_one() -> None:
    ts = [i / 25 for i in range(1000)]
    a = select_frames(ts, mode="percentage", value=5, strategy="random", seed=1)
    b = select_frames(ts, mode="percentage", value=5, strategy="random", seed=2)
    assert a != b
    assert a == select_frames(ts, mode="percentage", value=5, strategy="random", seed=1)


def test_equal_percentage_spreads_evenly_from_the_first_frame() -> None:
    ts = [i / 10 for i in range(100)]
    assert select_frames(ts, mode="percentage", value=10) == list(range(0, 100, 10))
    assert select_frames(ts, mode="percentage", value=0.1) == [0]  # max(1, floor(0.1))


def test_percentage_target_is_exact_despite_binary_floats() -> None:
    assert percentage_target(29, 100) == 29
    assert percentage_target(0.29 * 100, 100) == 29
    assert percentage_target(100, 7) == 7
    assert percentage_target(50, 0) == 0


def test_time_mode_follows_timestamps_on_variable_frame_rate() -> None:
    ts = [0.0, 0.04, 0.08, 0.3, 0.34, 1.0, 1.033, 1.066, 2.0]
    assert select_frames(ts, mode="time", value=0.25) == [0, 3, 5, 8]
    assert select_frames(ts, mode="time", value=0.5, start=0.3) == [3, 5, 8]


def test_range_is_inclusive_on_both_ends() -> None:
    ts = [i / 10 for i in range(50)]
    assert frame_range(ts, 1.0, 2.0) == (10, 21)
    assert select_frames(ts, mode="step", value=5, start=1.0, end=2.0) == [10, 15, 20]
    assert select_frames(ts, mode="all", start=10.0) == []


def test_vigie_matches_the_seed_selection_on_constant_frame_rate() -> None:
    ts = [i / 25 for i in range(4500)]
    for mode, value in (("step", 10), ("time", 10), ("step", 1), ("time", 0.4)):
        expected = seed_selection_indices(4500, 25.0, mode=mode, value=value)  # type: ignore[arg-type]
        assert select_frames(ts, mode=mode, value=value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mode", "value", "kw"),
    [
        ("bogus", 1, {}),
        ("percentage", 0, {}),
        ("percentage", 150, {}),
        ("step", 0, {}),
        ("step", 2.5, {}),
        ("time", -1, {}),
        ("time", float("nan"), {}),
        ("all", 1, {"start": 5, "end": 1}),
        ("all", 1, {"max_count": 0}),
        ("percentage", 5, {"strategy": "sometimes"}),
    ],
)
def test_invalid_selections_raise_config_errors(mode: str, value: float, kw: dict) -> None:
    with pytest.raises(ConfigError):
        select_frames([0.0, 0.1], mode=mode, value=value, **kw)  # type: ignore[arg-type]


def test_selection_tags_are_descriptive_and_stable() -> None:
    assert selection_tag("step", 10) == "step10"
    assert selection_tag("time", 2.5, start=10, end=60) == "time2.5s-from10s-to60s"
    assert selection_tag("percentage", 5, strategy="random", seed=3) == "pct5-random3"
    assert selection_tag("all", 1, max_count=20) == "all-equal-max20"
