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
from app.jobs.queue import JobQueue
from app.jobs.worker import Worker
from app.pipeline.handlers import WorkerDeps, build_handlers
from app.review.factory import build_model_client, build_openai_client, reviewer_config
from app.review.reviewer import ModelReviewer
from app.settings import Settings
from app.storage.dashboard import DashboardStore
from app.storage.db import create_engine, migrate
from app.storage.repository import Store

log = logging.getLogger(__name__)
PRUNE_EVERY_S = 6 * 3600


@dataclass
class Wiring:
    """Every adapter of one process, and the worker when this process runs one."""

    settings: Settings
    store: Store
    queue: JobQueue
    github: GitHubAppClient
    reviewer: ModelReviewer
    openai_client: openai.AsyncOpenAI
    worker: Worker | None = field(default=None)
    _upkeep: asyncio.Task[None] | None = field(default=None)

    @property
    def database_kind(self) -> str:
        return self.store.engine.dialect.name

    async def prune(self) -> None:
        """Drop finished jobs and old deliveries (runs stay: they are the history users look at)."""
        age = dt.timedelta(days=self.settings.retention_days)
        jobs = await self.queue.prune(age)
        deliveries = await self.store.prune_deliveries(age)
        await DashboardStore(self.store.engine).prune_sessions()  # expired dashboard sign-ins
        if jobs or deliveries:
            log.info("pruned %d finished jobs and %d deliveries older than %s", jobs, deliveries, age)

    def start_worker(self) -> None:
        if self.worker is None:
            self.worker = Worker(
                self.queue,
                build_handlers(self._worker_deps()),
                concurrency=self.settings.worker_concurrency,
                lease_s=self.settings.job_lease_s,
            )
            self.worker.start()
            self._upkeep = asyncio.create_task(self._prune_periodically())

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
        if self.worker is not None:
            await self.worker.stop()
            self.worker = None
        await self.openai_client.close()
        await self.store.engine.dispose()


async def build_wiring(settings: Settings) -> Wiring:
    engine = create_engine(settings.database_url)
    await migrate(engine)
    store = Store(engine)
    queue = JobQueue(engine, lease_s=settings.job_lease_s, max_attempts=settings.job_max_attempts)
    github = GitHubAppClient(
        settings.github_app_id,
        settings.private_key_pem(),
        settings.github_api_url,
        write_interval=settings.github_write_interval_s,
    )
    openai_client = build_openai_client(settings)
    model = build_model_client(settings, openai_client)
    reviewer = ModelReviewer(model, reviewer_config(settings), render=render_chunk)
    return Wiring(settings, store, queue, github, reviewer, openai_client)
