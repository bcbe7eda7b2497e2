"""A retried review reuses the calls an earlier attempt kept: over HTTP, real SDK, fake gateway."""

from __future__ import annotations

from typing import Any

import pytest

from app.diff.model import Chunk
from app.diff.render import render_chunk
from app.review.findings import Finding
from app.review.llm import ModelClient
from app.review.reviewer import BUDGET_REACHED, ReviewerConfig, ReviewOutcome, review_chunks
from app.review.usage import Usage
from tests.fakes.openai_server import Fault
from tests.fakes.ports import MemoryCallResults
from tests.integration.test_reviewer import CONTEXT, FAST, buggy, gateway


async def review(
    client: ModelClient, chunks: list[Chunk], kept: MemoryCallResults | None, **config: Any
) -> ReviewOutcome:
    return await review_chunks(
        chunks, CONTEXT, client, ReviewerConfig(**config), render=render_chunk, results=kept
    )


def shown(findings: list[Finding]) -> list[tuple[str, int, str]]:
    return sorted((f.path, f.line, f.title) for f in findings)


async def test_a_second_attempt_reuses_every_kept_call_and_pays_nothing_for_it() -> None:
    kept = MemoryCallResults()
    chunks = [buggy(f"r{i}.py", i) for i in range(3)]
    async with gateway() as (fake, client):
        first = await review(client, chunks, kept)
        assert len(fake.requests) == 3 and len(kept.kept) == 3  # kept as each call finished
        fake.reset()
        second = await review(client, chunks, kept)
    assert fake.requests == []
    assert shown(second.findings) == shown(first.findings) and len(first.findings) == 6
    # New spend only: the reused calls were billed to the first attempt.
    assert second.usage == Usage() and second.cost_usd == 0
    assert second.reused_calls == 3 and first.reused_calls == 0
    assert second.reused_usage == first.usage
    assert second.reused_cost_usd == pytest.approx(first.cost_usd)


async def test_only_successful_calls_are_kept_so_a_retry_sends_just_the_failed_chunk() -> None:
    kept = MemoryCallResults()
    chunks = [buggy("good.py"), buggy("bad.py")]
    async with gateway() as (fake, client):
        fake.script(Fault.server_error(path="bad.py", times=FAST.max_attempts))  # every try, once
        first = await review(client, chunks, kept)
        assert [f.path for f in first.failed] == ["bad.py"]
        fake.reset()
        second = await review(client, chunks, kept)
    assert [r.paths for r in fake.requests] == [["bad.py"]]
    assert second.failed == [] and second.reused_calls == 1
    assert sorted({f.path for f in second.findings}) == ["bad.py", "good.py"]


async def test_a_kept_call_keeps_its_escalation_verdicts_and_their_cost() -> None:
    kept = MemoryCallResults()
    flagship = {"escalation_model": "flagship"}
    async with gateway(verdict=lambda _f, _v: ("reject", "not a bug")) as (fake, client):
        first = await review(client, [buggy("e.py")], kept, **flagship)
        assert any(r.model == "flagship" for r in fake.requests)
        fake.reset()
        second = await review(client, [buggy("e.py")], kept, **flagship)
    assert fake.requests == []
    assert first.rejected_by_escalation == second.rejected_by_escalation == 1
    assert shown(second.findings) == shown(first.findings)  # the TODO only: the BUG was rejected
    assert second.reused_cost_usd == pytest.approx(first.cost_usd)  # the flagship's verdict included


async def test_a_different_model_or_prompt_is_not_served_from_the_kept_results() -> None:
    kept = MemoryCallResults()
    async with gateway() as (fake, client):
        await review(client, [buggy("m.py")], kept)
        fake.reset()
        await review(client, [buggy("m.py")], kept, model="gpt-other")
        await review(client, [buggy("m.py", 2)], kept)  # another diff
    assert [r.model for r in fake.requests] == ["gpt-other", "gpt-5.4-mini"]


async def test_reused_calls_count_towards_the_per_pr_budget_as_they_did_when_made() -> None:
    kept = MemoryCallResults()
    chunks = [buggy(f"c{i}.py") for i in range(4)]
    async with gateway(max_concurrency=1) as (fake, client):
        probe = await review(client, [buggy("probe.py")], None)
        limit = int(probe.usage.prompt_tokens * 2.5)
        first = await review(client, chunks, kept, max_input_tokens_per_pr=limit)
        assert [c.path for c in first.not_sent] == ["c2.py", "c3.py"]
        fake.reset()
        second = await review(client, chunks, kept, max_input_tokens_per_pr=limit)
    # The two kept calls fill the budget again: the retry sends nothing the first attempt could not.
    assert fake.requests == []
    assert [(c.path, c.error) for c in second.not_sent] == [
        ("c2.py", BUDGET_REACHED),
        ("c3.py", BUDGET_REACHED),
    ]
    assert second.reused_calls == 2


async def test_a_store_that_fails_costs_money_not_the_review() -> None:
    async with gateway() as (fake, client):
        outcome = await review(client, [buggy("s.py")], MemoryCallResults(broken=True))
    assert len(fake.requests) == 1 and len(outcome.findings) == 2 and outcome.failed == []
