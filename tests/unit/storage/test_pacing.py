"""GitHub write pacing shared by every process: an average gap, bursts within the per-minute budget."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.pacing import SharedWritePacer, burst_tolerance


def test_bursts_never_exceed_githubs_per_minute_budget() -> None:
    for interval in (0.5, 0.75, 1.0, 2.0, 10.0):
        tau = burst_tolerance(interval)
        # GCRA admits at most 60/T + tau/T + 1 calls in any 60 s window.
        assert 60 / interval + tau / interval + 1 <= 80 or tau == 0
    assert burst_tolerance(1.0) == 19.0 and burst_tolerance(0.75) == 0.0


async def test_processes_share_one_budget_per_installation(engine: AsyncEngine) -> None:
    # Two pacers stand for two processes; a long interval keeps the arithmetic far from timing.
    first, second = SharedWritePacer(engine, 100.0), SharedWritePacer(engine, 100.0)
    free = [await (first if n % 2 else second).delay(7) for n in range(79)]
    assert free == [0.0] * 79  # a burst within GitHub's 80 a minute goes out at once
    held = await first.delay(7)
    assert 30.0 < held <= 100.0  # the next waits for its slot, whichever process sends it
    assert await second.delay(8) == 0.0  # another installation has its own budget


async def test_zero_interval_turns_pacing_off(engine: AsyncEngine) -> None:
    pacer = SharedWritePacer(engine, 0.0)
    for _ in range(5):
        await pacer.wait(7)
