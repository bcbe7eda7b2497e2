"""Persistence for conversation and learning: learnings, per-finding states, answer claims and costs.

The dashboard lists and deletes learnings through `ConversationStore.list_learnings` and
`ConversationStore.delete_learning`; the run page reads `ConversationStore.outcome_counts`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.conversation.learnings import Learning, LearningSource
from app.review.usage import Usage
from app.storage.db import utcnow, write_transaction
from app.storage.tables import conversation_calls, finding_states, learnings, runs


class FindingState(StrEnum):
    OPEN = "open"
    ADDRESSED = "addressed"  # a later push fixed it (we said so and resolved the thread)
    DISMISSED = "dismissed"  # a writer or our own answer said it was wrong
    RESOLVED = "resolved"  # someone resolved the thread by hand


class CallKind(StrEnum):
    THREAD = "thread"
    ASK = "ask"
    FIX = "fix"


class PostedFindingRecord(BaseModel):
    """One inline finding as posted: what later answers, learnings and fix checks need of it."""

    model_config = ConfigDict(frozen=True)

    fingerprint: str
    path: str
    line: int | None
    category: str
    severity: str
    title: str
    body: str
    quote: str
    state: FindingState = FindingState.OPEN
    commit_sha: str | None = None
    addressed_sha: str | None = None


class OutcomeCounts(BaseModel):
    """How a repository's posted findings ended: the acceptance metric."""

    addressed: int = 0
    dismissed: int = 0
    resolved: int = 0
    open: int = 0

    @property
    def total(self) -> int:
        return self.addressed + self.dismissed + self.resolved + self.open

    @property
    def addressed_rate(self) -> float | None:
        return self.addressed / self.total if self.total else None


class ConversationStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # -- learnings -------------------------------------------------------------------------------
    async def add_learning(self, learning: Learning, source_key: str) -> int | None:
        """Store a learning; None when this source (a reaction, a reply) already recorded one."""
        values = learning.model_dump(exclude={"id"})
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(learnings.insert().values(source_key=source_key[:128], **values))
        except IntegrityError:
            return None
        key = result.inserted_primary_key
        return int(key[0]) if key else None

    async def list_learnings(self, repo: str) -> list[Learning]:
        query = select(learnings).where(learnings.c.repo == repo).order_by(learnings.c.id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [Learning.model_validate({k: v for k, v in row.items() if k != "source_key"}) for row in rows]

    async def delete_learning(self, repo: str, learning_id: int) -> bool:
        """Forget one learning of `repo`; False when there was none with that id there."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(learnings).where(learnings.c.repo == repo, learnings.c.id == learning_id)
            )
        return bool(result.rowcount)

    # -- posted findings and their fate ----------------------------------------------------------
    async def record_posted(
        self, repo: str, pr_number: int, run_id: str, items: list[PostedFindingRecord]
    ) -> None:
        """Remember inline findings as open (a fingerprint already known keeps its state)."""
        if not items:
            return
        now = utcnow()
        async with write_transaction(self.engine) as conn:
            known = set(
                (
                    await conn.execute(
                        select(finding_states.c.fingerprint).where(
                            finding_states.c.repo == repo, finding_states.c.pr_number == pr_number
                        )
                    )
                ).scalars()
            )
            fresh = {i.fingerprint: i for i in items if i.fingerprint not in known}
            if fresh:
                await conn.execute(
                    finding_states.insert(),
                    [
                        {
                            **item.model_dump(),
                            "state": FindingState.OPEN.value,
                            "repo": repo,
                            "pr_number": pr_number,
                            "run_id": run_id,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for item in fresh.values()
                    ],
                )

    async def findings(
        self, repo: str, pr_number: int, state: FindingState | None = None
    ) -> list[PostedFindingRecord]:
        query = select(finding_states).where(
            finding_states.c.repo == repo, finding_states.c.pr_number == pr_number
        )
        if state is not None:
            query = query.where(finding_states.c.state == state.value)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(finding_states.c.id))).mappings().all()
        return [PostedFindingRecord.model_validate(dict(row)) for row in rows]

    async def finding(self, repo: str, pr_number: int, fp: str) -> PostedFindingRecord | None:
        found = [f for f in await self.findings(repo, pr_number) if f.fingerprint == fp]
        return found[0] if found else None

    async def set_state(
        self,
        repo: str,
        pr_number: int,
        fp: str,
        state: FindingState,
        *,
        reason: str | None = None,
        addressed_sha: str | None = None,
    ) -> bool:
        """Move an OPEN finding to `state`; False when it was not open (each outcome is recorded once)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                update(finding_states)
                .where(
                    finding_states.c.repo == repo,
                    finding_states.c.pr_number == pr_number,
                    finding_states.c.fingerprint == fp,
                    finding_states.c.state == FindingState.OPEN.value,
                )
                .values(
                    state=state.value,
                    state_reason=(reason or "")[:1000] or None,
                    addressed_sha=addressed_sha,
                    updated_at=utcnow(),
                )
            )
        return bool(result.rowcount)

    async def outcome_counts(self, repo: str) -> OutcomeCounts:
        query = (
            select(finding_states.c.state, func.count())
            .where(finding_states.c.repo == repo)
            .group_by(finding_states.c.state)
        )
        async with self.engine.connect() as conn:
            counts = {str(state): int(n) for state, n in (await conn.execute(query)).all()}
        return OutcomeCounts.model_validate(counts)

    # -- answers: claims, rate limits, spend -----------------------------------------------------
    async def claim_call(
        self, *, repo: str, pr_number: int, installation_id: int, kind: CallKind, source_id: str
    ) -> bool:
        """Claim the one answer to `source_id`; False when it was claimed before (a retry, a redelivery)."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    conversation_calls.insert().values(
                        repo=repo,
                        pr_number=pr_number,
                        installation_id=installation_id,
                        kind=kind.value,
                        source_id=source_id[:128],
                        status="claimed",
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            return False
        return True

    async def finish_call(
        self, *, repo: str, kind: CallKind, source_id: str, status: str, usage: Usage, cost_usd: float
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(conversation_calls)
                .where(
                    conversation_calls.c.repo == repo,
                    conversation_calls.c.kind == kind.value,
                    conversation_calls.c.source_id == source_id[:128],
                )
                .values(
                    status=status,
                    prompt_tokens=usage.prompt_tokens,
                    cached_tokens=usage.cached_tokens,
                    completion_tokens=usage.completion_tokens,
                    model_calls=usage.calls,
                    cost_usd=cost_usd,
                )
            )

    async def answered_since(
        self, repo: str, pr_number: int, since: dt.datetime, *, excluding: str | None = None
    ) -> int:
        """Count model-backed answers (threads and asks) on a PR since `since`, but not `excluding`."""
        query = select(func.count()).where(
            conversation_calls.c.source_id != (excluding or ""),
            conversation_calls.c.repo == repo,
            conversation_calls.c.pr_number == pr_number,
            conversation_calls.c.kind.in_([CallKind.THREAD.value, CallKind.ASK.value]),
            conversation_calls.c.status != "refused",
            conversation_calls.c.created_at >= since,
        )
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def pr_spend(self, repo: str, pr_number: int) -> tuple[int, float]:
        """Return (input tokens, USD) spent on conversation for one PR."""
        query = select(
            func.coalesce(func.sum(conversation_calls.c.prompt_tokens), 0),
            func.coalesce(func.sum(conversation_calls.c.cost_usd), 0.0),
        ).where(conversation_calls.c.repo == repo, conversation_calls.c.pr_number == pr_number)
        async with self.engine.connect() as conn:
            tokens, cost = (await conn.execute(query)).one()
        return int(tokens), float(cost)

    async def account_spend_since(self, owner: str, since: dt.datetime) -> float:
        """Return USD spent by one account's repositories since `since`: its reviews and its answers.

        This is what the per-day budget (`MINI_MAX_COST_PER_DAY`, per installation = per account) caps.
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
            return float((await conn.execute(reviews)).scalar_one()) + float(
                (await conn.execute(answers)).scalar_one()
            )


def learning_source_key(source: LearningSource, *parts: object) -> str:
    """Return the key that makes one piece of feedback record at most one learning."""
    return ":".join([source.value, *(str(p) for p in parts)])
