"""The intake's inbox: group-committed acknowledgements, and effects applied after the 2xx, exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.github.models import RepoRef
from app.jobs.engine import libpq_conninfo
from app.jobs.models import CheckJob, JobKind, ReviewJob, pr_key
from app.storage.db import create_engine, migrate, write_transaction
from app.storage.models import Delivery
from app.storage.repository import Store, insert_deliveries, pending_deliveries
from app.storage.tables import deliveries, jobs
from app.webhooks.applier import DeliveryApplier
from app.webhooks.inbox import DeliveryInbox
from app.webhooks.intake import delivery_record
from app.webhooks.intents import Intent, QueuedWork
from app.webhooks.wakeups import listen_forever
from tests.conftest import POSTGRES_URL

REPO = RepoRef(owner="acme", name="shop", installation_id=7)


def check_for(number: int, delivery_id: str) -> Delivery:
    """A delivery that asks for one check-run job on PR `number`."""
    key = pr_key(REPO, number)
    check = CheckJob(repo=REPO, number=number, head_sha=f"{number:040d}")
    intent = Intent(
        outcome="check queued", work=[QueuedWork(JobKind.CHECK, key, check.model_dump(mode="json"))]
    )
    return delivery_record(delivery_id, "pull_request", "opened", intent)


async def job_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(jobs))).scalar_one())


async def pending(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(deliveries.c.delivery_id).where(deliveries.c.applied_at.is_(None)))
        return sorted(str(r[0]) for r in rows)


async def test_a_burst_is_recorded_in_one_transaction_and_each_id_is_new_once(engine: AsyncEngine) -> None:
    commits = 0

    def count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    inbox = DeliveryInbox(engine)
    ids = [f"d-{n % 30}" for n in range(40)]  # ten redeliveries racing their originals
    answers = await asyncio.gather(*(inbox.record(check_for(n % 30, i)) for n, i in enumerate(ids)))
    event.remove(engine.sync_engine, "commit", count)
    assert answers == [True] * 30 + [False] * 10
    assert commits == 1
    assert not await inbox.record(check_for(1, "d-1"))  # a later redelivery is refused too


async def test_an_acknowledged_delivery_is_applied_by_whoever_comes_next(engine: AsyncEngine) -> None:
    """The process that answered 2xx dies before applying: the row waits, unpruned, for the next applier."""
    assert await DeliveryInbox(engine).record(check_for(5, "d-5"))
    assert await pending(engine) == ["d-5"] and await job_count(engine) == 0
    assert await Store(engine).prune_deliveries(dt.timedelta(0)) == 0  # work still owed is never pruned
    woken: list[bool] = []
    assert await DeliveryApplier(engine, lambda: woken.append(True)).apply_pending() == 1
    assert await pending(engine) == [] and await job_count(engine) == 1 and woken == [True]
    assert await DeliveryApplier(engine, lambda: None).apply_pending() == 0
    assert await job_count(engine) == 1


async def test_two_appliers_racing_apply_every_delivery_exactly_once(engine: AsyncEngine) -> None:
    inbox = DeliveryInbox(engine)
    assert all(await asyncio.gather(*(inbox.record(check_for(n, f"d-{n}")) for n in range(40))))
    first, second = DeliveryApplier(engine, lambda: None), DeliveryApplier(engine, lambda: None)
    applied = await asyncio.gather(first.apply_pending(), second.apply_pending())
    assert sum(applied) == 40
    assert await job_count(engine) == 40 and await pending(engine) == []


async def test_unreadable_effects_are_marked_on_their_row_and_block_nothing(engine: AsyncEngine) -> None:
    bad = Delivery(delivery_id="d-bad", event="pull_request", outcome="x", effects={"work": "not a list"})
    async with write_transaction(engine) as conn:
        await insert_deliveries(conn, [bad])
    assert await DeliveryInbox(engine).record(check_for(2, "d-good"))
    assert await DeliveryApplier(engine, lambda: None).apply_pending() == 2
    assert await job_count(engine) == 1 and await pending(engine) == []
    async with engine.connect() as conn:
        outcome = (
            await conn.execute(select(deliveries.c.outcome).where(deliveries.c.delivery_id == "d-bad"))
        ).scalar_one()
    assert outcome == "not applied: unreadable effects"


async def test_a_delivery_without_effects_is_born_applied(engine: AsyncEngine) -> None:
    ping = delivery_record("d-ping", "ping", None, Intent(outcome="pong"))
    assert ping.effects is None
    assert await DeliveryInbox(engine).record(ping)
    assert await pending(engine) == []


async def test_a_failed_write_fails_every_waiting_request_and_the_next_one_succeeds(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'unmigrated.db'}")
    try:
        inbox = DeliveryInbox(engine)
        results = await asyncio.gather(
            *(inbox.record(check_for(n, f"d-{n}")) for n in range(3)), return_exceptions=True
        )
        assert all(isinstance(r, Exception) for r in results)  # no table yet: nobody gets a 2xx
        await migrate(engine)
        assert await inbox.record(check_for(9, "d-9"))
    finally:
        await engine.dispose()


async def test_the_running_applier_applies_what_it_is_woken_for(engine: AsyncEngine) -> None:
    woken = asyncio.Event()
    applier = DeliveryApplier(engine, woken.set, poll_s=3600)  # only the wake-up can make it apply
    applier.start()
    try:
        assert await DeliveryInbox(engine).record(check_for(3, "d-3"))
        applier.wake()
        await asyncio.wait_for(woken.wait(), timeout=30)
        assert await job_count(engine) == 1 and applier.alive()
    finally:
        await applier.stop()


def push(number: int, head: str, delivery_id: str) -> Delivery:
    key = pr_key(REPO, number)
    review = ReviewJob(repo=REPO, number=number, head_sha=head, trigger="pull_request.synchronize")
    work = QueuedWork(JobKind.REVIEW, key, review.model_dump(mode="json"))
    intent = Intent(outcome="queued", repo=REPO.full_name, pr_number=number, head_sha=head, work=[work])
    return delivery_record(delivery_id, "pull_request", "synchronize", intent)


async def test_a_newer_push_applied_first_still_lands_after_the_older_one(engine: AsyncEngine) -> None:
    """Two web processes took two pushes of one PR; the newer one's applier happens to run first."""
    inbox = DeliveryInbox(engine)
    assert await inbox.record(push(4, "a" * 40, "d-older"))
    assert await inbox.record(push(4, "b" * 40, "d-newer"))
    async with engine.connect() as conn:
        newer = next(d for d in await pending_deliveries(conn, 10) if d.delivery_id == "d-newer")
    applied, queued = await DeliveryApplier(engine, lambda: None).apply_with_its_pull(newer)
    assert (applied, queued) == (2, True)
    async with engine.connect() as conn:
        payloads = [r.payload for r in await conn.execute(select(jobs.c.payload))]
    assert [ReviewJob.model_validate(p).head_sha for p in payloads] == ["b" * 40]  # coalesced, newest head


async def test_a_recorded_delivery_wakes_other_processes_listening_appliers(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite has one process")
    calls = 0
    changed = asyncio.Event()

    def notified() -> None:
        nonlocal calls
        calls += 1
        changed.set()

    listener = asyncio.create_task(listen_forever(libpq_conninfo(POSTGRES_URL), notified))
    try:
        await asyncio.wait_for(changed.wait(), timeout=30)  # listening (it wakes once on connecting)
        changed.clear()
        assert await DeliveryInbox(engine).record(check_for(6, "d-6"))
        await asyncio.wait_for(changed.wait(), timeout=30)
        assert calls == 2
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
