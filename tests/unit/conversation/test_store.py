from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine

from app.conversation.learnings import LearningSource, new_learning
from app.conversation.store import (
    CallKind,
    ConversationStore,
    FindingState,
    PostedFindingRecord,
    learning_source_key,
)
from app.review.usage import Usage

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)


def rec(fp: str, path: str = "app/run.py") -> PostedFindingRecord:
    return PostedFindingRecord(
        fingerprint=fp,
        path=path,
        line=5,
        category="risk",
        severity="major",
        title="Bug",
        body="b",
        quote="# BUG",
        commit_sha="c1",
    )


async def test_learnings_are_recorded_once_per_source_listed_and_deleted(engine: AsyncEngine) -> None:
    store = ConversationStore(engine)
    learning = new_learning(
        repo="o/r",
        path="app/run.py",
        category="risk",
        title="Bug",
        fp="f1",
        person="lead",
        words="false positive",
        source=LearningSource.REPLY,
        now=NOW,
    )
    key = learning_source_key(LearningSource.REPLY, 42)
    first = await store.add_learning(learning, key)
    assert first is not None
    assert await store.add_learning(learning, key) is None  # the same reply never records twice
    await store.add_learning(learning.model_copy(update={"repo": "o/other"}), key)
    [listed] = await store.list_learnings("o/r")
    assert listed.id == first and listed.person == "lead" and listed.created_at == NOW
    assert not await store.delete_learning("o/other", first)  # ids are scoped to their repository
    assert await store.delete_learning("o/r", first)
    assert await store.list_learnings("o/r") == []


async def test_finding_states_move_once_and_count_per_repository(engine: AsyncEngine) -> None:
    store = ConversationStore(engine)
    await store.record_posted("o/r", 2, "run1", [rec("a"), rec("b"), rec("c")])
    await store.record_posted("o/r", 2, "run2", [rec("a")])  # already known: unchanged
    assert await store.set_state("o/r", 2, "a", FindingState.ADDRESSED, addressed_sha="h2")
    assert not await store.set_state("o/r", 2, "a", FindingState.DISMISSED)  # an outcome is final
    assert await store.set_state("o/r", 2, "b", FindingState.DISMISSED, reason="false positive")
    found = await store.finding("o/r", 2, "a")
    assert found is not None and found.state is FindingState.ADDRESSED and found.addressed_sha == "h2"
    assert [r.fingerprint for r in await store.findings("o/r", 2, FindingState.OPEN)] == ["c"]
    counts = await store.outcome_counts("o/r")
    assert (counts.addressed, counts.dismissed, counts.open, counts.total) == (1, 1, 1, 3)
    assert counts.addressed_rate == 1 / 3
    assert (await store.outcome_counts("o/none")).addressed_rate is None


async def test_calls_are_claimed_once_and_their_spend_adds_up(engine: AsyncEngine) -> None:
    store = ConversationStore(engine)
    args = {"repo": "o/r", "pr_number": 2, "installation_id": 1}
    assert await store.claim_call(**args, kind=CallKind.THREAD, source_id="100")
    assert not await store.claim_call(**args, kind=CallKind.THREAD, source_id="100")
    assert await store.claim_call(**args, kind=CallKind.ASK, source_id="100")
    usage = Usage(prompt_tokens=1000, completion_tokens=50, calls=1)
    await store.finish_call(
        repo="o/r", kind=CallKind.THREAD, source_id="100", status="answered", usage=usage, cost_usd=0.01
    )
    await store.finish_call(
        repo="o/r", kind=CallKind.ASK, source_id="100", status="refused", usage=Usage(), cost_usd=0.0
    )
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert await store.answered_since("o/r", 2, since) == 1  # refusals do not count toward the rate
    assert await store.pr_spend("o/r", 2) == (1000, 0.01)
    assert await store.account_spend_since("o", since) == 0.01
    assert await store.account_spend_since("o_", since) == 0.0  # a prefix, not a pattern
    assert await store.account_spend_since("other", since) == 0.0


async def test_the_days_spend_of_an_account_adds_its_reviews_and_its_answers(engine: AsyncEngine) -> None:
    from app.storage.tables import runs

    store = ConversationStore(engine)
    now = dt.datetime.now(dt.UTC)
    async with engine.begin() as conn:
        for run_id, repo, cost in (("r1", "o/r", 0.5), ("r2", "o/other", 0.25), ("r3", "x/r", 9.0)):
            await conn.execute(
                runs.insert().values(
                    id=run_id,
                    repo=repo,
                    pr_number=1,
                    trigger="t",
                    status="posted",
                    started_at=now,
                    cost_usd=cost,
                )
            )
    assert await store.claim_call(
        repo="o/r", pr_number=1, installation_id=1, kind=CallKind.ASK, source_id="9"
    )
    await store.finish_call(
        repo="o/r", kind=CallKind.ASK, source_id="9", status="answered", usage=Usage(calls=1), cost_usd=0.125
    )
    since = now - dt.timedelta(minutes=1)
    assert await store.account_spend_since("o", since) == 0.875
    assert await store.account_spend_since("o", now + dt.timedelta(minutes=1)) == 0.0


async def test_the_review_budget_counts_answers_too(engine: AsyncEngine) -> None:
    from app.storage.repository import Store

    store = ConversationStore(engine)
    assert await store.claim_call(
        repo="o/r", pr_number=1, installation_id=1, kind=CallKind.THREAD, source_id="5"
    )
    await store.finish_call(
        repo="o/r",
        kind=CallKind.THREAD,
        source_id="5",
        status="answered",
        usage=Usage(calls=1),
        cost_usd=0.25,
    )
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    assert await Store(engine).spent_since("o", since) == 0.25
    assert await Store(engine).spent_since("x", since) == 0.0
