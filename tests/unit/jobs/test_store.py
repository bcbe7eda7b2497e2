"""Delivery bookkeeping: idempotent acceptance and pruning, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.repository import Store
from app.storage.tables import deliveries
from app.webhooks.intents import Intent


async def test_redelivery_is_refused_until_pruned(engine: AsyncEngine) -> None:
    store = Store(engine)
    assert await store.accept_delivery("d-1", "pull_request", "opened", Intent(outcome="review queued"))
    assert not await store.accept_delivery("d-1", "pull_request", "opened", Intent(outcome="review queued"))
    assert await store.prune_deliveries(dt.timedelta(days=30)) == 0
    async with engine.begin() as conn:
        await conn.execute(
            update(deliveries).values(received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=31))
        )
    assert await store.prune_deliveries(dt.timedelta(days=30)) == 1
    assert await store.delivery_count() == 0
