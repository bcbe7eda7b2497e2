"""A procrastinate worker that died long ago (kill -9): its row stays, its heartbeat stopped."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

DEAD_WORKER = text(
    "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id"
)


async def insert_dead_worker(conn: AsyncConnection) -> int:
    return int((await conn.execute(DEAD_WORKER)).scalar_one())
