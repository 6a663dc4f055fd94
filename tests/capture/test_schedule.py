from __future__ import annotations

import time

import pytest

from tests.capture.helpers import cycling, frames
from tests.fixtures.common import Workspace
from tests.fixtures.http import FaultServer, Reply, RequestInfo
from vigie.capture import capture
from vigie.capture.schedule import Grid


def test_grid_ticks_do_not_drift_after_slow_polls() -> None:
    grid = Grid(start=100.0, every=1.0)
    assert grid.due() == 100.0
    assert grid.advance(100.3) == 101.0  # poll took 0.3 s: next tick on the grid
    assert grid.advance(101.999) == 102.0
    assert grid.missed == 0


def test_grid_coalesces_missed_ticks_instead_of_bursting() -> None:
    grid = Grid(start=0.0, every=1.0)
    assert grid.advance(3.5) == 3.0  # ticks 1 and 2 were missed: one late poll for 3, not three
    assert grid.missed == 2
    assert grid.advance(3.6) == 4.0  # then back on the grid
    assert grid.missed == 2


def test_grid_poll_overrunning_the_next_tick_slightly_loses_no_tick() -> None:
    # every 0.1 s, each poll taking a little longer than the period now and then (a loaded
    # machine): the soak's "snapshot count = duration/period +-1" needs no tick lost to that
    grid = Grid(start=0.0, every=0.1)
    polls, now = 0, 0.0
    while grid.due() < 60.0:
        polls += 1
        now = max(now, grid.due()) + (0.105 if polls % 7 == 0 else 0.02)  # the poll's end
        grid.advance(now)
    assert grid.missed == 0
    assert polls == 600


def test_grid_skip_until_lands_on_the_grid() -> None:
    grid = Grid(start=0.0, every=0.1)
    assert grid.skip_until(1.05) == pytest.approx(1.1)
    assert grid.skip_until(0.5) == pytest.approx(1.1)  # never goes back
    assert Grid(0.0, 0.1).advance(0.30000000000000004) == pytest.approx(0.3)
    assert Grid(0.0, 0.1).advance(0.29999999999999993) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        Grid(0.0, 0)


def test_capture_slow_poll_skips_ticks_without_burst(
    workspace: Workspace, fault_server: FaultServer
) -> None:
    times: list[float] = []
    a, b = frames(60), frames(61)
    script = [
        Reply(body=a),
        Reply(body=b, delay=0.7),  # overruns about 3 ticks of 0.2 s
        *[Reply(body=x) for x in (a, b, a)],
    ]

    def route(info: RequestInfo) -> Reply:
        times.append(time.monotonic())
        return script.pop(0) if len(script) > 1 else script[0]

    url = fault_server.route("/g.jpg", route)
    result = capture(
        [url],
        names=["g"],
        every=0.2,
        count=5,
        timeout=5,
        out=workspace.root / "caps",
        settings=workspace.settings,
        catalog=workspace.catalog,
    )
    stats = result.cameras[0]
    assert stats.polls == 5 and len(times) == 5
    assert stats.missed_ticks >= 2
    assert times[2] - times[1] >= 0.7  # the missed ticks were not replayed right after
    assert stats.kept == 5


def test_capture_count_is_polls_per_camera(workspace: Workspace, fault_server: FaultServer) -> None:
    url = fault_server.route("/n.jpg", cycling(frames(62)))
    result = capture(
        [url],
        every=0.01,
        count=7,
        out=workspace.root / "caps",
        settings=workspace.settings,
        catalog=workspace.catalog,
    )
    assert result.polls == 7 == fault_server.hits("/n.jpg")
    assert (result.kept, result.duplicates) == (1, 6)
