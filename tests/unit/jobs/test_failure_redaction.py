"""A failed job's error is stored and logged without the secrets its message may quote (issue 9)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.errors import GitHubPermanentError, GitHubRetryableError
from app.jobs.queue import ClaimedJob, JobQueue
from app.jobs.worker import Handler, JobRunner
from app.storage.tables import jobs
from tests.unit.jobs.test_queue import put, review

# Built at run time, so no scanner takes this file for a leak.
GITHUB_TOKEN = "ghs_" + "Ab3dE" * 8
FINE_GRAINED = "github_pat_" + "11ABCDEFG0" * 3 + "_" + "xY9" * 20
OPENAI_KEY = "sk-proj-" + "Q7w" * 16
SECRETS = (GITHUB_TOKEN, FINE_GRAINED, OPENAI_KEY)
MESSAGE = (
    f"clone of https://x-access-token:{GITHUB_TOKEN}@github.com/o/r.git failed; "
    f"gateway echoed Authorization: token {FINE_GRAINED} and api_key {OPENAI_KEY}"
)


def failing(exc: Exception) -> Handler:
    async def handler(job: ClaimedJob) -> None:
        raise exc

    return handler


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError(MESSAGE),  # an unexpected error: logged with its traceback
        GitHubRetryableError(MESSAGE, status=502),
        GitHubPermanentError(MESSAGE, status=404),
    ],
    ids=["unexpected", "retryable", "permanent"],
)
@pytest.mark.parametrize("max_attempts", [1, 3], ids=["gives-up", "retries"])
async def test_a_failed_jobs_error_keeps_no_secret_in_the_database_or_the_log(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture, exc: Exception, max_attempts: int
) -> None:
    queue = JobQueue(engine, max_attempts=max_attempts)
    await put(engine, review("a1"))
    claimed = await queue.claim("w")
    assert claimed is not None
    with caplog.at_level(logging.DEBUG):
        await JobRunner(queue, {"review": failing(exc)}).run_one(claimed)

    async with engine.connect() as conn:
        row = (await conn.execute(select(jobs))).mappings().one()
    stored = " ".join(str(value) for value in row.values())
    logged = caplog.text
    assert row["last_error"] and "redacted:" in row["last_error"]  # the error is still told
    assert "failed; gateway echoed" in row["last_error"]
    assert "redacted:" in logged and "failed; gateway echoed" in logged
    for secret in SECRETS:
        assert secret not in stored, "a secret reached the jobs table"
        assert secret not in logged, "a secret reached the log"
