"""The worker's handlers on the port fakes: whatever fails, no check run stays queued or in progress."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import GitHubRetryableError
from app.github.models import RepoRef
from app.jobs.models import CheckJob, JobKind, ReviewJob
from app.jobs.queue import ClaimedJob, JobQueue
from app.storage.models import RunStatus
from tests.fakes.ports import MemoryGitHub
from tests.unit.pipeline.builders import REPO, added_file, pull, settings, source
from tests.worker_bench import Died, WorkerBench

PATH = "src/total.py"
SECRET = "postgresql://mini:hunter2@db.internal/mini"


def command_review() -> dict[str, Any]:
    """What `/mini review` queues: a review of the head, with no check run yet."""
    return ReviewJob(
        repo=REPO, number=7, head_sha=pull().head_sha, trigger="command:review", requested_by="dev"
    ).model_dump(mode="json")


def open_checks(github: MemoryGitHub) -> dict[int, str]:
    return {i: s[-1]["status"] for i, s in github.check_runs.items() if s[-1]["status"] != "completed"}


def bench_for(engine: AsyncEngine, queue: JobQueue, github: MemoryGitHub | None = None) -> WorkerBench:
    github = github or MemoryGitHub()
    github.add_pull(pull(), [added_file(PATH, source(5))])
    return WorkerBench(engine, queue, github, settings())


class UnsavableQueue(JobQueue):
    """The database fails right after the check run was created, when the job records it."""

    async def save_payload(self, job: ClaimedJob, payload: dict[str, Any]) -> bool:
        raise ConnectionError(f"could not reach {SECRET}")


async def test_a_command_review_whose_check_run_cannot_be_recorded_fails_it(engine: AsyncEngine) -> None:
    bench = bench_for(engine, UnsavableQueue(engine, max_attempts=1))
    github = bench.api
    assert isinstance(github, MemoryGitHub)
    job_id = await bench.put(JobKind.REVIEW, command_review(), repo=REPO, number=7)
    await bench.run_next()
    assert await bench.job_status(job_id) == "failed"
    assert len(github.check_runs) == 1 and open_checks(github) == {}
    check = github.final_check()
    assert check["conclusion"] == "failure" and "hunter2" not in check["summary"]


class SavesOnSecondAttempt(JobQueue):
    """Recording the check run fails on the first attempt only."""

    async def save_payload(self, job: ClaimedJob, payload: dict[str, Any]) -> bool:
        if job.attempts == 1:
            raise ConnectionError("server closed the connection unexpectedly")
        return await super().save_payload(job, payload)


async def test_a_retry_after_an_unrecorded_check_run_leaves_only_its_own(engine: AsyncEngine) -> None:
    bench = bench_for(engine, SavesOnSecondAttempt(engine, max_attempts=3))
    github = bench.api
    assert isinstance(github, MemoryGitHub)
    job_id = await bench.put(JobKind.REVIEW, command_review(), repo=REPO, number=7)
    await bench.run_next()
    assert open_checks(github) == {}  # the first attempt's check run is not left queued behind
    await bench.retry_now()
    await bench.run_next()
    assert await bench.job_status(job_id) == "done"
    assert open_checks(github) == {}
    assert [s[-1]["conclusion"] for s in github.check_runs.values()][-1] == "success"


class CompletingFailsOnce(MemoryGitHub):
    """GitHub refuses the first attempt to complete a check run (a 502 that outlived the retries)."""

    refused = False

    async def update_check_run(self, repo: RepoRef, check_run_id: int, **changes: Any) -> None:
        if changes.get("status") == "completed" and not self.refused:
            self.refused = True
            raise GitHubRetryableError("server error", status=502)
        await super().update_check_run(repo, check_run_id, **changes)


async def test_give_up_closes_the_check_run_the_last_attempt_recorded(engine: AsyncEngine) -> None:
    # The claim carried no check run; the attempt created and recorded one, then crashed and could
    # not close it itself. Giving the job up must find it in the stored job, not the stale claim.
    github = CompletingFailsOnce()
    bench = bench_for(engine, JobQueue(engine, max_attempts=1), github)

    def crash(chunk: object) -> list[Any]:
        raise KeyError(SECRET)  # not one of ours

    bench.reviewer.script = crash
    job_id = await bench.put(JobKind.REVIEW, command_review(), repo=REPO, number=7)
    await bench.run_next()
    assert await bench.job_status(job_id) == "failed"
    assert open_checks(github) == {}
    check = github.final_check()
    assert check["conclusion"] == "failure" and "KeyError" in check["summary"]
    assert "hunter2" not in check["summary"]
    [run] = await bench.runs()
    assert run.status is RunStatus.FAILED and run.error is not None and "hunter2" not in run.error


async def test_a_job_that_keeps_killing_its_worker_fails_its_run_and_check(engine: AsyncEngine) -> None:
    github = MemoryGitHub()
    bench = bench_for(engine, JobQueue(engine, max_attempts=2), github)

    def die(chunk: object) -> list[Any]:
        raise Died

    bench.reviewer.script = die
    job_id = await bench.put(JobKind.REVIEW, command_review(), repo=REPO, number=7)
    for _ in range(2):  # each attempt dies mid-review; its lease runs out
        await bench.run_next()
        assert list(open_checks(github).values()) == ["in_progress"]
        await bench.expire_leases()
    reclaimed = await bench.claim()
    assert reclaimed.exhausted and reclaimed.id == job_id
    await bench.runner().run_one(reclaimed)
    assert await bench.job_status(job_id) == "failed"
    assert len(github.check_runs) == 1 and open_checks(github) == {}
    check = github.final_check()
    assert check["conclusion"] == "failure" and "gave up after 2 attempts" in check["summary"]
    assert [r.status for r in await bench.runs()] == [RunStatus.FAILED, RunStatus.FAILED]


async def test_another_apps_check_run_of_the_same_name_is_never_adopted(engine: AsyncEngine) -> None:
    github = MemoryGitHub()
    bench = bench_for(engine, JobQueue(engine, max_attempts=1), github)
    foreign = github.add_foreign_check_run(head_sha=pull().head_sha, name="mini-review")
    await bench.put(JobKind.REVIEW, command_review(), repo=REPO, number=7)
    await bench.run_next()
    assert github.check_runs[foreign] == [github.check_runs[foreign][0]]  # untouched
    ours = [i for i in github.check_runs if i != foreign]
    assert len(ours) == 1 and github.final_check(ours[0])["status"] == "completed"


class DiesRecordingTheCheckRun(JobQueue):
    """The worker is killed right after creating the head's check run, before recording it."""

    async def attach_check_run(self, key: str, head_sha: str, check_run_id: int, run_id: str) -> bool:
        raise Died


async def test_a_check_job_that_keeps_dying_closes_its_check_run_when_given_up(engine: AsyncEngine) -> None:
    github = MemoryGitHub()
    bench = bench_for(engine, DiesRecordingTheCheckRun(engine, max_attempts=2), github)
    check = CheckJob(repo=REPO, number=7, head_sha=pull().head_sha).model_dump(mode="json")
    job_id = await bench.put(JobKind.CHECK, check, repo=REPO, number=7)
    await bench.put(JobKind.REVIEW, command_review(), repo=REPO, number=7)
    for _ in range(2):  # each attempt creates (or adopts) the check run, then dies
        assert (await bench.run_next()).id == job_id
        assert list(open_checks(github).values()) == ["queued"]
        await bench.expire_leases()
    reclaimed = await bench.claim()
    assert reclaimed.exhausted and reclaimed.id == job_id
    await bench.runner().run_one(reclaimed)
    assert await bench.job_status(job_id) == "failed"
    assert len(github.check_runs) == 1 and open_checks(github) == {}
