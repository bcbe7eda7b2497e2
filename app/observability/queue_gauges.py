"""Queue depth and the oldest waiting job's age, read from the shared database when /metrics is scraped."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.observability.metrics import QUEUE_DEPTH, QUEUE_OLDEST_AGE
from app.storage.db import utcnow
from app.storage.tables import jobs

# Known kinds show 0 when idle, so a dashboard's series exist before the first job.
_seen_kinds: set[str] = {"review", "check", "command"}


async def refresh_queue_gauges(engine: AsyncEngine) -> None:
    """Set the queue gauges from the jobs table: the same numbers in every process."""
    query = (
        select(jobs.c.kind, func.count(), func.min(jobs.c.created_at))
        .where(jobs.c.status == "queued")
        .group_by(jobs.c.kind)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    oldest: dt.datetime | None = None
    depth = {str(kind): int(count) for kind, count, _ in rows}
    for _, _, created in rows:
        if created is not None and (oldest is None or created < oldest):
            oldest = created
    for kind in _seen_kinds | set(depth):
        QUEUE_DEPTH.labels(kind).set(depth.get(kind, 0))
    _seen_kinds.update(depth)
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    QUEUE_OLDEST_AGE.set(max(age, 0.0))
