"""Fenced leases, poison jobs and loops that survive errors, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.models import ReviewJob
from app.jobs.queue import ClaimedJob, JobQueue
from app.jobs.worker import JobRunner, Worker
from app.storage.tables import jobs
from tests.unit.jobs.test_queue import REPO, put, review


async def expire_leases(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await conn.execute(update(jobs).where(jobs.c.status == "running").values(locked_until=past))


async def status_of(engine: AsyncEngine, job_id: int) -> str:
    async with engine.connect() as conn:
        return str((await conn.execute(select(jobs.c.status).where(jobs.c.id == job_id))).scalar_one())


async def test_a_reclaimed_job_is_out_of_reach_of_its_old_worker(engine: AsyncEngine) -> None:
    queue = JobQueue(engine)
    await put(engine, review("a1"))
    old = await queue.claim("old")
    assert old is not None
    await expire_leases(engine)
    new = await queue.claim("new")
    assert new is not None and new.id == old.id and new.token != old.token
    assert not await queue.heartbeat(old)
    assert not await queue.complete(old)
    assert not await queue.fail(old, "late", retry_in_s=0)
    assert await status_of(engine, old.id) == "running"  # still the new holder's
    assert await queue.heartbeat(new)
    assert await queue.complete(new)
    assert await status_of(engine, new.id) == "done"


async def test_a_job_that_keeps_killing_its_worker_is_given_up(engine: AsyncEngine) -> None:
    queue = JobQueue(engine, max_attempts=2)
    job_id = await put(engine, review("a1"))
    for _ in range(2):  # each attempt "dies": its lease simply runs out
        assert await queue.claim("w") is not None
        await expire_leases(engine)
    dead = await queue.claim("w")
    assert dead is not None and dead.exhausted and dead.id == job_id
    assert await status_of(engine, job_id) == "failed"
    closed: list[tuple[int, str]] = []

    async def give_up(job: ClaimedJob, reason: str) -> None:
        closed.append((job.id, reason))

    async def never(job: ClaimedJob) -> None:
        raise AssertionError("a given-up job must not run again")

    await JobRunner(queue, {"review": never}, give_up={"review": give_up}).run_one(dead)
    assert [i for i, _ in closed] == [job_id] and "gave up after 2 attempts" in closed[0][1]
    assert await queue.claim("w") is None


async def test_final_failure_closes_what_the_job_left_open(engine: AsyncEngine) -> None:
    queue = JobQueue(engine, max_attempts=1)
    await put(engine, review("a1"))
    closed: list[str] = []

    async def crash(job: ClaimedJob) -> None:
        raise KeyError("not one of ours")

    async def give_up(job: ClaimedJob, reason: str) -> None:
        closed.append(reason)

    job = await queue.claim("w")
    assert job is not None
    await JobRunner(queue, {"review": crash}, give_up={"review": give_up}).run_one(job)
    assert await status_of(engine, job.id) == "failed"
    assert closed and "KeyError" in closed[0]


class FlakyQueue(JobQueue):
    """Completing a job fails once, as when the database drops the connection at that moment."""

    failed_once = False

    async def complete(self, job: ClaimedJob, *, status: str = "done") -> bool:
        if not self.failed_once:
            self.failed_once = True
            raise ConnectionError("server closed the connection unexpectedly")
        return await super().complete(job, status=status)


async def test_worker_loops_survive_a_database_error_while_completing(engine: AsyncEngine) -> None:
    queue = FlakyQueue(engine, lease_s=0.3)
    ran: list[str] = []

    async def handle(job: ClaimedJob) -> None:
        ran.append(ReviewJob.model_validate(job.payload).head_sha)

    worker = Worker(JobRunner(queue, {"review": handle}, lease_s=0.3), concurrency=1, poll_interval_s=0.05)
    worker.start()
    try:
        await put(engine, review("a1", number=1), number=1)
        await put(engine, review("b2", number=2), number=2)
        async with asyncio.timeout(20):
            while "b2" not in ran or "a1" not in ran or ran.count("a1") < 2:
                await asyncio.sleep(0.05)  # a1's completion failed: its lease expires and it runs again
        assert worker.alive()
    finally:
        await worker.stop()
    assert REPO.full_name == "o/r"


async def test_graceful_stop_lets_a_running_job_finish(engine: AsyncEngine) -> None:
    queue = JobQueue(engine)
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(job: ClaimedJob) -> None:
        started.set()
        await release.wait()

    worker = Worker(JobRunner(queue, {"review": slow}), concurrency=1, poll_interval_s=0.05)
    worker.start()
    job_id = await put(engine, review("a1"))
    async with asyncio.timeout(20):
        await started.wait()
    stopping = asyncio.create_task(worker.stop(grace_s=30))
    await asyncio.sleep(0.1)
    assert not stopping.done()  # waiting for the running review, not cancelling it
    release.set()
    async with asyncio.timeout(20):
        await stopping
    assert await status_of(engine, job_id) == "done"


async def test_stop_after_the_grace_hands_the_job_back(engine: AsyncEngine) -> None:
    queue = JobQueue(engine)
    started = asyncio.Event()

    async def stuck(job: ClaimedJob) -> None:
        started.set()
        await asyncio.Event().wait()

    worker = Worker(JobRunner(queue, {"review": stuck}), concurrency=1, poll_interval_s=0.05)
    worker.start()
    job_id = await put(engine, review("a1"))
    async with asyncio.timeout(20):
        await started.wait()
    async with asyncio.timeout(20):
        await worker.stop(grace_s=0.2)
    assert await status_of(engine, job_id) == "queued"
