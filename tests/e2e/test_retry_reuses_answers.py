"""A review job that fails after the model answered is retried without asking the model again (issue 9).

The whole product over real HTTP: GitHub fails the review's POST once (a 502: not safe to resend, so
the job fails and the queue retries it); the retry reuses the answers the first attempt kept, posts
the one review, and its run page says what was reused rather than counting it as new spend.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import postgres_available, webhook_payload
from tests.e2e.harness import running_stack, wait_for
from tests.e2e.test_model_resilience import (
    BUG_LINE,
    NAME,
    NUMBER,
    OWNER,
    buggy_file,
    final_check_runs,
    finished_run,
    inline_spots,
    open_pr,
    review_requests,
    run_id_of,
)
from tests.e2e.test_postgres_scale_out import _admin

PATHS = ["app/a.py", "app/b.py", "app/c.py"]
REVIEW_POST = r"/pulls/\d+/reviews$"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Settings for the database the stack runs on: the default SQLite file, or a fresh PostgreSQL."""
    if request.param == "sqlite":
        yield {}
        return
    if not postgres_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"mr_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f"CREATE DATABASE {name}"))
    try:
        yield {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}"}
    finally:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def test_a_job_retried_after_github_failed_the_post_does_not_call_the_model_again(
    tmp_path: Path, database: dict[str, Any]
) -> None:
    # One model call per file, so "every chunk that succeeded" is three separate answers.
    with running_stack(tmp_path, MINI_PACK_MAX_FILES=1, **database) as stack:
        open_pr(stack, [buggy_file(path) for path in PATHS])
        stack.github.fail_next("POST", REVIEW_POST, 502)
        response = stack.deliver("pull_request", webhook_payload("pull_request.opened.payload.json"))
        assert response.status_code == 202, response.text

        def posts() -> int:
            return sum(
                r.method == "POST" and bool(re.search(REVIEW_POST, r.path)) for r in stack.github.requests
            )

        wait_for(lambda: posts() >= 1, timeout=20, what="the first attempt's review POST")
        paid = len(review_requests(stack.model))
        assert paid == len(PATHS)

        # The queue retries the job after a backoff of a few seconds; the retry posts the review.
        reviews = wait_for(
            lambda: stack.github.reviews(OWNER, NAME, NUMBER), timeout=40, what="the retried review"
        )
        final_check_runs(stack)
        assert len(reviews) == 1 and posts() == 2
        assert inline_spots(stack) == {(path, BUG_LINE, "RIGHT") for path in PATHS}
        assert len(review_requests(stack.model)) == paid  # the retry asked the model nothing

        run = finished_run(stack, run_id_of(reviews[0]))
        assert run["status"] == "posted"
        assert (run["model_calls"], run["cost_usd"]) == (0, 0.0)
        assert run["reused_calls"] == len(PATHS) and run["reused_cost_usd"] > 0
        page = stack.client.get(f"{stack.url}/runs/{run['id']}")
        assert page.status_code == 200
        assert "3 model calls from an earlier attempt" in page.text
