"""PostgreSQL: procrastinate drains PRs; enqueue is transactional; the reaper recovers orphans."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.engine import ProcrastinateEngine
from app.jobs.models import ReviewJob, pr_key
from app.jobs.queue import ClaimedJob, JobQueue, enqueue
from app.jobs.worker import JobRunner
from app.storage.db import create_engine, migrate, normalise_url, write_transaction
from app.storage.tables import deliveries, jobs
from tests.conftest import postgres_available
from tests.unit.jobs.dead_worker import insert_dead_worker
from tests.unit.jobs.test_queue import REPO, review

BASE = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def pg() -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A database URL whose connections all live in a fresh schema, and its migrated engine."""
    if not postgres_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    schema = f"e_{uuid.uuid4().hex[:12]}"
    admin = create_engine(BASE)
    async with admin.begin() as conn:
        await conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = f"{BASE}?options=-csearch_path%3D{schema}"
    engine = create_engine(url)
    try:
        await migrate(engine)
        yield url, engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        await admin.dispose()


async def drains(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT lock, queueing_lock, status::text AS status FROM procrastinate_jobs ORDER BY id")
        )
        return [dict(r._mapping) for r in rows]


async def wait_until(check: Callable[[], Any], what: str, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


def test_every_postgresql_url_spelling_runs_on_psycopg() -> None:
    for url in ("postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg://u@h/db"):
        assert normalise_url(url).startswith("postgresql+psycopg://")


async def test_rolled_back_delivery_leaves_no_job_behind(pg: tuple[str, AsyncEngine]) -> None:
    _, engine = pg
    key = pr_key(REPO, 1)
    with pytest.raises(RuntimeError):
        async with write_transaction(engine) as conn:
            await conn.execute(
                deliveries.insert().values(delivery_id="d1", event="e", outcome="x", received_at=_now())
            )
            await enqueue(conn, kind="review", key=key, payload=review("a1"))
            raise RuntimeError("the process died before commit")
    assert await drains(engine) == []
    async with write_transaction(engine) as conn:
        await enqueue(conn, kind="review", key=key, payload=review("a1"))
        await enqueue(conn, kind="check", key=key, payload={"x": 1})
    async with write_transaction(engine) as conn:
        await enqueue(conn, kind="review", key=key, payload=review("b2"))
    # One waiting drain per PR, whatever the number of rows and transactions.
    assert await drains(engine) == [{"lock": key, "queueing_lock": key, "status": "todo"}]


def _now() -> Any:
    from app.storage.db import utcnow

    return utcnow()


class Recorder:
    def __init__(self) -> None:
        self.ran: list[tuple[str, str]] = []
        self.running: set[str] = set()
        self.overlap = False

    async def review(self, job: ClaimedJob) -> None:
        if job.pr_key in self.running:
            self.overlap = True
        self.running.add(job.pr_key)
        await asyncio.sleep(0.02)
        self.running.discard(job.pr_key)
        self.ran.append((job.pr_key, ReviewJob.model_validate(job.payload).head_sha))


def make_engine(url: str, engine: AsyncEngine, recorder: Recorder, **kw: Any) -> ProcrastinateEngine:
    queue = JobQueue(engine, lease_s=kw.pop("lease_s", 30))
    runner = JobRunner(queue, {"review": recorder.review})
    return ProcrastinateEngine(url, engine, runner, concurrency=4, lease_s=30, grace_s=5, **kw)


async def test_procrastinate_workers_drain_every_pr_once(pg: tuple[str, AsyncEngine]) -> None:
    url, engine = pg
    recorder = Recorder()
    workers = [make_engine(url, engine, recorder) for _ in range(2)]
    for w in workers:
        await w.start()
    try:
        for number in range(1, 6):
            for head in ("a", "b", "c"):
                async with write_transaction(engine) as conn:
                    await enqueue(
                        conn,
                        kind="review",
                        key=pr_key(REPO, number),
                        payload=review(f"{head}{number}", number),
                    )

        async def done() -> bool:
            return len({k for k, _ in recorder.ran}) == 5 and not await drains(engine)

        await wait_until(done, "every PR reviewed")
        assert all(w.alive() for w in workers)
    finally:
        for w in workers:
            await w.stop()
    # Coalesced: each PR reviewed at its newest head, never twice at once.
    for number in range(1, 6):
        heads = [h for k, h in recorder.ran if k == pr_key(REPO, number)]
        assert heads[-1] == f"c{number}"
    assert not recorder.overlap


async def test_reaper_gives_orphaned_work_a_drain(pg: tuple[str, AsyncEngine]) -> None:
    url, engine = pg
    recorder = Recorder()
    key = pr_key(REPO, 7)
    async with write_transaction(engine) as conn:
        await enqueue(conn, kind="review", key=key, payload=review("z7", 7))
        # As if the drain job had been lost (a failed drain, a stalled worker's job closed).
        await conn.execute(text("DELETE FROM procrastinate_jobs"))
    worker = make_engine(url, engine, recorder, reap_every_s=0.2)
    await worker.start()
    try:

        async def reviewed() -> bool:
            return (key, "z7") in recorder.ran

        await wait_until(reviewed, "the orphaned review")
    finally:
        await worker.stop()
    async with engine.connect() as conn:
        statuses = [r[0] for r in await conn.execute(text("SELECT status FROM jobs"))]
    assert statuses == ["done"]


async def test_drain_of_a_dead_worker_is_recovered(pg: tuple[str, AsyncEngine]) -> None:
    url, engine = pg
    recorder = Recorder()
    key = pr_key(REPO, 8)
    async with write_transaction(engine) as conn:
        await enqueue(conn, kind="review", key=key, payload=review("y8", 8))
        # A worker took the drain and died (kill -9): its heartbeat stopped long ago.
        wid = await insert_dead_worker(conn)
        await conn.execute(text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w"), {"w": wid})
        # ...and it had claimed our row, whose lease has run out too.
        await conn.execute(
            jobs.update().values(status="running", attempts=1, locked_by="dead", locked_until=_now())
        )
    worker = make_engine(url, engine, recorder, reap_every_s=0.2)
    await worker.start()
    try:

        async def reviewed() -> bool:
            return (key, "y8") in recorder.ran

        await wait_until(reviewed, "the dead worker's review")
    finally:
        await worker.stop()
