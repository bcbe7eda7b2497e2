"""GitHub write pacing shared by every process: an average gap, bursts within the per-minute budget, and
GitHub's hourly budget across the fleet."""

from __future__ import annotations

import bisect

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.pace import PER_HOUR, PER_MINUTE, budget_for, github_budgets, schedule
from app.storage.pacing import SharedWritePacer


def most_in_any_window(sends: list[float], window: float) -> int:
    ordered = sorted(sends)
    return max(bisect.bisect_left(ordered, s + window) - i for i, s in enumerate(ordered))


@settings(max_examples=60, deadline=None)
@given(
    interval=st.sampled_from([0.1, 0.5, 0.75, 1.0, 2.0, 10.0]),
    gaps=st.lists(st.floats(min_value=0.0, max_value=30.0), min_size=1, max_size=700),
)
def test_no_schedule_ever_exceeds_githubs_minute_or_hour_budget(interval: float, gaps: list[float]) -> None:
    budgets = github_budgets(interval)
    tats: tuple[float | None, ...] = (None, None)
    now, sends = 0.0, []
    for gap in gaps:
        now += gap
        send, tats = schedule(tats, now, budgets)
        assert send >= now
        sends.append(send)
    # Float rounding may land a send a hair inside a window edge; a microsecond covers it.
    assert most_in_any_window(sends, 60.0 - 1e-6) <= PER_MINUTE
    assert most_in_any_window(sends, 3600.0 - 1e-6) <= PER_HOUR


def test_a_burst_goes_out_at_once_within_the_minute_budget() -> None:
    assert budget_for(80, 60.0, 1.0).tolerance == 19.0 and budget_for(80, 60.0, 0.75).tolerance == 0.0
    budgets = github_budgets(1.0)
    tats: tuple[float | None, ...] = (None, None)
    sends = []
    for _ in range(25):
        send, tats = schedule(tats, 0.0, budgets)
        sends.append(send)
    assert sends[:20] == [0.0] * 20 and sends[20:] == [1.0, 2.0, 3.0, 4.0, 5.0]


async def test_processes_share_one_budget_per_installation(engine: AsyncEngine) -> None:
    # Two pacers stand for two processes; a long interval keeps the arithmetic far from timing.
    first, second = SharedWritePacer(engine, 100.0), SharedWritePacer(engine, 100.0)
    free = [await (first if n % 2 else second).delay(7) for n in range(79)]
    assert free == [0.0] * 79  # a burst within GitHub's 80 a minute goes out at once
    held = await first.delay(7)
    assert 30.0 < held <= 100.0  # the next waits for its slot, whichever process sends it
    assert await second.delay(8) == 0.0  # another installation has its own budget


async def test_the_hourly_budget_holds_across_processes(engine: AsyncEngine) -> None:
    # At a 0.1 s gap the minute schedule alone would send the 120th call 12 s from now; GitHub's
    # 500 an hour (400 sustained + 100 of burst) holds it back about three minutes, fleet-wide.
    first, second = SharedWritePacer(engine, 0.1), SharedWritePacer(engine, 0.1)
    waits = [await (first if n % 2 else second).delay(7) for n in range(120)]
    assert waits[50] < 10.0
    assert 150.0 < waits[119] < 200.0


async def test_zero_interval_turns_pacing_off(engine: AsyncEngine) -> None:
    pacer = SharedWritePacer(engine, 0.0)
    assert [await pacer.delay(7) for _ in range(5)] == [0.0] * 5
