"""The real app with sign-in enabled against the fake GitHub (OAuth included) and fake OpenAI, plus ways
to put runs in its database and to sign in over plain HTTP."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine

from app.main import create_app
from app.settings import load_settings
from app.storage.tables import run_progress, runs
from tests.e2e.harness import Stack, settings_for
from tests.fakes.github import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.server import free_port, serve_in_thread

OWNER = "acme"
PRIVATE, PUBLIC = "secret-sauce", "open-thing"
INSTALLATION = 77


@dataclass
class DashboardStack(Stack):
    db_path: Path
    clients: list[httpx.Client] = field(default_factory=list)

    def _engine(self) -> Engine:
        # A synchronous engine: Playwright's sync API owns this thread's event loop.
        return create_engine(f"sqlite:///{self.db_path}", connect_args={"timeout": 10})

    def seed_run(self, repo: str, pr_number: int, **values: Any) -> str:
        """Write a run record straight into the app's database; return its id."""
        run_id = values.pop("id", None) or secrets.token_hex(16)
        progress = values.pop("progress", None)
        row: dict[str, Any] = {
            "id": run_id,
            "repo": repo,
            "pr_number": pr_number,
            "trigger": "pull_request.opened",
            "status": "posted",
            "started_at": dt.datetime.now(dt.UTC),
            "head_sha": "a" * 40,
        }
        row.update(values)
        engine = self._engine()
        try:
            with engine.begin() as conn:
                conn.execute(runs.insert().values(**row))
        finally:
            engine.dispose()
        if progress is not None:
            self.report_progress(run_id, **progress)
        return run_id

    def report_progress(self, run_id: str, **values: Any) -> None:
        values["updated_at"] = dt.datetime.now(dt.UTC)
        engine = self._engine()
        try:
            with engine.begin() as conn:
                found = conn.execute(
                    run_progress.update().where(run_progress.c.run_id == run_id).values(**values)
                )
                if found.rowcount == 0:
                    conn.execute(run_progress.insert().values(run_id=run_id, **values))
        finally:
            engine.dispose()

    def update_run(self, run_id: str, **values: Any) -> None:
        engine = self._engine()
        try:
            with engine.begin() as conn:
                conn.execute(runs.update().where(runs.c.id == run_id).values(**values))
        finally:
            engine.dispose()

    def sign_in(self, login: str) -> httpx.Client:
        """A client holding a signed-in session for `login` (through the real OAuth redirects)."""
        self.github.oauth.sign_in_as(login)
        client = httpx.Client(base_url=self.url, timeout=10, follow_redirects=True)
        self.clients.append(client)
        reply = client.get("/login", params={"next": "/"})
        assert reply.status_code == 200 and str(reply.url).rstrip("/") == self.url, reply.text
        return client


def repos_with_access(github: FakeGitHub) -> None:
    """A private and a public repository; alice writes, bob reads, mallory has no role."""
    for name in (PRIVATE, PUBLIC):
        github.add_repo(OWNER, name, INSTALLATION)
    github.oauth.set_private(OWNER, PRIVATE, True)
    github.oauth.set_private(OWNER, PUBLIC, False)
    github.set_permission(OWNER, PRIVATE, "alice", "write")
    github.set_permission(OWNER, PRIVATE, "bob", "read")
    github.set_permission(OWNER, PUBLIC, "alice", "admin")
    for login in ("alice", "bob", "mallory"):
        github.oauth.add_user(login)


@contextmanager
def dashboard_stack(
    tmp_path: Path, *, sign_in: bool = True, model: FakeOpenAI | None = None, **settings: Any
) -> Iterator[DashboardStack]:
    github = FakeGitHub()
    model = model or FakeOpenAI()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db_path = tmp_path / "dashboard.db"
    with serve_in_thread(github.app) as gh_url, serve_in_thread(model.app) as model_url:
        github.oauth.callback_url = f"{url}/auth/callback"
        values = settings_for(gh_url, model_url, db_path, PUBLIC_URL=url, GITHUB_URL=gh_url, **settings)
        values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
        if sign_in:
            values["GITHUB_CLIENT_ID"] = github.oauth.client_id
            values["GITHUB_CLIENT_SECRET"] = github.oauth.client_secret
        app = create_app(load_settings(**values))
        with serve_in_thread(app, port=port) as served, httpx.Client(timeout=10) as client:
            assert served == url
            stack = DashboardStack(github=github, model=model, url=url, client=client, db_path=db_path)
            try:
                yield stack
            finally:
                for signed_in in stack.clients:
                    signed_in.close()


def pull_request_event(
    owner: str, name: str, number: int, *, head: str, base: str, title: str, action: str = "opened"
) -> dict[str, Any]:
    """A `pull_request` webhook body with the fields GitHub always sends (docs' shape, trimmed)."""
    user = {"login": "octocat", "id": 1, "type": "User"}
    repo = {"id": 1, "name": name, "full_name": f"{owner}/{name}", "owner": {"login": owner}, "private": True}
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "title": title,
            "draft": False,
            "state": "open",
            "user": user,
            "head": {"sha": head, "ref": "feature"},
            "base": {"sha": base, "ref": "main"},
        },
        "repository": repo,
        "installation": {"id": INSTALLATION},
        "sender": user,
    }


def run_links(text: str) -> list[str]:
    return re.findall(r"/runs/([0-9a-f]{32})", text)
