"""`mini-review worker` on PostgreSQL: SIGTERM lets the running review finish within the grace period,
and a review still running when the grace runs out is handed back at once for the next worker."""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.webhooks.signature import sign
from tests.e2e.harness import WEBHOOK_SECRET, settings_for, summary_comments, wait_for
from tests.e2e.test_chaos_postgres import (
    BASE_SHA,
    INSTALLATION,
    NAME,
    OWNER,
    _files,
    _head,
    _pull_event,
    _query,
)
from tests.e2e.test_chaos_postgres import database as database  # noqa: F401 - the fixture
from tests.e2e.test_service_process import CLI, _env
from tests.fakes.github import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.server import free_port, serve_in_thread


@pytest.fixture
def stack(tmp_path: Path, database: str) -> Iterator[tuple[FakeGitHub, FakeOpenAI, dict[str, str], str]]:  # noqa: F811
    github, model = FakeGitHub(), FakeOpenAI(latency=4)
    github.add_repo(OWNER, NAME, INSTALLATION)
    github.add_pull(OWNER, NAME, 1, head_sha=_head(1, 0), base_sha=BASE_SHA, files=_files(1, 0))
    with serve_in_thread(github.app) as gh_url, serve_in_thread(model.app) as model_url:
        values = settings_for(
            gh_url,
            model_url,
            tmp_path / "unused.db",
            DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{database}",
            MINI_WORKER="off",
            MINI_JOB_LEASE_SECONDS=600,  # only a hand-back can free the job quickly
        )
        values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
        yield github, model, _env(values), database


def _deliver_through_web(env: dict[str, str], tmp_path: Path) -> subprocess.Popen[bytes]:
    port = free_port()
    web = _spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp_path, "web")
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(timeout=10) as client:
        wait_for(lambda: _ready(client, url), timeout=60, what="the web process")
        body = json.dumps(_pull_event("opened", 1, _head(1, 0))).encode()
        headers = {
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(WEBHOOK_SECRET.encode(), body),
        }
        assert client.post(f"{url}/webhooks/github", content=body, headers=headers).status_code == 202
    return web


def _spawn(args: list[str], env: dict[str, str], tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    with (tmp_path / f"{name}.log").open("wb") as log:
        return subprocess.Popen([CLI, *args], env=env, cwd=tmp_path, stdout=log, stderr=log)


def _ready(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _worker(env: dict[str, str], tmp_path: Path, name: str, **extra: str) -> subprocess.Popen[bytes]:
    return _spawn(["worker"], {**env, **extra}, tmp_path, name)


def test_sigterm_lets_the_running_review_finish(
    stack: tuple[FakeGitHub, FakeOpenAI, dict[str, str], str], tmp_path: Path
) -> None:
    github, model, env, database = stack
    web = _deliver_through_web(env, tmp_path)
    worker = _worker(env, tmp_path, "w1", MINI_SHUTDOWN_GRACE_SECONDS="60")
    try:
        wait_for(lambda: model.requests, timeout=60, what="the worker to call the model")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
        # Finished before the process left (a PR with nothing to say inline gets only the summary).
        assert len(summary_comments(github, OWNER, NAME, 1)) == 1
        assert _query(database, "SELECT status FROM jobs WHERE kind = 'review'") == {"done"}
    finally:
        for proc in (web, worker):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_after_the_grace_the_review_is_handed_back(
    stack: tuple[FakeGitHub, FakeOpenAI, dict[str, str], str], tmp_path: Path
) -> None:
    github, model, env, _ = stack
    web = _deliver_through_web(env, tmp_path)
    first = _worker(env, tmp_path, "w1", MINI_SHUTDOWN_GRACE_SECONDS="0.5")
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_for(lambda: model.requests, timeout=60, what="the worker to call the model")
        first.send_signal(signal.SIGINT)
        assert first.wait(timeout=60) == 0
        assert summary_comments(github, OWNER, NAME, 1) == []
        model.latency = 0
        second = _worker(env, tmp_path, "w2")
        # The lease is 10 minutes: only the hand-back lets the second worker review this quickly.
        wait_for(
            lambda: summary_comments(github, OWNER, NAME, 1), timeout=90, what="the second worker's review"
        )
    finally:
        for proc in (web, first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
