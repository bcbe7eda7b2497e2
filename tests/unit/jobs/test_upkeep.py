"""PostgreSQL: pruning is a procrastinate periodic task, run once per tick for the whole fleet."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.engine import ProcrastinateEngine
from app.jobs.queue import JobQueue
from app.jobs.upkeep import UPKEEP_LOCK, UPKEEP_QUEUE, UPKEEP_TASK
from app.jobs.worker import JobRunner
from app.settings import load_settings
from app.storage.db import create_engine, migrate, utcnow
from app.storage.tables import deliveries, jobs
from app.wiring import Wiring, build_wiring
from tests.conftest import postgres_schema
from tests.fakes.github import app_keys
from tests.unit.jobs.dead_worker import insert_dead_worker

EVERY_SECOND = "* * * * * *"  # procrastinate takes a 6th cron column for seconds
BASE = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def pg() -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A database URL whose connections all live in a fresh schema, and its migrated engine."""
    async with postgres_schema() as schema:
        url = f"{BASE}?options=-csearch_path%3D{schema}"
        engine = create_engine(url)
        try:
            await migrate(engine)
            yield url, engine
        finally:
            await engine.dispose()


async def poll(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.1)


async def running_tick(engine: AsyncEngine) -> int:
    """The tick of the prune job running now (its lock lets only one run at a time)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT (args->>'timestamp')::bigint FROM procrastinate_jobs"
                " WHERE task_name = :task AND status = 'doing'"
            ),
            {"task": UPKEEP_TASK},
        )
        (tick,) = rows.scalars().all()
    return int(tick)


def make_engine(url: str, engine: AsyncEngine, **kw: Any) -> ProcrastinateEngine:
    runner = JobRunner(JobQueue(engine, lease_s=30), {})
    return ProcrastinateEngine(
        url, engine, runner, concurrency=2, lease_s=30, grace_s=5, prune_cron=EVERY_SECOND, **kw
    )


async def failed_prune_jobs(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task AND status = 'failed'"),
            {"task": UPKEEP_TASK},
        )
        return int(found.scalar_one())


async def test_two_workers_prune_once_per_tick(pg: tuple[str, AsyncEngine]) -> None:
    url, engine = pg
    ticks: list[int] = []

    async def prune() -> None:
        ticks.append(await running_tick(engine))

    workers = [make_engine(url, engine, prune=prune) for _ in range(2)]
    for w in workers:
        await w.start()
    try:

        async def three_ticks() -> bool:
            return len(set(ticks)) >= 3

        await poll(three_ticks)
        assert all(w.alive() for w in workers)
    finally:
        for w in workers:
            await w.stop()
    # Both workers' deferrers offered every tick; each ran once, and none failed.
    assert len(ticks) == len(set(ticks)), ticks
    assert await failed_prune_jobs(engine) == 0


async def test_a_dead_workers_prune_job_does_not_block_later_ticks(pg: tuple[str, AsyncEngine]) -> None:
    url, engine = pg
    async with engine.begin() as conn:
        # A worker died (kill -9) while pruning: its job still holds the prune lock.
        wid = await insert_dead_worker(conn)
        await conn.execute(
            text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, status, worker_id)"
                " VALUES (:queue, :task, :lock, '{\"timestamp\": 1}', 'doing', :wid)"
            ),
            {"queue": UPKEEP_QUEUE, "task": UPKEEP_TASK, "lock": UPKEEP_LOCK, "wid": wid},
        )
    ran = asyncio.Event()

    async def prune() -> None:
        ran.set()

    worker = make_engine(url, engine, prune=prune, reap_every_s=0.2)
    await worker.start()
    try:
        async with asyncio.timeout(30):
            await ran.wait()
    finally:
        await worker.stop()


def _days_ago(days: float) -> dt.datetime:
    return utcnow() - dt.timedelta(days=days)


async def _seed(engine: AsyncEngine) -> dict[str, int]:
    """Old and recent rows of ours and of procrastinate's; return the procrastinate job ids."""
    async with engine.begin() as conn:
        for job_id, touched in ((1, _days_ago(40)), (2, _days_ago(1))):
            await conn.execute(
                jobs.insert().values(
                    id=job_id,
                    kind="review",
                    pr_key="acme/shop#1",
                    payload={},
                    status="done",
                    attempts=1,
                    run_after=touched,
                    created_at=touched,
                    updated_at=touched,
                )
            )
        for delivery_id, received, applied in (
            ("old-applied", _days_ago(40), _days_ago(40)),
            ("recent", _days_ago(1), _days_ago(1)),
        ):
            await conn.execute(
                deliveries.insert().values(
                    delivery_id=delivery_id,
                    event="push",
                    outcome="x",
                    received_at=received,
                    applied_at=applied,
                )
            )
        ids = {name: await _failed_drain(conn) for name in ("old", "recent")}
        await conn.execute(
            text("UPDATE procrastinate_events SET at = now() - interval '8 days' WHERE job_id = :id"),
            {"id": ids["old"]},
        )
    return ids


