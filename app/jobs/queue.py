"""The durable job queue over the app's database (SQLite embedded, PostgreSQL for many workers).

Guarantees: a job inserted in the same transaction as its delivery is never lost; a job is claimed
with a lease that a crashed worker lets expire; at most one job per PR runs at a time; a queued review
is coalesced with newer requests for the same PR, so a burst of pushes yields one review.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Select

from app.jobs.drain import ensure_drain, lock_pr
from app.jobs.models import FINISHED, JobKind, JobStatus, ReviewJob
from app.review.redact import redact_text
from app.storage.db import utcnow, write_transaction
from app.storage.tables import jobs

MAX_ERROR_CHARS = 2000


def redacted_error(text: str, limit: int | None = MAX_ERROR_CHARS) -> str:
    """An error's text as it may be stored or logged: tokens and keys it quotes are replaced.

    Redacted before it is cut, so a key cut in half cannot slip past the patterns.
    """
    clean = redact_text(text)[0]
    return clean if limit is None else clean[:limit]


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: int
    kind: str
    pr_key: str
    payload: dict[str, Any]
    attempts: int
    token: str = ""  # this claim's fencing token: only its holder may renew, complete or fail the job
    exhausted: bool = False  # reclaimed after its last attempt died: given up, not run again


# Built once: the intake applies these for every delivery, and building a statement (not running
# it) was most of an apply's CPU. SQLAlchemy caches their compiled form.
_INSERT_JOB = jobs.insert()
_QUEUED_OF_KIND = (
    select(jobs.c.id, jobs.c.payload)
    .where(
        jobs.c.pr_key == bindparam("key"),
        jobs.c.kind == bindparam("kind"),
        jobs.c.status == JobStatus.QUEUED,
    )
    .order_by(jobs.c.id)
    .limit(1)
)
_MERGE_INTO_QUEUED = (
    update(jobs)
    .where(jobs.c.id == bindparam("job_id"), jobs.c.status == JobStatus.QUEUED)
    .values(payload=bindparam("merged"), run_after=bindparam("due"), updated_at=bindparam("now"))
)


async def enqueue(
    conn: AsyncConnection, *, kind: str, key: str, payload: dict[str, Any], delay_s: float = 0.0
) -> int:
    """Insert a job, or fold a review into the PR's queued review (in the caller's transaction).

    On PostgreSQL the same transaction also makes sure a procrastinate job will drain the PR.
    """
    now = utcnow()
    run_after = now + dt.timedelta(seconds=delay_s)
    # Two web processes taking pushes for one PR at once must merge, not queue two reviews, and a
    # worker claiming the PR must see either the merged job or none of it.
    await lock_pr(conn, key)
    job_id = await _merge_into_queued(conn, kind, key, payload, run_after) if kind == JobKind.REVIEW else None
    if job_id is None:
        row = {
            "kind": kind,
            "pr_key": key,
            "payload": payload,
            "status": JobStatus.QUEUED,
            "attempts": 0,
            "run_after": run_after,
            "created_at": now,
            "updated_at": now,
        }
        result = await conn.execute(_INSERT_JOB, row)
        job_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    if conn.dialect.name == "postgresql":
        await ensure_drain(conn, key, at=run_after)
    return job_id


async def _merge_into_queued(
    conn: AsyncConnection, kind: str, key: str, payload: dict[str, Any], run_after: dt.datetime
) -> int | None:
    row = (await conn.execute(_QUEUED_OF_KIND, {"key": key, "kind": kind})).first()
    if row is None:
        return None
    merged = ReviewJob.model_validate(row.payload).merged_with(ReviewJob.model_validate(payload))
    done = await conn.execute(
        _MERGE_INTO_QUEUED,
        {"job_id": row.id, "merged": merged.model_dump(mode="json"), "due": run_after, "now": utcnow()},
    )
    return int(row.id) if done.rowcount == 1 else None


async def cancel_queued(conn: AsyncConnection, key: str) -> list[ReviewJob]:
    """Cancel the PR's queued jobs (in the caller's transaction); return the cancelled reviews."""
    await lock_pr(conn, key)  # a claim in flight either took the job first or sees it cancelled
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


def _claimable(now: dt.datetime, key: str | None = None) -> Select[Any]:
    running = jobs.alias(JobStatus.RUNNING)
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
    query = (
        select(jobs.c.id, jobs.c.kind, jobs.c.pr_key, jobs.c.payload, jobs.c.attempts, jobs.c.status)
        .where((queued_ready | lease_lost) & ~busy)
        .order_by(jobs.c.run_after, jobs.c.id)
        .limit(1)
    )
    return query if key is None else query.where(jobs.c.pr_key == key)


class JobQueue:
    """Claim/complete/fail over the jobs table; one instance per process.

    Every claim gets a fresh token stored in `locked_by`; renewing, completing and failing match on
    it, so a worker whose lease ran out (and whose job was claimed again) can no longer touch it.
    """

    def __init__(self, engine: AsyncEngine, *, lease_s: float = 300.0, max_attempts: int = 5) -> None:
        self._engine = engine
        self._lease = dt.timedelta(seconds=lease_s)
        self.max_attempts = max_attempts
        # SQLite has one writer; serialising claims in-process avoids busy retries.
        self._claim_lock = asyncio.Lock()
        self.wakeup = asyncio.Event()

    async def claim(self, worker_id: str) -> ClaimedJob | None:
        """Claim the next ready job of any PR (the embedded SQLite queue: one process)."""
        async with self._claim_lock, write_transaction(self._engine) as conn:
            row = (await conn.execute(_claimable(utcnow()))).first()
            return None if row is None else await self._take(conn, row, worker_id)

    async def claim_for(self, key: str, worker_id: str) -> ClaimedJob | None:
        """Claim the next ready job of one PR (PostgreSQL: the PR's drain job holds its lock)."""
        async with write_transaction(self._engine) as conn:
            await lock_pr(conn, key)
            row = (await conn.execute(_claimable(utcnow(), key))).first()
            return None if row is None else await self._take(conn, row, worker_id)

    async def _take(self, conn: AsyncConnection, row: Any, worker_id: str) -> ClaimedJob | None:
        now = utcnow()
        token = f"{worker_id}:{secrets.token_hex(6)}"
        # A job reclaimed from an expired lease after its last attempt keeps killing its worker.
        exhausted = row.status == JobStatus.RUNNING and row.attempts >= self.max_attempts
        values: dict[str, Any] = {"locked_by": token, "updated_at": now}
        if exhausted:
            values.update(
                status=JobStatus.FAILED, locked_until=None, last_error="gave up: every attempt died"
            )
        else:
            values.update(status=JobStatus.RUNNING, attempts=row.attempts + 1, locked_until=now + self._lease)
        claimed = await conn.execute(
            update(jobs).where(jobs.c.id == row.id, jobs.c.attempts == row.attempts).values(**values)
        )
        if claimed.rowcount != 1:  # another claimer won the race; try again on the next poll
            return None
        attempts = row.attempts if exhausted else row.attempts + 1
        return ClaimedJob(row.id, row.kind, row.pr_key, dict(row.payload), attempts, token, exhausted)

    async def next_due(self, key: str) -> dt.datetime | None:
        """When the PR's remaining work can next be claimed (queued, or held by another lease)."""
        async with self._engine.connect() as conn:
            queued = await conn.execute(
                select(func.min(jobs.c.run_after)).where(
                    jobs.c.pr_key == key, jobs.c.status == JobStatus.QUEUED
                )
            )
            held = await conn.execute(
                select(func.max(jobs.c.locked_until)).where(
                    jobs.c.pr_key == key, jobs.c.status == JobStatus.RUNNING
                )
            )
            due: dt.datetime | None = queued.scalar_one_or_none()
            lease: dt.datetime | None = held.scalar_one_or_none()
        if due is None:
            return None
        return max(due, lease) if lease is not None else due

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
            await lock_pr(conn, key)
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

    async def save_payload(self, job: ClaimedJob, payload: dict[str, Any]) -> bool:
        """Keep what an attempt decided (e.g. its check run) for the next attempt; fenced."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(jobs)
                .where(jobs.c.id == job.id, jobs.c.locked_by == job.token, jobs.c.status == JobStatus.RUNNING)
                .values(payload=payload, updated_at=utcnow())
            )
            return int(result.rowcount) == 1

    async def stored_payload(self, job_id: int) -> dict[str, Any] | None:
        """The job's payload as last saved (an attempt may have recorded its check run since its claim)."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(jobs.c.payload).where(jobs.c.id == job_id))).first()
        return None if row is None else dict(row.payload)

    async def heartbeat(self, job: ClaimedJob) -> bool:
        """Renew the lease; False when this claim no longer holds the job."""
        async with self._engine.begin() as conn:
            now = utcnow()
            result = await conn.execute(
                update(jobs)
                .where(jobs.c.id == job.id, jobs.c.locked_by == job.token, jobs.c.status == JobStatus.RUNNING)
                .values(locked_until=now + self._lease, updated_at=now)
            )
            return int(result.rowcount) == 1

    async def complete(self, job: ClaimedJob, *, status: JobStatus = JobStatus.DONE) -> bool:
        """Mark the job finished; False (and no change) when this claim lost the job."""
        return await self._finish(job, status=status, locked_until=None, updated_at=utcnow())

    async def fail(self, job: ClaimedJob, error: str, *, retry_in_s: float | None) -> bool:
        """Record a failure; requeue after `retry_in_s` or give up (status failed) when None."""
        now = utcnow()
        error = redacted_error(error)  # the database never holds a token an error message quoted
        values: dict[str, Any] = {"last_error": error, "locked_until": None, "updated_at": now}
        if retry_in_s is None:
            values["status"] = JobStatus.FAILED
        else:
            values.update(status=JobStatus.QUEUED, run_after=now + dt.timedelta(seconds=retry_in_s))
        return await self._finish(job, **values)

    async def _finish(self, job: ClaimedJob, **values: Any) -> bool:
        async with self._engine.begin() as conn:
            await lock_pr(conn, job.pr_key)
            result = await conn.execute(
                update(jobs)
                .where(jobs.c.id == job.id, jobs.c.locked_by == job.token, jobs.c.status == JobStatus.RUNNING)
                .values(**values)
            )
            requeued = result.rowcount == 1 and values.get("status") == JobStatus.QUEUED
            if requeued and conn.dialect.name == "postgresql":
                await ensure_drain(conn, job.pr_key, at=values["run_after"])
            return int(result.rowcount) == 1

    async def prune(self, older_than: dt.timedelta) -> int:
        """Delete finished jobs (done, failed, cancelled) last touched before `older_than` ago."""
        cutoff = utcnow() - older_than
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(jobs).where(jobs.c.status.in_(FINISHED), jobs.c.updated_at < cutoff)
            )
            return int(result.rowcount)

    async def counts(self) -> dict[str, int]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
            return {str(status): int(n) for status, n in rows}
