"""Reads and writes the app does, one method per question: the only module that writes SQL for them.

Storage knows its tables and models only; what a delivery *means* (jobs to enqueue or cancel) is
decided on the intake side (`app.webhooks.intake`), which calls the connection-level writers here
inside its own transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.storage.db import insert_for, utcnow, write_transaction
from app.storage.models import (
    ChunkResultRow,
    Delivery,
    InstallationChange,
    PendingDelivery,
    PullState,
    Run,
    RunStatus,
    RunUpdate,
)
from app.storage.tables import (
    chunk_results,
    conversation_calls,
    deliveries,
    installations,
    posted_findings,
    pull_states,
    runs,
)


def _delivery_row(delivery: Delivery, now: dt.datetime) -> dict[str, Any]:
    row = delivery.model_dump()
    row["outcome"] = delivery.outcome[:256]
    row["received_at"] = now
    # Nothing to apply: the row is born applied, so the applier never looks at it.
    row["applied_at"] = None if delivery.effects else now
    return row


async def insert_deliveries(conn: AsyncConnection, batch: Sequence[Delivery]) -> set[str]:
    """Record deliveries in one statement (the caller's transaction); return the ids that were new.

    Ids already recorded (redeliveries) are skipped, not errors, so one duplicate never costs the
    rest of a batch its write.
    """
    if not batch:
        return set()
    statement = (
        insert_for(conn, deliveries)
        .on_conflict_do_nothing(index_elements=[deliveries.c.delivery_id])
        .returning(deliveries.c.delivery_id)
    )
    now = utcnow()
    result = await conn.execute(statement, [_delivery_row(d, now) for d in batch])
    return {str(row[0]) for row in result}


def _pending(rows: Iterable[Any]) -> list[PendingDelivery]:
    return [
        PendingDelivery(
            delivery_id=r.delivery_id, repo=r.repo, pr_number=r.pr_number, effects=r.effects or {}
        )
        for r in rows
    ]


_PENDING = (
    select(deliveries.c.delivery_id, deliveries.c.repo, deliveries.c.pr_number, deliveries.c.effects)
    .where(deliveries.c.applied_at.is_(None))
    .order_by(deliveries.c.received_at, deliveries.c.delivery_id)
)


async def pending_deliveries(conn: AsyncConnection, limit: int) -> list[PendingDelivery]:
    """The oldest recorded deliveries whose effects were not applied yet."""
    return _pending(await conn.execute(_PENDING.limit(limit)))


# Built once: the applier runs these for every delivery (see app.jobs.queue for why).
_PENDING_FOR_PULL = _PENDING.where(
    deliveries.c.repo == bindparam("repo"), deliveries.c.pr_number == bindparam("number")
).with_for_update()
_TAKE_PENDING = update(deliveries).where(
    deliveries.c.delivery_id == bindparam("id"), deliveries.c.applied_at.is_(None)
)
_MARK_APPLIED = _TAKE_PENDING.values(applied_at=bindparam("now"))
_MARK_APPLIED_WITH_OUTCOME = _TAKE_PENDING.values(applied_at=bindparam("now"), outcome=bindparam("note"))


async def pending_for_pull(conn: AsyncConnection, repo: str, pr_number: int) -> list[PendingDelivery]:
    """One PR's pending deliveries, oldest first, locked until the caller's transaction ends."""
    return _pending(await conn.execute(_PENDING_FOR_PULL, {"repo": repo, "number": pr_number}))


async def mark_delivery_applied(conn: AsyncConnection, delivery_id: str, outcome: str | None = None) -> bool:
    """Take a pending delivery for applying (caller's transaction); False when someone else did."""
    params: dict[str, Any] = {"id": delivery_id, "now": utcnow()}
    if outcome is None:
        result = await conn.execute(_MARK_APPLIED, params)
    else:
        result = await conn.execute(_MARK_APPLIED_WITH_OUTCOME, {**params, "note": outcome[:256]})
    return result.rowcount == 1


async def record_installation(conn: AsyncConnection, change: InstallationChange) -> None:
    """Create or update an installation's row (in the caller's transaction)."""
    current = (
        await conn.execute(select(installations.c.repositories).where(installations.c.id == change.id))
    ).first()
    repos = set(current[0] or []) if current is not None else set()
    if change.repositories is not None:
        repos = set(change.repositories)
    repos = (repos | set(change.added)) - set(change.removed)
    values = {
        "account": change.account,
        "repositories": sorted(repos),
        "active": change.active,
        "updated_at": utcnow(),
    }
    if current is None:
        await conn.execute(installations.insert().values(id=change.id, **values))
    else:
        await conn.execute(update(installations).where(installations.c.id == change.id).values(**values))


_KEPT_SPEND = ("cost_usd", "prompt_tokens", "completion_tokens", "model_calls")


def _kept_sum(column: str) -> ColumnElement[Any]:
    """The sum of one spend column over the calls a run kept (NULL when it kept none)."""
    kept = chunk_results.c
    return select(func.sum(kept[column])).where(kept.run_id == runs.c.id).scalar_subquery()


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # -- deliveries ------------------------------------------------------------------------------
    async def prune_deliveries(self, older_than: dt.timedelta) -> int:
        """Forget applied deliveries older than GitHub's redelivery window needs (it offers 3 days).

        A pending delivery (`applied_at` NULL) is the only record of work we acknowledged: never pruned.
        """
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(deliveries).where(
                    deliveries.c.received_at < utcnow() - older_than,
                    deliveries.c.applied_at.is_not(None),  # a pending delivery is work still owed
                )
            )
            return int(result.rowcount)

    # -- runs ------------------------------------------------------------------------------------
    async def start_run(
        self, run_id: str, *, repo: str, pr_number: int, trigger: str, head_sha: str | None
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                runs.insert().values(
                    id=run_id,
                    repo=repo,
                    pr_number=pr_number,
                    trigger=trigger,
                    head_sha=head_sha,
                    status=RunStatus.RUNNING.value,
                    started_at=utcnow(),
                )
            )

    async def update_run(self, run_id: str, changes: RunUpdate) -> None:
        values = changes.values()
        if not values:
            return
        async with self.engine.begin() as conn:
            await conn.execute(update(runs).where(runs.c.id == run_id).values(**values))

    async def close_open_runs(self, repo: str, pr_number: int, error: str, *, status: str = "failed") -> int:
        """Finish the PR's runs still marked running: their worker died (only one job per PR runs).

        What such a run paid for the calls it kept (`chunk_results`) becomes its spend: a retry
        reuses those calls at no cost, so the day's budget counts them here, once.
        """
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(runs)
                .where(runs.c.repo == repo, runs.c.pr_number == pr_number, runs.c.status == "running")
                .values(
                    status=status,
                    error=error[:2000],
                    finished_at=utcnow(),
                    **{name: func.coalesce(runs.c[name], _kept_sum(name)) for name in _KEPT_SPEND},
                )
            )
            return int(result.rowcount)

    async def get_run(self, run_id: str) -> Run | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(runs).where(runs.c.id == run_id))).mappings().first()
        return None if row is None else Run.model_validate(dict(row))

    # -- review call results kept for retries -----------------------------------------------------
    async def chunk_results(self, job_run_id: str, head_sha: str) -> dict[str, dict[str, Any]]:
        """The call results kept by the attempts of one review job for one head, by call key."""
        query = select(chunk_results.c.call_key, chunk_results.c.result).where(
            chunk_results.c.job_run_id == job_run_id, chunk_results.c.head_sha == head_sha
        )
        async with self.engine.connect() as conn:
            rows = await conn.execute(query)
            return {str(key): dict(result) for key, result in rows}

    async def save_chunk_result(self, row: ChunkResultRow) -> None:
        """Keep one call's result; one already kept under the same key (a racing attempt) stays."""
        try:
            async with write_transaction(self.engine) as conn:
                await conn.execute(chunk_results.insert().values(**row.model_dump(), created_at=utcnow()))
        except IntegrityError:
            return

    async def prune_chunk_results(self, older_than: dt.timedelta) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(chunk_results).where(chunk_results.c.created_at < utcnow() - older_than)
            )
            return int(result.rowcount)

    # -- per-PR memory ---------------------------------------------------------------------------
    async def spent_since(self, owner: str, since: dt.datetime) -> float:
        """USD spent by `owner`'s repositories (one installation) since `since`: runs and answers.

        Thread answers, `/mini ask` and fix checks (`conversation_calls`) share the day's budget.
        """
        prefix = f"{owner}/"
        reviews = select(func.coalesce(func.sum(runs.c.cost_usd), 0.0)).where(
            runs.c.repo.startswith(prefix, autoescape=True), runs.c.started_at >= since
        )
        answers = select(func.coalesce(func.sum(conversation_calls.c.cost_usd), 0.0)).where(
            conversation_calls.c.repo.startswith(prefix, autoescape=True),
            conversation_calls.c.created_at >= since,
        )
        async with self.engine.connect() as conn:
            spent = float((await conn.execute(reviews)).scalar_one())
            return spent + float((await conn.execute(answers)).scalar_one())

    async def posted_fingerprints(self, repo: str, pr_number: int) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(posted_findings.c.fingerprint).where(
                    posted_findings.c.repo == repo, posted_findings.c.pr_number == pr_number
                )
            )
            return {str(r[0]) for r in rows}

    async def remember_fingerprints(
        self, repo: str, pr_number: int, run_id: str, items: Iterable[tuple[str, str]]
    ) -> None:
        """Store (fingerprint, path) pairs of posted comments; already-known ones are skipped."""
        known = await self.posted_fingerprints(repo, pr_number)
        fresh = {fp: path for fp, path in items if fp not in known}
        if not fresh:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                posted_findings.insert(),
                [
                    {
                        "repo": repo,
                        "pr_number": pr_number,
                        "fingerprint": fp,
                        "run_id": run_id,
                        "path": path,
                        "created_at": utcnow(),
                    }
                    for fp, path in fresh.items()
                ],
            )

    async def pull_state(self, repo: str, pr_number: int) -> PullState:
        query = select(pull_states).where(pull_states.c.repo == repo, pull_states.c.pr_number == pr_number)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return PullState(repo=repo, pr_number=pr_number)
        return PullState(
            repo=repo,
            pr_number=pr_number,
            last_reviewed_head=row["last_reviewed_head"],
            paused=bool(row["paused"]),
        )

    async def set_reviewed_head(self, repo: str, pr_number: int, head_sha: str) -> None:
        """Move the incremental baseline: the next review looks at what changed since `head_sha`."""
        await self._set_pull_state(repo, pr_number, {"last_reviewed_head": head_sha})

    async def set_paused(self, repo: str, pr_number: int, paused: bool) -> None:
        await self._set_pull_state(repo, pr_number, {"paused": paused})

    async def _set_pull_state(self, repo: str, pr_number: int, values: dict[str, object]) -> None:
        values = {**values, "updated_at": utcnow()}
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(
                update(pull_states)
                .where(pull_states.c.repo == repo, pull_states.c.pr_number == pr_number)
                .values(**values)
            )
            if result.rowcount == 0:
                values.setdefault("paused", False)
                await conn.execute(pull_states.insert().values(repo=repo, pr_number=pr_number, **values))
