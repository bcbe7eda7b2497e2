"""The worker's real handlers, queue and run store on a test database, with any GitHub behind them.

Jobs are claimed and run one at a time by the test (no loops, no sleeps), so each failure path can be
driven attempt by attempt: run it, let its lease run out as if its worker died, claim it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.models import JobKind, pr_key
from app.jobs.queue import ClaimedJob, JobQueue, enqueue
from app.jobs.worker import JobRunner
from app.pipeline.handlers import WorkerDeps, build_give_up, build_handlers
from app.pipeline.ports import GitHubPort
from app.settings import Settings
from app.storage.db import write_transaction
from app.storage.models import Run
from app.storage.repository import Store
from app.storage.tables import jobs, runs
from tests.fakes.ports import BOT, ScriptedReviewer


class Died(BaseException):
    """The worker process died mid-job (kill -9): nothing after this point of the attempt runs."""


@dataclass
class OneInstallation:
    """`InstallationClients` over one GitHub API."""

    api: GitHubPort
    login: str = BOT

    async def for_installation(self, installation_id: int) -> GitHubPort:
        return self.api

    async def bot_login(self) -> str:
        return self.login


@dataclass
class WorkerBench:
    engine: AsyncEngine
    queue: JobQueue
    api: GitHubPort
    settings: Settings
    reviewer: ScriptedReviewer = field(default_factory=ScriptedReviewer)
    login: str = BOT

    @property
    def store(self) -> Store:
        return Store(self.engine)

    def runner(self) -> JobRunner:
        deps = WorkerDeps(
            self.settings, self.store, self.queue, OneInstallation(self.api, self.login), self.reviewer
        )
        return JobRunner(self.queue, build_handlers(deps), give_up=build_give_up(deps))

    async def put(self, kind: JobKind, payload: dict[str, Any], *, repo: Any, number: int) -> int:
        async with write_transaction(self.engine) as conn:
            return await enqueue(conn, kind=kind, key=pr_key(repo, number), payload=payload)

    async def claim(self) -> ClaimedJob:
        job = await self.queue.claim("test-worker")
        assert job is not None, "no job was ready"
        return job

    async def run_next(self) -> ClaimedJob:
        """Claim the next ready job and run it to its recorded outcome (a death is swallowed)."""
        job = await self.claim()
        with contextlib.suppress(Died):
            await self.runner().run_one(job)
        return job

    async def retry_now(self) -> None:
        """Make requeued jobs ready at once (the backoff is the runner's business, not the test's)."""
        async with self.engine.begin() as conn:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            await conn.execute(update(jobs).where(jobs.c.status == "queued").values(run_after=past))

    async def expire_leases(self) -> None:
        async with self.engine.begin() as conn:
            past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            await conn.execute(update(jobs).where(jobs.c.status == "running").values(locked_until=past))

    async def job_status(self, job_id: int) -> str:
        async with self.engine.connect() as conn:
            return str((await conn.execute(select(jobs.c.status).where(jobs.c.id == job_id))).scalar_one())

    async def runs(self) -> list[Run]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(runs).order_by(runs.c.started_at))).mappings().all()
        return [Run.model_validate(dict(row)) for row in rows]
