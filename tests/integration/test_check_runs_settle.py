"""Failure paths of the worker against the fake GitHub over HTTP: no check run is left queued or in progress.

The worker's real handlers, queue and run store (SQLite and PostgreSQL) drive the real GitHub adapter;
only the model is scripted. Each test breaks one thing and then reads every check run GitHub holds.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.github.client import GitHubAppClient, RetryPolicy
from app.github.models import RepoRef
from app.jobs.models import CheckJob, CommandJob, JobKind, ReviewJob
from app.jobs.queue import ClaimedJob, JobQueue
from app.pipeline.ports import GitHubPort
from app.publish.living import history_in, is_living_summary
from app.storage.models import RunStatus
from tests.fakes.github import AppSlot, FakeGitHub
from tests.unit.pipeline.builders import finding, settings
from tests.worker_bench import Died, WorkerBench

OWNER, NAME, INSTALLATION, NUMBER = "octo", "shop", 5, 3
REPO = RepoRef(owner=OWNER, name=NAME, installation_id=INSTALLATION)
HEAD, BASE = "c" * 40, "d" * 40
PATCH = "@@ -1,2 +1,4 @@\n import os\n+import re\n+import json\n def main():"
SECRET = "postgresql://mini:hunter2@db.internal/mini"  # what a driver error may quote
OTHER_APP = 777
FAST = RetryPolicy(attempts=2, rate_limit_retries=0, backoff_base=0.01, backoff_cap=0.02)


@pytest.fixture
def github(server: tuple[AppSlot, str]) -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_repo(OWNER, NAME, installation_id=INSTALLATION)
    fake.add_pull(
        OWNER, NAME, NUMBER, head_sha=HEAD, base_sha=BASE, files=[{"filename": "app.py", "patch": PATCH}]
    )
    server[0].target = fake.app
    return fake


async def bench_on(
    engine: AsyncEngine, github: FakeGitHub, server: tuple[AppSlot, str], queue: JobQueue
) -> WorkerBench:
    client = GitHubAppClient(github.app_id, github.private_key_pem, server[1], retry=FAST, write_interval=0)
    api: GitHubPort = await client.for_installation(INSTALLATION)
    return WorkerBench(engine, queue, api, settings(), login=github.bot_login)


def ours(github: FakeGitHub) -> dict[int, list[dict[str, Any]]]:
    return {
        i: h
        for i, h in github.check_runs(OWNER, NAME).items()
        if h[-1].get("app_id", github.app_id) == github.app_id
    }


def assert_none_open(github: FakeGitHub) -> None:
    still = {
        i: h[-1]["status"]
        for i, h in github.check_runs(OWNER, NAME).items()
        if h[-1]["status"] != "completed"
    }
    foreign = {i for i, h in github.check_runs(OWNER, NAME).items() if h[-1].get("app_id") == OTHER_APP}
    assert {i: s for i, s in still.items() if i not in foreign} == {}, "a check run of ours was left open"


def never_secret(github: FakeGitHub) -> None:
    for history in ours(github).values():
        for state in history:
            assert "hunter2" not in str(state.get("output")), "an error's message reached a check run"


def crash(chunk: object) -> list[Any]:
    raise KeyError(SECRET)  # not one of ours


async def put_command(bench: WorkerBench, github: FakeGitHub) -> None:
    comment = github.add_issue_comment(OWNER, NAME, NUMBER, "/mini review", user="owner")
    job = CommandJob(
        repo=REPO,
        number=NUMBER,
        comment_id=comment,
        body="/mini review",
        author="owner",
        author_association="OWNER",
    )
    await bench.put(JobKind.COMMAND, job.model_dump(mode="json"), repo=REPO, number=NUMBER)
    await bench.run_next()  # the command queues the review


async def test_an_unexpected_error_shows_retrying_then_fails_the_run_and_check(
    engine: AsyncEngine, github: FakeGitHub, server: tuple[AppSlot, str]
) -> None:
    bench = await bench_on(engine, github, server, JobQueue(engine, max_attempts=2))
    bench.reviewer.script = crash
    await bench.put(
        JobKind.CHECK,
        CheckJob(repo=REPO, number=NUMBER, head_sha=HEAD).model_dump(mode="json"),
        repo=REPO,
        number=NUMBER,
    )
    review = ReviewJob(repo=REPO, number=NUMBER, head_sha=HEAD, trigger="pull_request.opened")
    job_id = await bench.put(JobKind.REVIEW, review.model_dump(mode="json"), repo=REPO, number=NUMBER)
    await bench.run_next()  # the check run, queued
    await bench.run_next()  # attempt 1 crashes
    [(check_run_id, history)] = ours(github).items()
    assert (history[-1]["status"], history[-1]["output"]["title"]) == ("queued", "Retrying")
    assert "KeyError" in history[-1]["output"]["summary"]
    assert [r.status for r in await bench.runs()] == [RunStatus.FAILED]
    await bench.retry_now()
    await bench.run_next()  # attempt 2, the last, crashes too
    assert await bench.job_status(job_id) == "failed"
    assert list(ours(github)) == [check_run_id]
    assert ours(github)[check_run_id][-1]["conclusion"] == "failure"
    assert [r.status for r in await bench.runs()] == [RunStatus.FAILED, RunStatus.FAILED]
    assert all(r.error and "hunter2" not in r.error for r in await bench.runs())
    assert_none_open(github)
    never_secret(github)


async def test_a_mini_review_whose_check_run_could_not_start_is_still_completed(
    engine: AsyncEngine, github: FakeGitHub, server: tuple[AppSlot, str]
) -> None:
    bench = await bench_on(engine, github, server, JobQueue(engine, max_attempts=1))
    await put_command(bench, github)
    github.fail_next("PATCH", r"/check-runs/\d+$", 422)  # moving it to in_progress is refused
    await bench.run_next()
    [history] = ours(github).values()
    assert history[-1]["status"] == "completed"
    assert_none_open(github)


class UnsavableQueue(JobQueue):
    """The database fails right after the check run was created, when the job records it."""

    async def save_payload(self, job: ClaimedJob, payload: dict[str, Any]) -> bool:
        raise ConnectionError(f"could not reach {SECRET}")


async def test_a_mini_review_whose_check_run_could_not_be_recorded_fails_it(
    engine: AsyncEngine, github: FakeGitHub, server: tuple[AppSlot, str]
) -> None:
    bench = await bench_on(engine, github, server, UnsavableQueue(engine, max_attempts=1))
    await put_command(bench, github)
    await bench.run_next()
    [history] = ours(github).values()
    assert history[-1]["conclusion"] == "failure"
    assert_none_open(github)
    never_secret(github)


async def test_a_job_that_keeps_killing_its_worker_is_given_up_with_its_run_and_check(
    engine: AsyncEngine, github: FakeGitHub, server: tuple[AppSlot, str]
) -> None:
    bench = await bench_on(engine, github, server, JobQueue(engine, max_attempts=2))

    def die(chunk: object) -> list[Any]:
        raise Died

    bench.reviewer.script = die
    await put_command(bench, github)
    for _ in range(2):
        await bench.run_next()  # dies mid-review: nothing of the attempt after that point runs
        await bench.expire_leases()
    reclaimed = await bench.claim()
    assert reclaimed.exhausted
    await bench.runner().run_one(reclaimed)
    assert await bench.job_status(reclaimed.id) == "failed"
    [history] = ours(github).values()
    assert history[-1]["conclusion"] == "failure"
    assert [r.status for r in await bench.runs()] == [RunStatus.FAILED, RunStatus.FAILED]
    assert_none_open(github)


async def test_another_apps_check_run_named_like_ours_is_never_adopted_or_closed(
    engine: AsyncEngine, github: FakeGitHub, server: tuple[AppSlot, str]
) -> None:
    bench = await bench_on(engine, github, server, JobQueue(engine, max_attempts=1))
    foreign = github.add_check_run(OWNER, NAME, head_sha=HEAD, check_name="mini-review", app_id=OTHER_APP)
    assert await bench.api.list_check_runs(REPO, HEAD, "mini-review") == []
    await put_command(bench, github)
    await bench.run_next()
    assert len(github.check_runs(OWNER, NAME)[foreign]) == 1  # never changed
    [history] = ours(github).values()
    assert history[-1]["status"] == "completed"
    assert_none_open(github)


async def test_a_mini_review_that_failed_after_posting_is_not_posted_again_by_its_retry(
    engine: AsyncEngine, github: FakeGitHub, server: tuple[AppSlot, str]
) -> None:
    """The review went out, then the summary comment's POST kept failing (502): the retry finishes the
    job without a second review, even though the model (whose answers are not kept here) says otherwise."""
    bench = await bench_on(engine, github, server, JobQueue(engine, max_attempts=3))
    answers = iter(
        [
            [finding("app.py", 2, quote="import re", title="Unused import")],
            [finding("app.py", 3, quote="import json", title="Another unused import")],
        ]
    )
    bench.reviewer.script = lambda chunk: next(answers)
    await put_command(bench, github)
    github.fail_next("POST", rf"/issues/{NUMBER}/comments$", 502)  # a POST is not retried in place
    job_id = (await bench.run_next()).id
    assert len(github.reviews(OWNER, NAME, NUMBER)) == 1
    assert await bench.job_status(job_id) == "queued"  # to be retried

    await bench.retry_now()
    await bench.run_next()

    assert await bench.job_status(job_id) == "done"
    assert len(github.reviews(OWNER, NAME, NUMBER)) == 1
    assert len(bench.reviewer.calls) == 2  # one call per attempt: the scripted answers are not kept
    [summary] = [c for c in github.issue_comments(OWNER, NAME, NUMBER) if is_living_summary(c["body"])]
    assert len(history_in(summary["body"])) == 1
    [history] = ours(github).values()
    assert history[-1]["status"] == "completed" and history[-1]["conclusion"] != "failure"
    assert [r.status for r in await bench.runs()] == [RunStatus.FAILED, RunStatus.POSTED]
    assert_none_open(github)
