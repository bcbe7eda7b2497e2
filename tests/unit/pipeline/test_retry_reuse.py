"""A review job that fails after its model calls is retried without paying for them again (issue 9).

The port fakes stand in for GitHub and the store; the reviewer is the real adapter on the fake
OpenAI gateway, which counts every request. The first attempt reviews every chunk, then GitHub
fails (before or while posting); the second attempt of the same job sends nothing to the model
and posts the same findings, once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import openai
import pytest

from app.diff.render import render_chunk
from app.errors import GitHubRetryableError
from app.jobs.models import ReviewJob
from app.pipeline.run import ReviewRun
from app.pipeline.summary_comment import find_summary
from app.publish.living import RunEntry, history_in
from app.review.llm import ModelClient, RetryPolicy
from app.review.reviewer import ModelReviewer, ReviewerConfig
from app.storage.models import Run, RunStatus
from tests.fakes.openai_server import FakeOpenAI, Fault
from tests.fakes.ports import BOT, MemoryGitHub, MemoryStore, ScriptedReviewer
from tests.fakes.server import serve_in_thread
from tests.unit.pipeline.builders import REPO, added_file, finding, job, pull, settings, source

PATHS = ["app/a.py", "app/b.py", "app/c.py"]
PLANNED = "p" * 32  # the job's planned run id: every attempt of the job carries it


@asynccontextmanager
async def model_reviewer() -> AsyncIterator[tuple[FakeOpenAI, ModelReviewer]]:
    fake = FakeOpenAI()
    with serve_in_thread(fake.app) as url:
        sdk = openai.AsyncOpenAI(api_key="sk-unit-test-key-0000000000", base_url=f"{url}/v1")
        try:
            client = ModelClient(sdk, max_concurrency=4, retry=RetryPolicy(max_attempts=1))
            yield fake, ModelReviewer(client, ReviewerConfig(), render=render_chunk)
        finally:
            await sdk.close()


def fail_first_call(target: object, method: str, error: Exception) -> None:
    """The next call of `target.method` raises `error`; later calls work."""
    real: Callable[..., Awaitable[Any]] = getattr(target, method)
    failed = False

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal failed
        if not failed:
            failed = True
            raise error
        return await real(*args, **kwargs)

    setattr(target, method, flaky)


def fail_once(github: MemoryGitHub, method: str) -> None:
    """The next call of `method` answers like a GitHub 502; later calls work."""
    error = GitHubRetryableError(f"GitHub {method} answered 502: Server Error", status=502)
    fail_first_call(github, method, error)


def buggy(path: str) -> Any:
    return added_file(path, ["def total(items):", "    return sum(items)  # BUG: ignores tax", ""])


async def attempt(
    github: MemoryGitHub, store: MemoryStore, reviewer: ModelReviewer, review: ReviewJob, *, final: bool
) -> RunStatus:
    return await ReviewRun(
        review,
        api=github,
        store=store,
        reviewer=reviewer,
        settings=settings(),
        final_attempt=final,
        bot_login=BOT,
    ).execute()


def runs_in_order(store: MemoryStore) -> list[Run]:
    return sorted(store.runs.values(), key=lambda r: r.started_at)


@pytest.mark.parametrize(
    "failing",
    ["list_review_comments", "create_review"],  # before publishing (dedup reads), while posting
)
async def test_a_retried_job_reuses_every_answer_and_posts_the_review_once(failing: str) -> None:
    github, store = MemoryGitHub(), MemoryStore()
    github.add_pull(pull(), [buggy(path) for path in PATHS])
    fail_once(github, failing)
    async with model_reviewer() as (fake, reviewer):
        with pytest.raises(GitHubRetryableError):
            await attempt(github, store, reviewer, job(run_id=PLANNED), final=False)
        paid = len(fake.requests)
        assert paid == len(PATHS) and github.pulls[7].reviews == []
        assert len(store.chunk_rows) == len(PATHS)  # each kept as its call finished

        status = await attempt(github, store, reviewer, job(run_id=PLANNED), final=False)

    assert status is RunStatus.POSTED
    assert len(fake.requests) == paid  # the retry called the model zero times
    [review] = github.pulls[7].reviews
    assert sorted(str(c["path"]) for c in review.comments) == PATHS
    failed, posted = runs_in_order(store)
    # The first attempt paid: its record says so (the day's budget counts it there, once).
    assert failed.status is RunStatus.FAILED and failed.model_calls == paid
    assert failed.cost_usd is not None and failed.cost_usd > 0
    # The retry spent nothing new; it says what it reused.
    assert (posted.model_calls, posted.cost_usd, posted.prompt_tokens) == (0, 0.0, 0)
    assert posted.reused_calls == paid
    assert posted.reused_tokens == (failed.prompt_tokens or 0) + (failed.completion_tokens or 0)
    assert posted.reused_cost_usd == pytest.approx(failed.cost_usd)
    assert posted.summary is not None and "not paid for again" in posted.summary


async def test_a_chunk_that_failed_is_the_only_one_the_retry_sends() -> None:
    github, store = MemoryGitHub(), MemoryStore()
    github.add_pull(pull(), [buggy(path) for path in PATHS])
    fail_once(github, "create_review")
    async with model_reviewer() as (fake, reviewer):
        fake.script(Fault.server_error(path="app/b.py"))
        with pytest.raises(GitHubRetryableError):
            await attempt(github, store, reviewer, job(run_id=PLANNED), final=False)
        fake.reset()
        assert await attempt(github, store, reviewer, job(run_id=PLANNED), final=True) is RunStatus.POSTED
    assert [r.paths for r in fake.requests] == [["app/b.py"]]
    [review] = github.pulls[7].reviews
    assert sorted(str(c["path"]) for c in review.comments) == PATHS


async def test_another_job_on_the_same_head_asks_the_model_afresh() -> None:
    """Only the attempts of one job share results: a new `/mini review` gets a new look."""
    github, store = MemoryGitHub(), MemoryStore()
    github.add_pull(pull(), [buggy(path) for path in PATHS])
    async with model_reviewer() as (fake, reviewer):
        await attempt(github, store, reviewer, job(run_id=PLANNED), final=True)
        fake.reset()
        again = job(run_id="q" * 32, trigger="command:review", full=True)
        await attempt(github, store, reviewer, again, final=True)
    assert len(fake.requests) == len(PATHS)


def history_of(github: MemoryGitHub) -> list[RunEntry]:
    summary = find_summary(github.pulls[7].issue_comments, BOT)
    assert summary is not None, "no living summary comment"
    return history_in(summary.body)


def fail_store_once(store: MemoryStore, method: str) -> None:
    """The next call of the store's `method` fails like a lost database connection."""
    fail_first_call(store, method, ConnectionError("server closed the connection unexpectedly"))


