"""The one composition root: build the adapters once per process, hand them to the web app and the worker.

Nothing else in `app/` constructs adapters or imports this module, except the two entry points
(`app.main` for the web app, `app.cli` for the worker), so packages depend on ports, never on wiring.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field

import openai

from app.diff.render import render_chunk
from app.github.client import GitHubAppClient
from app.jobs.engine import ProcrastinateEngine, libpq_conninfo
from app.jobs.queue import JobQueue
from app.jobs.upkeep import UPKEEP_CRON
from app.jobs.worker import JobRunner, Worker
from app.pipeline.handlers import WorkerDeps, build_give_up, build_handlers
from app.review.factory import build_model_client, build_openai_client, reviewer_config
from app.review.reviewer import ModelReviewer
from app.settings import Settings
from app.storage.dashboard import DashboardStore
from app.storage.db import create_engine, migrate
from app.storage.pacing import SharedWritePacer
from app.storage.repository import Store
from app.webhooks.applier import DeliveryApplier, WebhookIntake
from app.webhooks.inbox import DeliveryInbox

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 6 * 3600  # SQLite: the one process prunes in its own loop
# Review call results are kept for retries, which come within the hour (job backoff is capped at
# minutes); a few days leave room for a stuck queue without keeping diffs' findings around for long.
CHUNK_RESULTS_KEPT = dt.timedelta(days=3)


@dataclass
class Wiring:
    """Every adapter of one process, and the worker when this process runs one."""

    settings: Settings
    store: Store
    queue: JobQueue
    github: GitHubAppClient
    reviewer: ModelReviewer
    openai_client: openai.AsyncOpenAI
    worker: Worker | ProcrastinateEngine | None = field(default=None)
    applier: DeliveryApplier | None = field(default=None)
    prune_cron: str = UPKEEP_CRON  # PostgreSQL: when the fleet prunes (a procrastinate periodic task)
    _upkeep: asyncio.Task[None] | None = field(default=None)

    @property
    def database_kind(self) -> str:
        return self.store.engine.dialect.name

    async def prune(self) -> None:
        """Drop finished jobs, old deliveries and kept call results (runs stay: they are the history)."""
        age = dt.timedelta(days=self.settings.retention_days)
        jobs = await self.queue.prune(age)
        deliveries = await self.store.prune_deliveries(age)
        await DashboardStore(self.store.engine).prune_sessions()  # expired dashboard sign-ins
        if jobs or deliveries:
            log.info("pruned %d finished jobs and %d deliveries older than %s", jobs, deliveries, age)
        kept = await self.store.prune_chunk_results(CHUNK_RESULTS_KEPT)
        if kept:
            log.info("pruned %d review call results older than %s", kept, CHUNK_RESULTS_KEPT)

    def start_intake(self, *, apply: bool = True) -> WebhookIntake:
        """Return what the webhook route uses; with `apply`, this process also applies deliveries.

        On PostgreSQL a web process without a worker only records: the workers' appliers LISTEN for
        the inbox's NOTIFY, which keeps the acknowledgement path free of the jobs' writes.
        """
        if apply and self.applier is None:
            postgres = self.database_kind == "postgresql"
            listen = libpq_conninfo(self.settings.database_url) if postgres else None
            self.applier = DeliveryApplier(self.store.engine, self.queue.wakeup.set, listen=listen)
            self.applier.start()
        return WebhookIntake(DeliveryInbox(self.store.engine), self.applier)

    def intake_alive(self) -> bool:
        """Readiness: this process's applier (when it runs one) is alive."""
        return self.applier is None or self.applier.alive()

    async def start_worker(self) -> None:
        """Start this process's worker: procrastinate on PostgreSQL, the embedded loops on SQLite.

        Pruning: on PostgreSQL a procrastinate periodic task (once per tick for the whole fleet);
        on SQLite a loop of this process.
        """
        if self.worker is not None:
            return
        settings = self.settings
        deps = self._worker_deps()
        runner = JobRunner(
            self.queue, build_handlers(deps), give_up=build_give_up(deps), lease_s=settings.job_lease_s
        )
        if self.database_kind == "postgresql":
            # Workers apply what web processes record (their NOTIFY wakes us; a poll covers the rest).
            self.start_intake()
            engine = ProcrastinateEngine(
                settings.database_url,
                self.store.engine,
                runner,
                concurrency=settings.worker_concurrency,
                lease_s=settings.job_lease_s,
                grace_s=settings.shutdown_grace_s,
                prune=self.prune,
                prune_cron=self.prune_cron,
            )
            await engine.start()
            self.worker = engine
            return
        embedded = Worker(runner, concurrency=settings.worker_concurrency)
        embedded.start()
        self.worker = embedded
        self._upkeep = asyncio.create_task(self._prune_periodically())

    def worker_alive(self) -> bool:
        """Readiness: this process runs no worker, or every one of its loops is alive."""
        if self.worker is None:
            return self.settings.worker_mode == "off"
        if isinstance(self.worker, ProcrastinateEngine):
            return self.worker.alive()  # its pruning is a procrastinate task, not a loop of ours
        upkeep_ok = self._upkeep is not None and not self._upkeep.done()
        return upkeep_ok and self.worker.alive()

    async def database_ok(self) -> bool:
        try:
            async with self.store.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except Exception:  # noqa: BLE001 - readiness reports, it does not raise
            log.warning("readiness: the database did not answer", exc_info=True)
            return False
        return True

    def _worker_deps(self) -> WorkerDeps:
        model = self.reviewer.client  # conversation's structured calls share the reviewer's client
        dashboard = DashboardStore(self.store.engine)  # live progress, the repository-wide pause
        return WorkerDeps(
            self.settings, self.store, self.queue, self.github, self.reviewer, model, dashboard=dashboard
        )

    async def _prune_periodically(self) -> None:
        while True:
            try:
                await self.prune()
            except Exception:  # noqa: BLE001 - housekeeping must never take the worker down
                log.exception("pruning old jobs failed")
            await asyncio.sleep(PRUNE_EVERY_S)

    async def close(self) -> None:
        if self._upkeep is not None:
            self._upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._upkeep
            self._upkeep = None
        if isinstance(self.worker, Worker):
            await self.worker.stop(self.settings.shutdown_grace_s)
        elif self.worker is not None:
            await self.worker.stop()
        self.worker = None
        if self.applier is not None:
            await self.applier.stop()
            self.applier = None
        await self.openai_client.close()
        await self.store.engine.dispose()


async def build_wiring(settings: Settings) -> Wiring:
    engine = create_engine(settings.database_url)
    await migrate(engine)
    store = Store(engine)
    queue = JobQueue(engine, lease_s=settings.job_lease_s, max_attempts=settings.job_max_attempts)
    interval = settings.github_write_interval_s
    github = GitHubAppClient(
        settings.github_app_id,
        settings.private_key_pem(),
        settings.github_api_url,
        write_interval=interval,
        # The average gap holds across every process sharing the database; 0 turns pacing off.
        fleet_pacer=SharedWritePacer(engine, interval) if interval > 0 else None,
    )
    openai_client = build_openai_client(settings)
    model = build_model_client(settings, openai_client)
    reviewer = ModelReviewer(model, reviewer_config(settings), render=render_chunk)
    return Wiring(settings, store, queue, github, reviewer, openai_client)
