"""Delivery bookkeeping: idempotent acceptance and pruning, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.repository import Store
from app.storage.tables import deliveries
from app.webhooks.intake import accept_delivery
from app.webhooks.intents import Intent


async def _deliveries(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(deliveries))).scalar_one())


async def test_redelivery_is_refused_until_pruned(engine: AsyncEngine) -> None:
    store = Store(engine)
    intent = Intent(outcome="review queued")
    assert await accept_delivery(engine, "d-1", "pull_request", "opened", intent)
    assert not await accept_delivery(engine, "d-1", "pull_request", "opened", intent)
    assert await store.prune_deliveries(dt.timedelta(days=30)) == 0
    async with engine.begin() as conn:
        await conn.execute(
            update(deliveries).values(received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
        )
    assert await store.prune_deliveries(dt.timedelta(days=30)) == 1
    assert await _deliveries(engine) == 0
