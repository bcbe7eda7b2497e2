"""The fair gate: a big review cannot starve a small one, a lone review gets every slot."""

from __future__ import annotations

import asyncio

import pytest

from app.review.fair import FairGate, review_lane


async def _run(gate: FairGate, lane: str, order: list[str], release: asyncio.Event) -> None:
    async with gate.slot(lane):
        order.append(lane)
        await release.wait()


async def test_a_later_small_review_gets_the_next_free_slot_not_the_end_of_the_queue() -> None:
    gate = FairGate(2)
    order: list[str] = []
    gates = [asyncio.Event() for _ in range(30)]
    big = [asyncio.create_task(_run(gate, "big", order, gates[i])) for i in range(20)]
    await asyncio.sleep(0)
    small = [asyncio.create_task(_run(gate, "small", order, gates[20 + i])) for i in range(2)]
    await asyncio.sleep(0)
    assert order == ["big", "big"]  # both slots taken before the small review arrived
    gates[0].set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert order[2] == "small"  # the first freed slot goes to the lane holding none
    gates[1].set()
    for _ in range(5):
        await asyncio.sleep(0)
    # One slot each now: the tie goes to the lane served longest ago, which is "big".
    assert order[3] == "big"
    for event in gates:
        event.set()
    await asyncio.gather(*big, *small)
    assert order.count("small") == 2 and order.count("big") == 20
    assert gate.active == 0


async def test_a_lone_lane_uses_every_slot_and_never_more() -> None:
    gate = FairGate(3)
    peak = 0

    async def work() -> None:
        nonlocal peak
        async with gate.slot():
            peak = max(peak, gate.active)
            await asyncio.sleep(0.001)

    review_lane.set("only")
    await asyncio.gather(*(work() for _ in range(12)))
    assert peak == 3 and gate.active == 0 and gate.held("only") == 0


async def test_a_cancelled_waiter_gives_up_its_place_and_slots_are_not_lost() -> None:
    gate = FairGate(1)
    hold = asyncio.Event()
    first = asyncio.create_task(_run(gate, "a", [], hold))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(_run(gate, "b", [], asyncio.Event()))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    hold.set()
    await first
    assert gate.active == 0
    async with gate.slot("c"):
        assert gate.active == 1
