"""Group commit for webhook acknowledgements: every delivery waiting to be recorded shares one write.

A webhook may only be answered 2xx once its row is durable. One transaction per delivery made the
database's commit (and, on SQLite, its single writer lock) the ceiling of the whole receiver: a
burst of pushes queued behind it for seconds. Here the first delivery to arrive starts a flush;
everything that arrives while a flush is writing rides on the next one, as one multi-row INSERT in
one transaction. Each caller still learns whether its own delivery was new (redeliveries are not).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.db import write_transaction
from app.storage.models import Delivery
from app.storage.repository import insert_deliveries
from app.webhooks.wakeups import notify_inbox

log = logging.getLogger(__name__)
MAX_BATCH = 256


class DeliveryInbox:
    """Record deliveries durably, many per transaction; `record` returns once its batch committed."""

    def __init__(self, engine: AsyncEngine, *, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._waiting: list[tuple[Delivery, asyncio.Future[bool]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def record(self, delivery: Delivery) -> bool:
        """Write `delivery`; True when it was new, False for a delivery id already recorded."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="delivery-inbox")
        return await done

    async def _flush(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                async with write_transaction(self._engine) as conn:
                    new = await insert_deliveries(conn, [delivery for delivery, _ in batch])
                    if any(d.effects and d.delivery_id in new for d, _ in batch):
                        await notify_inbox(conn)
            except Exception as exc:  # noqa: BLE001 - every waiting request answers with this failure
                log.warning("recording %d webhook deliveries failed: %s", len(batch), type(exc).__name__)
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            _answer(batch, new)


def _answer(batch: list[tuple[Delivery, asyncio.Future[bool]]], new: set[str]) -> None:
    # The same id twice in one batch (a redelivery racing its original) is new only once.
    for delivery, done in batch:
        fresh = delivery.delivery_id in new
        new.discard(delivery.delivery_id)
        if not done.done():
            done.set_result(fresh)
