"""Scale-out on PostgreSQL: a web-only instance takes the webhooks, two worker instances review them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from app.settings import load_settings
from app.storage.db import create_engine
from tests.conftest import POSTGRES_URL, postgres_available, webhook_payload
from tests.e2e.harness import Stack, settings_for, wait_for
from tests.e2e.test_backbone import NAME, NUMBER, OWNER, open_pr
from tests.fakes.github import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.server import serve_in_thread


async def _admin(sql: str) -> None:
    engine = create_engine(POSTGRES_URL)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(sql)
    finally:
        await engine.dispose()


@pytest.fixture
def database_url() -> Iterator[str]:
    if not postgres_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"mr_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f"CREATE DATABASE {name}"))
    try:
        # A plain postgresql:// URL, as a user would write it: the app picks the async driver.
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def test_web_and_workers_share_the_queue_on_postgresql(tmp_path: Path, database_url: str) -> None:
    github, model = FakeGitHub(), FakeOpenAI(latency=0.05)
    with ExitStack() as stack_ctx:
        gh_url = stack_ctx.enter_context(serve_in_thread(github.app))
        model_url = stack_ctx.enter_context(serve_in_thread(model.app))

        def instance(worker: str) -> str:
            values = settings_for(
                gh_url, model_url, tmp_path / "unused.db", DATABASE_URL=database_url, MINI_WORKER=worker
            )
            values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
            return stack_ctx.enter_context(serve_in_thread(create_app(load_settings(**values))))

        web = instance("off")
        instance("embedded")
        instance("embedded")
        client = stack_ctx.enter_context(httpx.Client(timeout=10))
        stack = Stack(github=github, model=model, url=web, client=client)
        open_pr(stack)
        payload = webhook_payload("pull_request.opened.payload.json")
        assert stack.deliver("pull_request", payload, delivery="pg-1").status_code == 202
        assert stack.deliver("pull_request", payload, delivery="pg-1").status_code == 202  # redelivery
        wait_for(lambda: github.reviews(OWNER, NAME, NUMBER), timeout=30, what="a review by a worker")
        # Both workers poll the same queue: the one review must not be posted twice.
        wait_for(
            lambda: all(h[-1]["status"] == "completed" for h in github.check_runs(OWNER, NAME).values()),
            timeout=30,
            what="the check run to complete",
        )
    assert len(github.reviews(OWNER, NAME, NUMBER)) == 1
    assert len(github.check_runs(OWNER, NAME)) == 1
