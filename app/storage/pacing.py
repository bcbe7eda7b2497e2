"""GitHub write pacing per installation across every process, kept in the database.

`MINI_GITHUB_WRITE_INTERVAL` = T is the average gap between content-creating calls of one
installation across the fleet; on top of it runs GitHub's hourly budget. Each call reserves its slot
in one transaction that locks the installation's row, so every process sees every reservation; the
schedules themselves are the pure arithmetic of `app.storage.pace`. PostgreSQL's clock is the one
clock of the fleet (process clocks may disagree); SQLite has one process, so its clock is used.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.storage.db import insert_for, utcnow, write_transaction
from app.storage.pace import github_budgets, schedule
from app.storage.tables import github_write_pace

DATABASE_NOW = text("SELECT EXTRACT(EPOCH FROM now())::float8")


class SharedWritePacer:
    """One installation's content-creating calls, scheduled across all processes sharing the database."""

    def __init__(self, engine: AsyncEngine, interval_s: float) -> None:
        self._engine = engine
        self.interval = interval_s
        self.budgets = github_budgets(interval_s)

    async def delay(self, installation_id: int) -> float:
        """Reserve the next slot; return how long to wait before using it (0 with pacing off)."""
        if self.interval <= 0:
            return 0.0
        async with write_transaction(self._engine) as conn:
            row = await _locked_row(conn, installation_id)
            now = await _now(conn)
            tats = (_epoch(row.tat), _epoch(row.hour_tat))
            send, (tat, hour_tat) = schedule(tats, now, self.budgets)
            await conn.execute(
                github_write_pace.update()
                .where(github_write_pace.c.installation_id == installation_id)
                .values(tat=_moment(tat), hour_tat=_moment(hour_tat))
            )
        return send - now


async def _locked_row(conn: AsyncConnection, installation_id: int) -> Any:
    """The installation's schedules, created if new and locked until the transaction ends."""
    # A brand-new row's `tat` of the distant past means "never used"; two processes creating it at
    # once both go on to lock the one row.
    await conn.execute(
        insert_for(conn, github_write_pace)
        .values(installation_id=installation_id, tat=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        .on_conflict_do_nothing(index_elements=[github_write_pace.c.installation_id])
    )
    query = select(github_write_pace).where(github_write_pace.c.installation_id == installation_id)
    return (await conn.execute(query.with_for_update())).one()


async def _now(conn: AsyncConnection) -> float:
    if conn.dialect.name == "postgresql":
        return float((await conn.execute(DATABASE_NOW)).scalar_one())
    return utcnow().timestamp()


def _epoch(moment: dt.datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _moment(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)