async def _failed_drain(conn: Any) -> int:
    """A drain job procrastinate recorded as failed (deferred, then failed: both leave events)."""
    job_id = (
        await conn.execute(
            text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, scheduled_at)"
                " VALUES ('mini-review', 'mini_review.drain_pr', '{}', 'todo', now() + interval '1 day')"
                " RETURNING id"
            )
        )
    ).scalar_one()
    await conn.execute(text("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = :id"), {"id": job_id})
    return int(job_id)


async def _left(engine: AsyncEngine) -> tuple[set[int], set[str], set[int]]:
    """Our jobs, our deliveries, and procrastinate's drain jobs still stored."""
    async with engine.connect() as conn:
        our_jobs = set((await conn.execute(select(jobs.c.id))).scalars())
        ours = set((await conn.execute(select(deliveries.c.delivery_id))).scalars())
        theirs = await conn.execute(
            text("SELECT id FROM procrastinate_jobs WHERE task_name = 'mini_review.drain_pr'")
        )
    return our_jobs, ours, set(theirs.scalars())


async def _events_of(engine: AsyncEngine, job_id: int) -> int:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM procrastinate_events WHERE job_id = :id"), {"id": job_id}
        )
        return int(found.scalar_one())


async def _wiring_on(url: str) -> Wiring:
    pem, _ = app_keys()
    settings = load_settings(
        GITHUB_APP_ID=4242,
        GITHUB_APP_PRIVATE_KEY=pem,
        GITHUB_WEBHOOK_SECRET="s" * 20,
        GITHUB_API_URL="http://127.0.0.1:9",  # never called: no review runs here
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        DATABASE_URL=url,
        PUBLIC_URL="http://mini-review.test",
        MINI_GITHUB_WRITE_INTERVAL=0,
    )
    return await build_wiring(settings)


async def test_the_periodic_task_prunes_ours_and_procrastinates(
    pg: tuple[str, AsyncEngine],
) -> None:
    url, engine = pg
    ids = await _seed(engine)
    assert await _events_of(engine, ids["old"]) > 0
    wiring = await _wiring_on(url)
    wiring.prune_cron = EVERY_SECOND
    try:
        await wiring.start_worker()

        async def pruned() -> bool:
            our_jobs, _, theirs = await _left(engine)
            return 1 not in our_jobs and ids["old"] not in theirs

        await poll(pruned)
        assert wiring.worker_alive()
    finally:
        await wiring.close()
    our_jobs, ours, theirs = await _left(engine)
    assert our_jobs == {2}
    # (A pending delivery is never pruned: tests/unit/webhooks/test_inbox.py. Here the worker's own
    # applier would apply one at once, after which it is old and applied like any other.)
    assert ours == {"recent"}
    assert theirs == {ids["recent"]}
    assert await _events_of(engine, ids["old"]) == 0  # its events went with it
    assert await _events_of(engine, ids["recent"]) > 0
