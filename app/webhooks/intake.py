"""What an accepted delivery means, written as its record and, after the 2xx, applied as its effects.

A webhook is acknowledged once its row is committed; the row carries `Effects` (the jobs to enqueue,
the PR whose queued work a close cancels, the installation change). `apply_effects` writes them in
one transaction with the row's `applied_at` (see `app.webhooks.applier`), so a crash between the
2xx and the apply loses nothing: the row stays pending and the next applier round takes it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from app.github.models import RepoRef
from app.jobs.models import CloseChecksJob, JobKind
from app.jobs.queue import cancel_queued, enqueue
from app.storage.models import Delivery, InstallationChange
from app.storage.repository import record_installation
from app.webhooks.events import InstallationEvent
from app.webhooks.intents import Intent, QueuedWork


class Effects(BaseModel):
    """Everything a delivery changes besides its own record; stored with it until applied."""

    work: list[QueuedWork] = Field(default_factory=list)  # the intent's own items, validated on read
    cancel_key: str | None = None
    cancel_repo: RepoRef | None = None
    installation: InstallationChange | None = None

    def is_empty(self) -> bool:
        return not self.work and self.cancel_key is None and self.installation is None


def installation_change(event: InstallationEvent) -> InstallationChange:
    return InstallationChange(
        id=event.installation.id,
        account=event.installation.account.login if event.installation.account else None,
        repositories=None if event.repositories is None else [r.full_name for r in event.repositories],
        added=[r.full_name for r in event.repositories_added or []],
        removed=[r.full_name for r in event.repositories_removed or []],
        active=event.action not in ("deleted", "suspend"),
    )


def effects_of(intent: Intent) -> Effects:
    return Effects(
        work=list(intent.work),
        cancel_key=intent.cancel_key if intent.cancel_repo is not None else None,
        cancel_repo=intent.cancel_repo if intent.cancel_key is not None else None,
        installation=installation_change(intent.installation) if intent.installation else None,
    )


def delivery_record(delivery_id: str, event: str, action: str | None, intent: Intent) -> Delivery:
    """The row that acknowledges a delivery: who it was about, what it meant, what it still owes."""
    effects = effects_of(intent)
    return Delivery(
        delivery_id=delivery_id,
        event=event,
        action=action,
        repo=intent.repo,
        pr_number=intent.pr_number,
        head_sha=intent.head_sha,
        installation_id=intent.installation_id,
        outcome=intent.outcome,
        effects=None if effects.is_empty() else effects.model_dump(mode="json"),
    )


async def _cancel(conn: AsyncConnection, key: str, repo: RepoRef) -> None:
    cancelled = await cancel_queued(conn, key)
    ids = [i for job in cancelled for i in job.all_check_run_ids()]
    if ids:
        # Their check runs sit in "queued" on GitHub: a job completes them.
        close = CloseChecksJob(repo=repo, check_run_ids=ids)
        await enqueue(conn, kind=JobKind.CLOSE_CHECKS, key=key, payload=close.model_dump(mode="json"))


async def apply_effects(conn: AsyncConnection, effects: Effects) -> bool:
    """Write a delivery's effects in the caller's transaction; True when it queued work."""
    for work in effects.work:
        await enqueue(conn, kind=work.kind, key=work.key, payload=dict(work.payload), delay_s=work.delay_s)
    if effects.cancel_key is not None and effects.cancel_repo is not None:
        await _cancel(conn, effects.cancel_key, effects.cancel_repo)
    if effects.installation is not None:
        await record_installation(conn, effects.installation)
    return bool(effects.work) or effects.cancel_key is not None
