"""Apply recorded deliveries' effects (jobs, cancellations, installations) after they were acknowledged.

Every web process runs one applier. It applies its own deliveries the moment they are recorded (a
wake-up) and, every `poll_s`, any delivery still pending: one another process recorded but did not
live to apply. Taking a delivery (`applied_at` set only if still NULL) and writing its effects happen
in one transaction, so two appliers never apply one delivery twice and a crash applies it never
half. Pending deliveries are applied oldest first, so within a process a PR's push and its close keep
their order (across processes they had none: each was accepted by whichever process GitHub reached).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.db import write_transaction
from app.storage.models import Delivery
from app.storage.repository import mark_delivery_applied, pending_deliveries
from app.webhooks.inbox import DeliveryInbox
from app.webhooks.intake import Effects, apply_effects

log = logging.getLogger(__name__)


class DeliveryApplier:
    def __init__(
        self, engine: AsyncEngine, wake_worker: Callable[[], None], *, poll_s: float = 1.0, batch: int = 100
    ) -> None:
        self._engine = engine
        self._wake_worker = wake_worker
        self._poll_s = poll_s
        self._batch = batch
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wakeup.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run_forever(), name="delivery-applier")

    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_s)
            self._wakeup.clear()
            try:
                await self.apply_pending()
            except Exception:  # noqa: BLE001 - a database hiccup: the rows stay pending for the next round
                log.warning("applying recorded deliveries failed; retrying shortly", exc_info=True)

    async def apply_pending(self) -> int:
        """Apply every pending delivery, oldest first; return how many this call applied."""
        applied = 0
        while True:
            async with self._engine.connect() as conn:
                pending = await pending_deliveries(conn, self._batch)
            queued = False
            for delivery_id, raw in pending:
                took, work = await self._apply_one(delivery_id, raw)
                applied += took
                queued = queued or work
            if queued:
                self._wake_worker()
            if len(pending) < self._batch:
                return applied

    async def _apply_one(self, delivery_id: str, raw: dict[str, object]) -> tuple[bool, bool]:
        try:
            effects = Effects.model_validate(raw)
        except ValidationError as exc:
            # Written by an incompatible release: say so on its row rather than retry it forever.
            log.error(
                "delivery %s: its recorded effects are unreadable (%d errors)", delivery_id, exc.error_count()
            )
            async with write_transaction(self._engine) as conn:
                await mark_delivery_applied(conn, delivery_id, "not applied: unreadable effects")
            return True, False
        async with write_transaction(self._engine) as conn:
            if not await mark_delivery_applied(conn, delivery_id):
                return False, False  # another process applied it first
            return True, await apply_effects(conn, effects)


class WebhookIntake:
    """What the webhook route talks to: record a delivery (group commit), then wake the applier."""

    def __init__(self, inbox: DeliveryInbox, applier: DeliveryApplier) -> None:
        self._inbox = inbox
        self._applier = applier

    async def record(self, delivery: Delivery) -> bool:
        return await self._inbox.record(delivery)

    def applied_soon(self) -> None:
        self._applier.wake()
