"""The durable job queue over the app's database (SQLite embedded, PostgreSQL for many workers).

Guarantees: a job inserted in the same transaction as its delivery is never lost; a job is claimed
with a lease that a crashed worker lets expire; at most one job per PR runs at a time; a queued review
is coalesced with newer requests for the same PR, so a burst of pushes yields one review.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Select

from app.jobs.models import FINISHED, JobKind, JobStatus, ReviewJob
from app.storage.db import utcnow, write_transaction
from app.storage.tables import jobs


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    pr_key: str
    payload: dict[str, Any]
    attempts: int


async def enqueue(
    conn: AsyncConnection, *, kind: str, key: str, payload: dict[str, Any], delay_s: float = 0.0
) -> int:
    """Insert a job, or fold a review into the PR's queued review (in the caller's transaction)."""
    now = utcnow()
    run_after = now + dt.timedelta(seconds=delay_s)
    if kind == JobKind.REVIEW:
        if conn.dialect.name == "postgresql":
            # Two web processes taking pushes for one PR at once must merge, not queue two reviews.
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
        row = (
            await conn.execute(
                select(jobs.c.id, jobs.c.payload)
                .where(jobs.c.pr_key == key, jobs.c.kind == JobKind.REVIEW, jobs.c.status == JobStatus.QUEUED)
                .order_by(jobs.c.id)
                .limit(1)
            )
        ).first()
        if row is not None:
            merged = ReviewJob.model_validate(row.payload).merged_with(ReviewJob.model_validate(payload))
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == row.id)
                .values(payload=merged.model_dump(mode="json"), run_after=run_after, updated_at=now)
            )
            return int(row.id)
    result = await conn.execute(
        jobs.insert().values(
            kind=kind,
            pr_key=key,
            payload=payload,
            status=JobStatus.QUEUED,
            attempts=0,
            run_after=run_after,
            created_at=now,
            updated_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def cancel_queued(conn: AsyncConnection, key: str) -> list[ReviewJob]:
    """Cancel the PR's queued jobs (in the caller's transaction); return the cancelled reviews."""
    rows = await conn.execute(
        select(jobs.c.kind, jobs.c.payload).where(jobs.c.pr_key == key, jobs.c.status == JobStatus.QUEUED)
    )
    reviews = [ReviewJob.model_validate(r.payload) for r in rows if r.kind == JobKind.REVIEW]
    await conn.execute(
        update(jobs)
        .where(jobs.c.pr_key == key, jobs.c.status == JobStatus.QUEUED)
        .values(status=JobStatus.CANCELLED, updated_at=utcnow())
    )
    return reviews


class JobQueue:
    """Claim/complete/fail over the jobs table; one instance per process."""

    def __init__(self, engine: AsyncEngine, *, lease_s: float = 300.0, max_attempts: int = 5) -> None:
        self._engine = engine
        self._lease = dt.timedelta(seconds=lease_s)
        self.max_attempts = max_attempts
        # SQLite has one writer; serialising claims in-process avoids busy retries.
        self._claim_lock = asyncio.Lock()
        self.wakeup = asyncio.Event()

    def _claimable(self, now: dt.datetime) -> Select[Any]:
        running = jobs.alias("running")
        busy = exists().where(
            and_(
                running.c.pr_key == jobs.c.pr_key,
                running.c.status == JobStatus.RUNNING,
                running.c.locked_until > now,
                running.c.id != jobs.c.id,
            )
        )
        queued_ready = and_(jobs.c.status == JobStatus.QUEUED, jobs.c.run_after <= now)
        lease_lost = and_(jobs.c.status == JobStatus.RUNNING, jobs.c.locked_until <= now)
        return (
            select(jobs.c.id, jobs.c.kind, jobs.c.pr_key, jobs.c.payload, jobs.c.attempts)
            .where((queued_ready | lease_lost) & ~busy)
            .order_by(jobs.c.run_after, jobs.c.id)
            .limit(1)
        )

    async def claim(self, worker_id: str) -> ClaimedJob | None:
        async with self._claim_lock, write_transaction(self._engine) as conn:
            now = utcnow()
            if conn.dialect.name == "postgresql":
                # One claimer at a time across processes keeps "one running job per PR" exact.
                await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74201002)")
            row = (await conn.execute(self._claimable(now))).first()
            if row is None:
                return None
            claimed = await conn.execute(
                update(jobs)
                .where(jobs.c.id == row.id, jobs.c.attempts == row.attempts)
                .values(
                    status=JobStatus.RUNNING,
                    attempts=row.attempts + 1,
                    locked_until=now + self._lease,
                    locked_by=worker_id,
                    updated_at=now,
                )
            )
            if claimed.rowcount != 1:  # another claimer won the race; try again on the next poll
                return None
            return ClaimedJob(row.id, row.kind, row.pr_key, dict(row.payload), row.attempts + 1)

    async def _queued_review_row(self, conn: AsyncConnection, key: str) -> Any:
        query = (
            select(jobs.c.id, jobs.c.payload)
            .where(jobs.c.pr_key == key, jobs.c.kind == JobKind.REVIEW, jobs.c.status == JobStatus.QUEUED)
            .order_by(jobs.c.id)
            .limit(1)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return (await conn.execute(query)).first()

    async def queued_review(self, key: str) -> ReviewJob | None:
        async with self._engine.connect() as conn:
            row = await self._queued_review_row(conn, key)
            return None if row is None else ReviewJob.model_validate(row.payload)

    async def attach_check_run(self, key: str, head_sha: str, check_run_id: int, run_id: str) -> bool:
        """Give the PR's queued review its check run; False when no queued review wants that head."""
        async with write_transaction(self._engine) as conn:
            row = await self._queued_review_row(conn, key)
            if row is None:
                return False
            job = ReviewJob.model_validate(row.payload)
            if job.head_sha != head_sha:
                return False
            stale = list(job.stale_check_run_ids)
            if job.check_run_id is not None and job.check_run_id != check_run_id:
                stale.append(job.check_run_id)
            job = job.model_copy(
                update={"check_run_id": check_run_id, "run_id": run_id, "stale_check_run_ids": stale}
            )
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == row.id)
                .values(payload=job.model_dump(mode="json"), updated_at=utcnow())
            )
            return True

    async def heartbeat(self, job_id: int, worker_id: str) -> None:
        async with self._engine.begin() as conn:
            now = utcnow()
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.locked_by == worker_id, jobs.c.status == JobStatus.RUNNING)
                .values(locked_until=now + self._lease, updated_at=now)
            )

    async def complete(self, job_id: int, *, status: JobStatus = JobStatus.DONE) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(status=status, locked_until=None, updated_at=utcnow())
            )

    async def fail(self, job_id: int, error: str, *, retry_in_s: float | None) -> None:
        """Record a failure; requeue after `retry_in_s` or give up (status failed) when None."""
        now = utcnow()
        values: dict[str, Any] = {"last_error": error[:2000], "locked_until": None, "updated_at": now}
        if retry_in_s is None:
            values["status"] = JobStatus.FAILED
        else:
            values.update(status=JobStatus.QUEUED, run_after=now + dt.timedelta(seconds=retry_in_s))
        async with self._engine.begin() as conn:
            await conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))

    async def prune(self, older_than: dt.timedelta) -> int:
        """Delete finished jobs (done, failed, cancelled) last touched before `older_than` ago."""
        cutoff = utcnow() - older_than
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(jobs).where(
                    jobs.c.status.in_(FINISHED), jobs.c.updated_at < cutoff
                )
            )
            return int(result.rowcount)

    async def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        async with self._engine.connect() as conn:
            rows = await conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
            return {str(status): int(n) for status, n in rows}
