"""The seeded-bug bench harness, proven against the fake model: scores are computed, not assumed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import openai

from app.review.llm import ModelClient, RetryPolicy
from app.review.reviewer import ReviewerConfig
from bench.bench_seeded import TOLERANCE, case_files, evaluate, report
from bench.seeded.cases import CASES
from tests.fakes.openai_server import ChunkView, FakeOpenAI, finding
from tests.fakes.server import serve_in_thread

BUGS = {(bug.path, bug.line) for case in CASES for bug in case.bugs}


@asynccontextmanager
async def fake_client(brain: Callable[[ChunkView], list[dict[str, Any]]]) -> AsyncIterator[ModelClient]:
    fake = FakeOpenAI(brain=brain)
    with serve_in_thread(fake.app) as url:
        sdk = openai.AsyncOpenAI(api_key="sk-bench-test-key-000000", base_url=f"{url}/v1")
        try:
            yield ModelClient(sdk, max_concurrency=4, retry=RetryPolicy(max_attempts=1))
        finally:
            await sdk.close()


def oracle(view: ChunkView) -> list[dict[str, Any]]:
    """Knows every planted bug: cites it exactly."""
    return [finding(view, line, category="risk") for line in view.lines if (view.path, line.number) in BUGS]


def sloppy(view: ChunkView) -> list[dict[str, Any]]:
    """Finds each bug but cites the line after it; also reports one false alarm per file."""
    out = []
    for line in view.lines:
        if (view.path, line.number) in BUGS:
            out.append(finding(view, line, line=line.number + 1))
    if view.lines:
        out.append(finding(view, view.lines[0], title="false alarm", line=view.lines[0].number + 40))
    return out


def test_the_cases_are_at_least_twenty_and_every_bug_is_on_a_changed_line() -> None:
    assert len(CASES) >= 20 and len(BUGS) >= 20
    for case in CASES:
        files = case_files(case)
        for bug in case.bugs:
            shown = {ln.new_no for h in files[bug.path].hunks for ln in h.lines if ln.kind.value == "added"}
            assert bug.line in shown, (case.name, bug)


async def test_an_oracle_model_scores_perfectly_except_where_the_redactor_speaks_first() -> None:
    async with fake_client(oracle) as client:
        scores = await evaluate(client, ReviewerConfig(pack_tokens=12_000))
    assert scores.bugs == len(BUGS) and scores.bugs_found == len(BUGS)
    assert scores.recall == 1.0 and scores.failed_calls == 0
    # The planted API key is also flagged by mini-review's own secret scan: one more hit. The model
    # saw that line redacted, so its quote does not match the file and one hit may land as a note.
    assert scores.precision == 1.0 and scores.hits == len(BUGS) + 1
    assert scores.placed_exactly >= scores.hits - 1
    assert "precision 1.00" in report(scores)


async def test_a_sloppy_model_loses_placement_and_precision_but_keeps_recall() -> None:
    async with fake_client(sloppy) as client:
        scores = await evaluate(client, ReviewerConfig(pack_tokens=12_000))
    assert TOLERANCE >= 1 and scores.recall == 1.0
    assert scores.precision < 1.0  # one false alarm per file
    # Off-by-one citations with a correct quote are re-anchored by placement onto the bug's line.
    assert scores.placement > 0.8