@pytest.mark.parametrize(
    "failing",
    ["summary POST", "database after the summary"],
)
async def test_an_explicit_job_that_failed_after_posting_is_finished_by_its_retry(failing: str) -> None:
    """A `/mini review` whose attempt died after its review was posted: the retry posts nothing twice."""
    github, store = MemoryGitHub(), MemoryStore()
    github.add_pull(pull(), [buggy(path) for path in PATHS])
    if failing == "summary POST":
        fail_once(github, "create_issue_comment")
    else:
        fail_store_once(store, "remember_fingerprints")
    asked = job(run_id=PLANNED, trigger="command:review", requested_by="dev")
    async with model_reviewer() as (fake, reviewer):
        with pytest.raises((GitHubRetryableError, ConnectionError)):
            await attempt(github, store, reviewer, asked, final=False)
        assert len(github.pulls[7].reviews) == 1  # posted before the failure
        paid = len(fake.requests)

        assert await attempt(github, store, reviewer, asked, final=True) is RunStatus.POSTED

    assert len(fake.requests) == paid  # the retry asked the model nothing
    assert len(github.pulls[7].reviews) == 1
    [entry] = history_of(github)  # one line for the job, not one per attempt
    assert entry.run_url.endswith(runs_in_order(store)[-1].id)
    checks = [states[-1] for states in github.check_runs.values()]
    assert checks and all(c["status"] == "completed" for c in checks)
    assert checks[-1]["conclusion"] != "failure"


async def test_a_retry_whose_answers_differ_does_not_post_a_second_review_for_its_job() -> None:
    """The answers were not kept (the model is asked again and says something else): the job's
    review stands, and the new finding is not remembered as shown, so a later review may post it."""
    github, store = MemoryGitHub(), MemoryStore()
    github.add_pull(pull(), [added_file("src/total.py", source(6))])
    answers = iter([[finding("src/total.py", 2)], [finding("src/total.py", 5, title="Other bug")]])
    reviewer = ScriptedReviewer(script=lambda chunk: next(answers))
    fail_once(github, "create_issue_comment")
    asked = job(run_id=PLANNED, trigger="command:review", requested_by="dev")

    async def run(final: bool) -> RunStatus:
        return await ReviewRun(
            asked,
            api=github,
            store=store,
            reviewer=reviewer,
            settings=settings(),
            final_attempt=final,
            bot_login=BOT,
        ).execute()

    with pytest.raises(GitHubRetryableError):
        await run(False)
    [first] = github.pulls[7].reviews
    assert await run(True) is RunStatus.POSTED
    assert github.pulls[7].reviews == [first]
    assert [c.line for c in github.pulls[7].review_comments] == [2]
    remembered = store.fingerprints.get((REPO.full_name, 7), {})
    assert len(remembered) == 0  # the first attempt died before remembering; line 5 was never shown
    [run_record] = [r for r in store.runs.values() if r.status is RunStatus.POSTED]
    assert run_record.review_id == first.id
