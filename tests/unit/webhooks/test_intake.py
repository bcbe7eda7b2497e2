"""Intake: a delivery is recorded (group commit), then its jobs and cancellations are applied; idempotence."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.github.models import RepoRef
from app.jobs.models import CheckJob, CloseChecksJob, JobKind, JobStatus, ReviewJob, pr_key
from app.storage.repository import Store
from app.storage.tables import deliveries, installations, jobs
from app.webhooks.applier import DeliveryApplier
from app.webhooks.inbox import DeliveryInbox
from app.webhooks.intake import delivery_record
from app.webhooks.intents import Intent, QueuedWork, decide

REPO = RepoRef(owner="acme", name="shop", installation_id=7)


async def accept_delivery(
    engine: AsyncEngine, delivery_id: str, event: str, action: str | None, intent: Intent
) -> bool:
    """What the webhook route and the applier do together: record, answer, apply."""
    fresh = await DeliveryInbox(engine).record(delivery_record(delivery_id, event, action, intent))
    await DeliveryApplier(engine, lambda: None).apply_pending()
    return fresh


async def _deliveries(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(deliveries))).scalar_one())


async def test_redelivery_is_refused_until_pruned(engine: AsyncEngine) -> None:
    store = Store(engine)
    intent = Intent(outcome="review queued")
    assert await accept_delivery(engine, "d-1", "pull_request", "opened", intent)
    assert not await accept_delivery(engine, "d-1", "pull_request", "opened", intent)
    assert await store.prune_deliveries(dt.timedelta(days=30)) == 0
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
    async with engine.begin() as conn:
        await conn.execute(update(deliveries).values(received_at=old))
    # (A pending delivery is never pruned, however old: see test_inbox.)
    assert await store.prune_deliveries(dt.timedelta(days=30)) == 1
    assert await _deliveries(engine) == 0


async def _jobs(engine: AsyncEngine) -> list[tuple[str, str, dict[str, object]]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(jobs.c.kind, jobs.c.status, jobs.c.payload).order_by(jobs.c.id))
        return [(r.kind, r.status, r.payload) for r in rows]


async def test_a_closed_pr_cancels_its_queued_work_and_closes_its_checks(engine: AsyncEngine) -> None:
    key = pr_key(REPO, 7)
    review = ReviewJob(repo=REPO, number=7, head_sha="h1", trigger="pull_request.opened", check_run_id=41)
    opened = Intent(
        outcome="review queued", work=[QueuedWork(JobKind.REVIEW, key, review.model_dump(mode="json"))]
    )
    assert await accept_delivery(engine, "d-open", "pull_request", "opened", opened)
    closed = Intent(outcome="cancelled queued work: PR closed", cancel_key=key, cancel_repo=REPO)
    assert await accept_delivery(engine, "d-close", "pull_request", "closed", closed)
    (kind1, status1, _), (kind2, status2, payload2) = await _jobs(engine)
    assert (kind1, status1) == (JobKind.REVIEW, JobStatus.CANCELLED)
    assert (kind2, status2) == (JobKind.CLOSE_CHECKS, JobStatus.QUEUED)
    assert CloseChecksJob.model_validate(payload2).check_run_ids == [41]


async def test_closing_a_pr_with_nothing_queued_enqueues_nothing(engine: AsyncEngine) -> None:
    closed = Intent(outcome="cancelled", cancel_key=pr_key(REPO, 8), cancel_repo=REPO)
    assert await accept_delivery(engine, "d-close", "pull_request", "closed", closed)
    assert await _jobs(engine) == []


async def test_a_duplicate_delivery_enqueues_nothing_more(engine: AsyncEngine) -> None:
    key = pr_key(REPO, 7)
    check = CheckJob(repo=REPO, number=7, head_sha="h1")
    intent = Intent(
        outcome="review queued", work=[QueuedWork(JobKind.CHECK, key, check.model_dump(mode="json"))]
    )
    assert await accept_delivery(engine, "d-1", "pull_request", "opened", intent)
    assert not await accept_delivery(engine, "d-1", "pull_request", "opened", intent)
    assert len(await _jobs(engine)) == 1


async def test_installation_events_keep_the_installation_row(engine: AsyncEngine) -> None:
    def event(action: str, **repos: list[dict[str, str]]) -> Intent:
        payload = {"action": action, "installation": {"id": 9, "account": {"login": "acme"}}, **repos}
        return decide(
            "installation_repositories" if repos.keys() - {"repositories"} else "installation", payload
        )

    async def row() -> tuple[str | None, list[str], bool]:
        async with engine.connect() as conn:
            found = (await conn.execute(select(installations).where(installations.c.id == 9))).one()
        return found.account, sorted(found.repositories), bool(found.active)

    assert await accept_delivery(
        engine, "i-1", "installation", "created", event("created", repositories=[{"full_name": "acme/a"}])
    )
    assert await row() == ("acme", ["acme/a"], True)
    added = event(
        "added", repositories_added=[{"full_name": "acme/b"}], repositories_removed=[{"full_name": "acme/a"}]
    )
    assert await accept_delivery(engine, "i-2", "installation_repositories", "added", added)
    assert await row() == ("acme", ["acme/b"], True)
    assert await accept_delivery(engine, "i-3", "installation", "deleted", event("deleted"))
    assert await row() == ("acme", ["acme/b"], False)
