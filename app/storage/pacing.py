"""GitHub write pacing per installation across every process, kept in the database (GCRA).

`MINI_GITHUB_WRITE_INTERVAL` = T is the average gap between content-creating calls of one
installation across the fleet. Each call reserves the next slot: tat = max(tat, now) + T, in one
atomic statement, and waits until tat - T - burst. The burst tolerance lets a quiet installation send
a short burst at once while any 60 s still holds at most `per_minute` calls (GitHub's secondary limit:
80 a minute; https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.db import utcnow, write_transaction
from app.storage.tables import github_write_pace

RESERVE_PG = text(
    """
    INSERT INTO github_write_pace AS p (installation_id, tat)
    VALUES (:inst, now() + make_interval(secs => :interval))
    ON CONFLICT (installation_id)
    DO UPDATE SET tat = GREATEST(p.tat, now()) + make_interval(secs => :interval)
    RETURNING EXTRACT(EPOCH FROM (p.tat - now()))::float8 AS ahead
    """
)


def burst_tolerance(interval_s: float, per_minute: int = 80) -> float:
    """How far ahead of schedule a burst may run so that any 60 s holds at most `per_minute` calls."""
    return max(0.0, (per_minute - 1) * interval_s - 60.0)


class SharedWritePacer:
    """One installation's content-creating calls, spaced across all processes sharing the database."""

    def __init__(
        self,
        engine: AsyncEngine,
        interval_s: float,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._engine = engine
        self.interval = interval_s
        self.burst = burst_tolerance(interval_s)
        self._sleep = sleep

    async def delay(self, installation_id: int) -> float:
        """Reserve the next slot; return how long to wait before using it."""
        ahead = await self._reserve(installation_id)
        return max(0.0, ahead - self.interval - self.burst)

    async def wait(self, installation_id: int) -> None:
        if self.interval <= 0:
            return
        wait = await self.delay(installation_id)
        if wait > 0:
            await self._sleep(wait)

    async def _reserve(self, installation_id: int) -> float:
        if self._engine.dialect.name == "postgresql":
            async with self._engine.begin() as conn:
                result = await conn.execute(RESERVE_PG, {"inst": installation_id, "interval": self.interval})
                return float(result.scalar_one())
        # SQLite: one process holds the write lock for the read-then-write.
        async with write_transaction(self._engine) as conn:
            now = utcnow()
            current = (
                await conn.execute(
                    select(github_write_pace.c.tat).where(
                        github_write_pace.c.installation_id == installation_id
                    )
                )
            ).scalar_one_or_none()
            tat = max(current or now, now) + dt.timedelta(seconds=self.interval)
            if current is None:
                await conn.execute(
                    github_write_pace.insert().values(installation_id=installation_id, tat=tat)
                )
            else:
                await conn.execute(
                    github_write_pace.update()
                    .where(github_write_pace.c.installation_id == installation_id)
                    .values(tat=tat)
                )
            return (tat - now).total_seconds()
