"""The PostgreSQL engine: procrastinate workers drain PRs; a reaper makes sure no wanted work is orphaned.

procrastinate gives us SKIP LOCKED claims, LISTEN/NOTIFY wake-ups, worker heartbeats and graceful
shutdown. What it does not give us, we add around it (and only that):
- the work itself lives in our `jobs` table (coalesced per PR, fenced by a per-claim token); a
  procrastinate job only says "drain PR X" and is never retried by procrastinate (no queueing-lock
  clashes on retry, its open issues #1446/#1543);
- the reaper, run by every worker process every few seconds: drain jobs of stalled workers are
  closed, and every PR with ready work but no waiting or running drain gets one again (the outbox
  sweep: whatever a crash, a killed connection or a failed drain left behind is picked up);
- pruning, a procrastinate periodic task on its own queue (`app.jobs.upkeep`): once per tick for
  the fleet, our finished rows and procrastinate's old finished jobs go.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import secrets
from typing import Any

from procrastinate import App, PsycopgConnector
from procrastinate.jobs import Status
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.drain import DRAIN_TASK, QUEUE, ensure_drain, lock_pr
from app.jobs.upkeep import UPKEEP_CRON, UPKEEP_QUEUE, PruneOurs, register_upkeep
from app.jobs.worker import JobRunner
from app.storage.db import utcnow, write_transaction

log = logging.getLogger(__name__)

# PRs with wanted work (due, or held by an expired lease) and no drain job waiting or running.
ORPHANS = text(
    """
    SELECT j.pr_key, MIN(CASE WHEN j.status = 'queued' THEN j.run_after ELSE now() END) AS due
      FROM jobs j
     WHERE (j.status = 'queued' OR (j.status = 'running' AND j.locked_until <= now()))
       AND NOT EXISTS (
           SELECT 1 FROM procrastinate_jobs p
            WHERE p.lock = j.pr_key AND p.status IN ('todo', 'doing'))
     GROUP BY j.pr_key
     LIMIT 500
    """
)


def libpq_conninfo(database_url: str) -> str:
    """The libpq URI psycopg's pool wants, from any of the PostgreSQL URL spellings we accept."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateEngine:
    """One procrastinate worker (restarted if it ever stops) plus the reaper, in this process."""

    def __init__(
        self,
        database_url: str,
        engine: AsyncEngine,
        runner: JobRunner,
        *,
        concurrency: int,
        lease_s: float,
        grace_s: float,
        reap_every_s: float = 2.0,
        prune: PruneOurs | None = None,
        prune_cron: str = UPKEEP_CRON,
    ) -> None:
        self._engine = engine
        self._runner = runner
        self._queue = runner.queue
        self._concurrency = concurrency
        self._grace = grace_s
        # procrastinate only decides who drains; our own lease fences the work. A worker pruned as
        # stalled never registers again, so keep procrastinate's own generous default (30 s).
        self._stalled_s = max(30.0, min(lease_s, 60.0))
        self._reap_every = reap_every_s
        self.name = f"pg-{secrets.token_hex(4)}"
        connector = PsycopgConnector(
            conninfo=libpq_conninfo(database_url), min_size=1, max_size=concurrency + 4
        )
        self.app = App(connector=connector)
        self.app.task(name=DRAIN_TASK, queue=QUEUE)(self._drain)
        register_upkeep(self.app, prune, cron=prune_cron)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self) -> None:
        await self.app.open_async()
        self._tasks = [
            asyncio.create_task(self._work_forever(), name=f"{self.name}-worker"),
            asyncio.create_task(self._reap_forever(), name=f"{self.name}-reaper"),
        ]

    def alive(self) -> bool:
        return bool(self._tasks) and not any(t.done() for t in self._tasks)

    async def stop(self) -> None:
        """Stop claiming; running drains get the grace period, then hand their job back."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.app.close_async()

    async def _drain(self, key: str) -> None:
        """The procrastinate task: run the PR's ready jobs one by one, then book the next visit."""
        while not self._stopping:
            job = await self._queue.claim_for(key, self.name)
            if job is None:
                break
            await self._runner.run_one(job)
        due = await self._queue.next_due(key)
        if due is not None:
            await self._book(key, due)

    async def _book(self, key: str, due: dt.datetime) -> None:
        async with write_transaction(self._engine) as conn:
            await lock_pr(conn, key)
            await ensure_drain(conn, key, at=max(due, utcnow()))

    def _worker_options(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "queues": [QUEUE, UPKEEP_QUEUE],
            "concurrency": self._concurrency,
            "fetch_job_polling_interval": 1.0,
            "shutdown_graceful_timeout": self._grace,
            "install_signal_handlers": False,  # the CLI owns signals: stop() runs the graceful path
            "update_heartbeat_interval": self._stalled_s / 3,
            "stalled_worker_timeout": self._stalled_s,
            "delete_jobs": "successful",
            "listen_notify": True,
        }

    async def _work_forever(self) -> None:
        while True:
            try:
                await self.app.run_worker_async(**self._worker_options())
                log.warning("procrastinate worker %s stopped by itself; starting it again", self.name)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a lost connection must not end this process's work
                log.exception("procrastinate worker %s failed; starting it again", self.name)
            await asyncio.sleep(1.0)

    async def _reap_forever(self) -> None:
        while True:
            # Jitter: a fleet of workers started together must not sweep in lockstep.
            await asyncio.sleep(self._reap_every * random.uniform(0.5, 1.5))
            try:
                await self.reap()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.warning("reaper %s: a round failed", self.name, exc_info=True)

    async def reap(self) -> int:
        """Close drains of dead workers, then give every orphaned PR a drain; return how many."""
        await self._close_stalled_jobs()
        async with self._engine.connect() as conn:
            orphans = [(str(r.pr_key), r.due) for r in await conn.execute(ORPHANS)]
        for key, due in orphans:
            await self._book(key, due)
        if orphans:
            log.info("reaper %s: %d PR(s) had work without a drain job", self.name, len(orphans))
        return len(orphans)

    async def _close_stalled_jobs(self) -> None:
        manager = self.app.job_manager
        await manager.prune_stalled_workers(self._stalled_s)
        # Prune jobs too: a dead worker's one would hold the prune lock, and so every later tick.
        for queue in (QUEUE, UPKEEP_QUEUE):
            stalled_jobs = await manager.get_stalled_jobs(
                queue=queue, seconds_since_heartbeat=self._stalled_s
            )
            for stalled in stalled_jobs:
                assert stalled.id is not None
                with contextlib.suppress(Exception):  # it may have finished meanwhile
                    await manager.finish_job_by_id_async(stalled.id, Status.FAILED, delete_job=True)
