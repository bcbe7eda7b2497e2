"""What an accepted delivery means, written in ONE transaction: its record, its jobs, its cancellations."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.jobs.models import CloseChecksJob, JobKind
from app.jobs.queue import cancel_queued, enqueue
from app.storage.db import write_transaction
from app.storage.models import Delivery, InstallationChange
from app.storage.repository import insert_delivery, record_installation
from app.webhooks.events import InstallationEvent
from app.webhooks.intents import Intent


def installation_change(event: InstallationEvent) -> InstallationChange:
    return InstallationChange(
        id=event.installation.id,
        account=event.installation.account.login if event.installation.account else None,
        repositories=None if event.repositories is None else [r.full_name for r in event.repositories],
        added=[r.full_name for r in event.repositories_added or []],
        removed=[r.full_name for r in event.repositories_removed or []],
        active=event.action not in ("deleted", "suspend"),
    )


async def _cancel(conn: AsyncConnection, intent: Intent) -> None:
    if intent.cancel_key is None or intent.cancel_repo is None:
        return
    cancelled = await cancel_queued(conn, intent.cancel_key)
    ids = [i for job in cancelled for i in job.all_check_run_ids()]
    if ids:
        # Their check runs sit in "queued" on GitHub: a job completes them.
        close = CloseChecksJob(repo=intent.cancel_repo, check_run_ids=ids)
        await enqueue(
            conn, kind=JobKind.CLOSE_CHECKS, key=intent.cancel_key, payload=close.model_dump(mode="json")
        )


async def accept_delivery(
    engine: AsyncEngine, delivery_id: str, event: str, action: str | None, intent: Intent
) -> bool:
    """Persist the delivery and its work in ONE transaction; False when it was already seen."""
    record = Delivery(
        delivery_id=delivery_id,
        event=event,
        action=action,
        repo=intent.repo,
        pr_number=intent.pr_number,
        head_sha=intent.head_sha,
        installation_id=intent.installation_id,
        outcome=intent.outcome,
    )
    try:
        async with write_transaction(engine) as conn:
            await insert_delivery(conn, record)
            for work in intent.work:
                await enqueue(conn, kind=work.kind, key=work.key, payload=work.payload, delay_s=work.delay_s)
            await _cancel(conn, intent)
            if intent.installation is not None:
                await record_installation(conn, installation_change(intent.installation))
    except IntegrityError:
        return False
    return True
