"""PostgreSQL: pruning as a procrastinate periodic task, run once per tick across the whole fleet.

Every worker's periodic deferrer tries to defer the tick; procrastinate's periodic-defer table is
unique on (task, periodic id, tick), so exactly one job per tick exists, whichever worker runs it.
The job runs on its own queue and lock, never touching a PR's drain lock; its `queueing_lock`
keeps at most one tick waiting when a prune runs longer than the interval.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from procrastinate import App

log = logging.getLogger(__name__)

UPKEEP_TASK = "mini_review.prune"
UPKEEP_QUEUE = "mini-review-upkeep"
UPKEEP_LOCK = "mini-review:prune"  # no PR key looks like this (they are "owner/name#number")
PERIODIC_ID = "prune"
# Hourly at a fixed minute: the fleet now prunes once per tick (not once per process), so an hour
# costs less than the old per-process 6-hour loop did with a few workers.
UPKEEP_CRON = "23 * * * *"
# procrastinate's own finished jobs (failed drains, cancelled ones) and their events: kept a week
# for whoever investigates an incident, then dropped.
ENGINE_HISTORY = dt.timedelta(days=7)

PruneOurs = Callable[[], Awaitable[None]]


def register_upkeep(
    app: App,
    prune_ours: PruneOurs | None,
    *,
    cron: str = UPKEEP_CRON,
    history: dt.timedelta = ENGINE_HISTORY,
) -> None:
    """Register the pruning periodic task on `app` (its workers must listen to UPKEEP_QUEUE)."""
    hours = max(1, int(history.total_seconds() // 3600))

    async def prune(timestamp: int) -> None:
        """Prune our finished rows, then procrastinate's finished jobs (their events cascade)."""
        if prune_ours is not None:
            await prune_ours()
        await app.job_manager.delete_old_jobs(
            nb_hours=hours, include_failed=True, include_cancelled=True, include_aborted=True
        )
        log.debug("upkeep tick %d: pruned", timestamp)

    task = app.task(name=UPKEEP_TASK, queue=UPKEEP_QUEUE)(prune)
    app.periodic(cron=cron, periodic_id=PERIODIC_ID, lock=UPKEEP_LOCK, queueing_lock=UPKEEP_LOCK)(task)
