"""Run the real mini-review app against the fake GitHub and fake OpenAI, all over real HTTP."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from app.main import create_app
from app.settings import load_settings
from app.webhooks.signature import sign
from tests.fakes.github import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.server import serve_in_thread

WEBHOOK_SECRET = "e2e-webhook-secret-value"
OPENAI_KEY = "sk-e2e-test-key-0123456789"
T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], *, timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


SUMMARY_MARKER = "<!-- mini-review:summary -->"


def summary_comments(github: FakeGitHub, owner: str, name: str, number: int) -> list[dict[str, Any]]:
    """The PR's living summary comments (there should be exactly one once a run has finished)."""
    return [c for c in github.issue_comments(owner, name, number) if c["body"].startswith(SUMMARY_MARKER)]


def wait_summary(github: FakeGitHub, owner: str, name: str, number: int, *, containing: str = "") -> str:
    """Wait for the living summary (that mentions `containing`, e.g. a head sha) and return its body."""

    def probe() -> str | None:
        found = summary_comments(github, owner, name, number)
        return found[0]["body"] if found and containing in found[0]["body"] else None

    return wait_for(probe, what=f"the summary comment{f' mentioning {containing}' if containing else ''}")


@dataclass
class Stack:
    github: FakeGitHub
    model: FakeOpenAI
    url: str
    client: httpx.Client

    def deliver(
        self,
        event: str,
        payload: dict[str, Any] | bytes,
        *,
        delivery: str | None = None,
        secret: str = WEBHOOK_SECRET,
        signature: str | None = None,
    ) -> httpx.Response:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signature if signature is not None else sign(secret.encode(), body),
        }
        return self.client.post(f"{self.url}/webhooks/github", content=body, headers=headers)

    def run_json(self, run_id: str) -> dict[str, Any]:
        data: dict[str, Any] = self.client.get(f"{self.url}/api/runs/{run_id}").json()
        return data


def settings_for(github_url: str, model_url: str, db_path: Path, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "GITHUB_APP_ID": 4242,
        "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GITHUB_API_URL": github_url,
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": f"{model_url}/v1",
        "DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "PUBLIC_URL": "http://mini-review.test",
        "MINI_DEBOUNCE_SECONDS": 0.3,
        "MINI_GITHUB_WRITE_INTERVAL": 0,
        "MINI_MODEL_BACKOFF_BASE": 0.01,
    }
    base.update(extra)
    return base


@contextmanager
def running_stack(tmp_path: Path, *, model: FakeOpenAI | None = None, **settings: Any) -> Iterator[Stack]:
    github = FakeGitHub()
    model = model or FakeOpenAI()
    with serve_in_thread(github.app) as gh_url, serve_in_thread(model.app) as model_url:
        values = settings_for(gh_url, model_url, tmp_path / "mini-review.db", **settings)
        values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
        app = create_app(load_settings(**values))
        with serve_in_thread(app) as url, httpx.Client(timeout=10) as client:
            yield Stack(github=github, model=model, url=url, client=client)


@contextmanager
def running_stack_on(
    github: FakeGitHub, db_path: Path, *, model: FakeOpenAI | None = None, **settings: Any
) -> Iterator[Stack]:
    """Start the app on a given FakeGitHub and database file: restarts, or a lost database, keep GitHub."""
    model = model or FakeOpenAI()
    with serve_in_thread(github.app) as gh_url, serve_in_thread(model.app) as model_url:
        values = settings_for(gh_url, model_url, db_path, **settings)
        values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
        app = create_app(load_settings(**values))
        with serve_in_thread(app) as url, httpx.Client(timeout=10) as client:
            yield Stack(github=github, model=model, url=url, client=client)
