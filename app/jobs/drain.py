"""PostgreSQL: make sure a procrastinate job will drain a PR's work, inside the caller's transaction.

Our `jobs` table holds what is wanted for a PR (coalesced review, commands, check runs); the
procrastinate job only says "drain PR X". Its `lock` (= the PR key) keeps one running drain per PR
and its `queueing_lock` keeps at most one waiting drain per PR. The defer runs on the caller's psycopg
connection, so the delivery, our row and the procrastinate job commit (or vanish) together.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from procrastinate import App, PsycopgConnector
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

DRAIN_TASK = "mini_review.drain_pr"
QUEUE = "mini-review"

# Deferring on an explicit connection never touches the connector's pool, so one unopened app serves
# every process (web processes never open a procrastinate pool at all).
_deferring_app = App(connector=PsycopgConnector())


async def lock_pr(conn: AsyncConnection, key: str) -> None:
    """Serialise every write about one PR (enqueue, merge, cancel, claim) until the transaction ends."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


async def _driver_connection(conn: AsyncConnection) -> Any:
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if type(driver).__module__.split(".")[0] != "psycopg":
        raise RuntimeError("PostgreSQL mode needs the psycopg driver (postgresql+psycopg://)")
    return driver


async def ensure_drain(conn: AsyncConnection, key: str, *, at: dt.datetime) -> None:
    """Have a waiting drain job for `key` due no later than `at` (caller holds `lock_pr`)."""
    # A waiting drain already exists: pull it forward rather than queue a second one.
    moved = await conn.execute(
        text(
            "UPDATE procrastinate_jobs SET scheduled_at = CASE "
            "WHEN scheduled_at IS NULL OR scheduled_at <= :at THEN scheduled_at ELSE :at END "
            "WHERE queueing_lock = :key AND status = 'todo' RETURNING id"
        ),
        {"key": key, "at": at},
    )
    if moved.first() is not None:
        return
    driver = await _driver_connection(conn)
    deferrer = _deferring_app.configure_task(
        DRAIN_TASK, lock=key, queueing_lock=key, queue=QUEUE, schedule_at=at, connection=driver
    )
    try:
        # A savepoint: a unique violation must not abort the caller's transaction.
        async with conn.begin_nested():
            await deferrer.defer_async(key=key)
    except AlreadyEnqueued:
        pass  # a drain someone else just queued will see our row
