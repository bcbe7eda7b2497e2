"""Apply recorded deliveries' effects (jobs, cancellations, installations) after they were acknowledged.

Every process that runs a worker runs one applier (on SQLite: the one process). It applies its own
deliveries the moment they are recorded (a wake-up), other processes' when their NOTIFY arrives
(PostgreSQL), and, every `poll_s`, any delivery still pending: one whose wake-up was lost. Taking
a delivery (`applied_at` set only if still NULL) and writing its effects happen in one transaction,
so two appliers never apply one delivery twice and a crash applies it never half. A PR's pending
deliveries are applied together, oldest first, under a lock of the PR, so its pushes and its close
land in the order they were recorded, whichever processes took them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.drain import lock_pr
from app.storage.db import write_transaction
from app.storage.models import Delivery, PendingDelivery
from app.storage.repository import mark_delivery_applied, pending_deliveries, pending_for_pull
from app.webhooks.inbox import DeliveryInbox
from app.webhooks.intake import Effects, apply_effects
from app.webhooks.wakeups import listen_forever

log = logging.getLogger(__name__)


class DeliveryApplier:
    def __init__(
        self,
        engine: AsyncEngine,
        wake_worker: Callable[[], None],
        *,
        poll_s: float = 1.0,
        batch: int = 100,
        listen: str | None = None,
    ) -> None:
        """`listen`: a libpq conninfo to LISTEN on for other processes' recorded deliveries."""
        self._engine = engine
        self._wake_worker = wake_worker
        self._poll_s = poll_s
        self._batch = batch
        self._listen = listen
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        self._wakeup.set()

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run_forever(), name="delivery-applier")]
        if self._listen is not None:
            listener = listen_forever(self._listen, self.wake)
            self._tasks.append(asyncio.create_task(listener, name="delivery-listener"))

    def alive(self) -> bool:
        return bool(self._tasks) and not any(t.done() for t in self._tasks)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

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
            pulls_done: set[tuple[str | None, int | None]] = set()
            for delivery in pending:
                pull = (delivery.repo, delivery.pr_number)
                if pull in pulls_done:
                    continue  # applied with the first of its PR's deliveries in this batch
                took, work = await self.apply_with_its_pull(delivery)
                applied += took
                queued = queued or work
                if None not in pull:  # deliveries without a PR are applied one by one
                    pulls_done.add(pull)
            if queued:
                self._wake_worker()
            if len(pending) < self._batch:
                return applied

    async def apply_with_its_pull(self, delivery: PendingDelivery) -> tuple[int, bool]:
        """Apply `delivery` and, first, every older pending delivery of its PR, in one transaction.

        Two web processes may each take one push of a PR; whichever applier runs first applies both,
        in the order they were recorded, so an older push never lands after a newer one.
        """
        async with write_transaction(self._engine) as conn:
            batch = [delivery]
            if delivery.repo is not None and delivery.pr_number is not None:
                await lock_pr(conn, f"deliveries:{delivery.repo}#{delivery.pr_number}")
                batch = await pending_for_pull(conn, delivery.repo, delivery.pr_number)
            applied, queued = 0, False
            for item in batch:
                effects = _readable(item)
                note = None if effects is not None else "not applied: unreadable effects"
                if not await mark_delivery_applied(conn, item.delivery_id, note):
                    continue  # another process applied it first
                applied += 1
                if effects is not None:
                    queued = await apply_effects(conn, effects) or queued
            return applied, queued


def _readable(delivery: PendingDelivery) -> Effects | None:
    try:
        return Effects.model_validate(delivery.effects)
    except ValidationError as exc:
        # Written by an incompatible release: say so on its row rather than retry it forever.
        log.error(
            "delivery %s: its recorded effects are unreadable (%d errors)",
            delivery.delivery_id,
            exc.error_count(),
        )
        return None


class WebhookIntake:
    """What the webhook route talks to: record a delivery (group commit), then wake the applier.

    Without an applier in this process (a PostgreSQL web process without a worker), the inbox's
    NOTIFY wakes the workers' appliers instead.
    """

    def __init__(self, inbox: DeliveryInbox, applier: DeliveryApplier | None) -> None:
        self._inbox = inbox
        self._applier = applier

    async def record(self, delivery: Delivery) -> bool:
        return await self._inbox.record(delivery)

    def applied_soon(self) -> None:
        if self._applier is not None:
            self._applier.wake()
