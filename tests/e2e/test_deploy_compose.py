"""deploy/compose*.yaml smoke: each service's command runs as a local process with the file's environment.

No Docker engine here, so tests/e2e/compose.py plays compose: dependency order, env_file then
`environment`, healthchecks run as written, replicas, SIGTERM within stop_grace_period. A signed
webhook goes through one web process and is reviewed against the fake GitHub and fake OpenAI.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from dotenv import dotenv_values
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import create_async_engine

from app.setup.envfile import write_env
from app.storage.db import normalise_url
from app.webhooks.signature import sign
from tests.conftest import postgres_available
from tests.e2e import compose
from tests.e2e.harness import WEBHOOK_SECRET, Stack, settings_for, wait_for
from tests.e2e.test_backbone import BASE, HEAD, INSTALLATION, NAME, NUMBER, OWNER, open_pr
from tests.fakes.github import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.server import serve_in_thread

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432"


def pr_opened() -> dict[str, Any]:
    """A pull_request.opened payload for the backbone PR (no corpus needed)."""
    owner = {"login": OWNER, "type": "User"}
    return {
        "action": "opened",
        "number": NUMBER,
        "pull_request": {
            "number": NUMBER,
            "title": "Run commands",
            "draft": False,
            "state": "open",
            "head": {"sha": HEAD, "ref": "feature"},
            "base": {"sha": BASE, "ref": "master"},
            "user": owner,
        },
        "repository": {"name": NAME, "full_name": f"{OWNER}/{NAME}", "owner": owner},
        "installation": {"id": INSTALLATION},
    }


def deliver(url: str) -> httpx.Response:
    body = json.dumps(pr_opened()).encode()
    headers = {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(WEBHOOK_SECRET.encode(), body),
    }
    return httpx.post(f"{url}/webhooks/github", content=body, headers=headers, timeout=10)


@contextmanager
def fakes(tmp_path: Path) -> Iterator[tuple[FakeGitHub, dict[str, str]]]:
    """Fake GitHub with the backbone PR, fake OpenAI, and the `.env` a user would have written."""
    github, model = FakeGitHub(), FakeOpenAI()
    with serve_in_thread(github.app) as gh_url, serve_in_thread(model.app) as model_url:
        open_pr(Stack(github=github, model=model, url="", client=httpx.Client()))
        values = settings_for(gh_url, model_url, tmp_path / "unused.db")
        values.pop("DATABASE_URL")
        values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
        env_file = tmp_path / ".env"
        write_env(env_file, {k: str(v) for k, v in values.items()})
        yield github, {k: v for k, v in dotenv_values(env_file).items() if v is not None}


def finished_runs(port: str) -> float:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.TransportError:
        return 0.0  # that worker is still starting: its metrics server is not listening yet
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "mini_review_runs_total"
    )


def reviewed_once(github: FakeGitHub) -> list[dict[str, Any]]:
    return wait_for(lambda: github.reviews(OWNER, NAME, NUMBER), timeout=60, what="the review")


def test_compose_files_keep_their_promises() -> None:
    single = compose.load(DEPLOY / "compose.yaml")
    scale = compose.load(DEPLOY / "compose.scale.yaml")
    for service in [*single.values(), *scale.values()]:
        if not service.is_app:
            continue
        env = service.environment({})
        grace = float(env["MINI_SHUTDOWN_GRACE_SECONDS"])
        assert service.stop_grace_s > grace, service.name
        assert [str(p["path"]) for p in service.spec["env_file"]] == ["../.env"]
    (app,) = single.values()
    assert app.spec["restart"] == "unless-stopped" and app.healthcheck()
    assert app.environment({})["DATABASE_URL"].startswith("sqlite") and app.spec["volumes"] == ["data:/data"]
    assert scale["web"].replicas == 2 and scale["worker"].replicas == 2
    assert scale["web"].environment({})["MINI_WORKER"] == "off"
    assert scale["worker"].spec["command"] == ["mini-review", "worker"]
    assert scale["migrate"].one_shot and scale["migrate"].spec["command"] == ["mini-review", "migrate"]
    assert scale["web"].depends_on == {"migrate": "service_completed_successfully"}
    assert scale["migrate"].depends_on == {"postgres": "service_healthy"}
    assert scale["postgres"].healthcheck() and scale["web"].healthcheck()
    order = [s.name for s in compose.start_order(scale)]
    assert order.index("postgres") < order.index("migrate") < min(order.index("web"), order.index("worker"))


def test_one_container_compose_reviews_a_webhook(tmp_path: Path) -> None:
    services = compose.load(DEPLOY / "compose.yaml")
    with fakes(tmp_path) as (github, env_values):
        project = compose.Project(tmp_path, env_values, {}, {"data": tmp_path / "data"})
        (tmp_path / "data").mkdir()
        try:
            (web,) = project.start(services["mini-review"])
            assert deliver(web.url).status_code == 202
            assert len(reviewed_once(github)) == 1
        finally:
            codes = project.stop()
    assert -9 not in codes.values(), codes  # stopped within stop_grace_period
    assert all(code < 1000 for code in codes.values()), codes  # nobody died before the stop
    assert (tmp_path / "data" / "mini-review.db").is_file()  # the named volume held the database


async def _database(name: str, *, drop: bool) -> None:
    engine = create_async_engine(normalise_url(f"{LOCAL_POSTGRES}/test"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            sql = f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" if drop else f"CREATE DATABASE {name}"
            await conn.exec_driver_sql(sql)
    finally:
        await engine.dispose()


@pytest.mark.skipif(not postgres_available(), reason="PostgreSQL is not running on 127.0.0.1:5432")
def test_scale_out_compose_web_accepts_and_a_worker_reviews(tmp_path: Path) -> None:
    services = compose.load(DEPLOY / "compose.scale.yaml")
    database = f"smoke_{uuid.uuid4().hex[:12]}"
    asyncio.run(_database(database, drop=False))
    # The `postgres` service is this machine's PostgreSQL, in a database of this test's own.
    overrides = {"DATABASE_URL": f"{LOCAL_POSTGRES}/{database}"}
    try:
        with fakes(tmp_path) as (github, env_values):
            project = compose.Project(tmp_path, env_values, overrides, {})
            try:
                order = compose.start_order(services)
                workers = [s for s in order if s.is_app and not s.one_shot and not s.spec.get("ports")]
                for service in order:
                    if not service.is_app or service in workers:
                        continue
                    if service.one_shot:
                        done = project.run_once(service)
                        assert done.returncode == 0, done.stdout + done.stderr
                    else:
                        project.start(service)
                webs = [r for r in project.replicas if r.service.name == "web"]
                assert len(webs) == 2
                # Accepted by a web process while no worker runs: only a worker can review it.
                assert deliver(webs[0].url).status_code == 202
                assert httpx.get(f"{webs[1].url}/readyz", timeout=5).status_code == 200  # the k8s probe
                assert github.reviews(OWNER, NAME, NUMBER) == []
                for service in workers:
                    assert len(project.start(service)) == 2
                reviews = reviewed_once(github)
                assert len(reviews) == 1 and reviews[0]["commit_id"] == HEAD
                # Each worker serves its own metrics; between them they finished exactly one run.
                ports = [r.env["MINI_METRICS_PORT"] for r in project.replicas if r.service.name == "worker"]
                wait_for(lambda: sum(finished_runs(p) for p in ports) == 1, what="one finished run")
            finally:
                codes = project.stop()
        assert -9 not in codes.values(), codes
        assert all(code < 1000 for code in codes.values()), codes  # nobody died before the stop
    finally:
        asyncio.run(_database(database, drop=True))
