"""Chaos on PostgreSQL with real processes: 2 web (MINI_WORKER=off), 3 `mini-review worker`s, a burst
of 300+ signed deliveries over 40 PRs, kill -9 of workers with restarts, and one pg_terminate_backend
of every worker connection. Afterwards every open PR's newest head is reviewed exactly once, no head
twice, no check run is left queued or in progress, every accepted delivery is recorded, and every
worker is alive and heartbeating.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.storage.db import create_engine
from app.webhooks.signature import sign
from tests.conftest import postgres_available
from tests.e2e.harness import WEBHOOK_SECRET, settings_for, summary_comments, wait_for
from tests.e2e.test_service_process import CLI, _env
from tests.fakes.github import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.server import free_port, serve_in_thread

OWNER, NAME, INSTALLATION, BASE_SHA = "chaos", "repo", 77, "b" * 40
PRS, PUSHES, HELPS, CLOSES = 40, 6, 20, 8
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
HEARTBEATING = "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - interval '15 s'"


def _admin(sql: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine(ADMIN_URL)
        try:
            async with engine.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                result = await conn.execute(text(sql))
                return list(result) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture
def database() -> Iterator[str]:
    if not postgres_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    name = f"chaos_{uuid.uuid4().hex[:10]}"
    _admin(f"CREATE DATABASE {name}")
    try:
        yield name
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _head(number: int, push: int) -> str:
    return f"{number:04d}{push:04d}".ljust(40, "c")


def _files(number: int, push: int) -> list[dict[str, Any]]:
    patch = f"@@ -1,2 +1,3 @@\n import os\n+value_{push} = os.environ.get('X{number}')\n print('hi')"
    return [{"filename": f"pkg/mod_{number}.py", "status": "modified", "patch": patch}]


def _repo() -> dict[str, Any]:
    return {"name": NAME, "owner": {"login": OWNER, "type": "User"}, "full_name": f"{OWNER}/{NAME}"}


def _pull_event(action: str, number: int, head: str, state: str = "open") -> dict[str, Any]:
    pull = {
        "number": number,
        "title": f"Change {number}",
        "state": state,
        "head": {"sha": head, "ref": f"feature-{number}"},
        "base": {"sha": BASE_SHA, "ref": "main"},
        "user": {"login": "octocat", "type": "User"},
    }
    return {
        "action": action,
        "number": number,
        "pull_request": pull,
        "repository": _repo(),
        "installation": {"id": INSTALLATION},
    }


def _comment_event(number: int, comment_id: int, body: str) -> dict[str, Any]:
    return {
        "action": "created",
        "issue": {"number": number, "pull_request": {"url": "x"}},
        "comment": {
            "id": comment_id,
            "body": body,
            "user": {"login": "octocat", "type": "User"},
            "author_association": "MEMBER",
        },
        "repository": _repo(),
        "installation": {"id": INSTALLATION},
    }


class Fleet:
    """The five processes, each restartable, logging to files under `logs`."""

    def __init__(self, env: dict[str, str], worker_env: dict[str, str], logs: Path) -> None:
        self.env, self.worker_env, self.logs = env, worker_env, logs
        self.webs: list[tuple[subprocess.Popen[bytes], str]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self._n = 0
        self._logs: list[Any] = []

    def _spawn(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        self._n += 1
        log = (self.logs / f"{self._n:02d}-{args[0]}.log").open("wb")
        self._logs.append(log)
        return subprocess.Popen([CLI, *args], env=env, cwd=self.logs, stdout=log, stderr=subprocess.STDOUT)

    def start_web(self) -> None:
        port = free_port()
        proc = self._spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], self.env)
        self.webs.append((proc, f"http://127.0.0.1:{port}"))

    def start_worker(self, slot: int | None = None) -> None:
        proc = self._spawn(["worker"], self.worker_env)
        if slot is None:
            self.workers.append(proc)
        else:
            self.workers[slot] = proc

    def kill_worker(self, slot: int) -> None:
        self.workers[slot].kill()  # SIGKILL: no graceful anything
        self.workers[slot].wait()

    def stop(self) -> None:
        for proc in [p for p, _ in self.webs] + self.workers:
            if proc.poll() is None:
                proc.terminate()
        for proc in [p for p, _ in self.webs] + self.workers:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self._logs:
            log.close()


@contextmanager
def fleet(env: dict[str, str], worker_env: dict[str, str], logs: Path) -> Iterator[Fleet]:
    f = Fleet(env, worker_env, logs)
    try:
        yield f
    finally:
        f.stop()


def _ready(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_chaos_on_postgresql_loses_nothing_and_runs_nothing_twice(tmp_path: Path, database: str) -> None:
    rng = random.Random(9)
    github, model = FakeGitHub(), FakeOpenAI(latency=0.05)
    github.add_repo(OWNER, NAME, INSTALLATION)
    github.set_permission(OWNER, NAME, "octocat", "write")
    for number in range(1, PRS + 1):
        github.add_pull(
            OWNER, NAME, number, head_sha=_head(number, 0), base_sha=BASE_SHA, files=_files(number, 0)
        )
    url = f"postgresql://postgres@127.0.0.1:5432/{database}"
    with ExitStack() as stack:
        gh_url = stack.enter_context(serve_in_thread(github.app))
        model_url = stack.enter_context(serve_in_thread(model.app))
        values = settings_for(
            gh_url,
            model_url,
            tmp_path / "unused.db",
            DATABASE_URL=url,
            MINI_WORKER="off",
            MINI_JOB_LEASE_SECONDS=3,
            MINI_SHUTDOWN_GRACE_SECONDS=2,
            MINI_DEBOUNCE_SECONDS=0.2,
        )
        values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
        env = _env(values)
        worker_env = {**env, "DATABASE_URL": f"{url}?application_name=mini-chaos-worker"}
        migrated = subprocess.run([CLI, "migrate"], env=env, cwd=tmp_path, capture_output=True, timeout=120)
        assert migrated.returncode == 0, migrated.stderr.decode()
        client = stack.enter_context(httpx.Client(timeout=30))
        f = stack.enter_context(fleet(env, worker_env, tmp_path))
        for _ in range(2):
            f.start_web()
        for _ in range(3):
            f.start_worker()
        for _, web in f.webs:
            wait_for(lambda web=web: _ready(client, web), timeout=60, what=f"{web} to be ready")

        accepted: list[str] = []
        lock = threading.Lock()

        def deliver(event: str, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            delivery = str(uuid.uuid4())
            headers = {
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": delivery,
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(WEBHOOK_SECRET.encode(), body),
            }
            web = f.webs[rng.randrange(len(f.webs))][1]
            response = client.post(f"{web}/webhooks/github", content=body, headers=headers)
            assert response.status_code in (200, 202), response.text
            with lock:
                accepted.append(delivery)

        def pr_story(number: int) -> None:
            deliver("pull_request", _pull_event("opened", number, _head(number, 0)))
            for push in range(1, PUSHES + 1):
                github.push(OWNER, NAME, number, _head(number, push), _files(number, push))
                deliver("pull_request", _pull_event("synchronize", number, _head(number, push)))
                if push == 2 and number <= HELPS:
                    comment = github.add_issue_comment(OWNER, NAME, number, "/mini help")
                    deliver("issue_comment", _comment_event(number, comment, "/mini help"))
                time.sleep(rng.uniform(0, 0.05))
            if number > PRS - CLOSES:
                github.close_pull(OWNER, NAME, number)
                deliver("pull_request", _pull_event("closed", number, _head(number, PUSHES), "closed"))

        stop_chaos = threading.Event()
        kills = Counter[str]()

        def chaos() -> None:
            # A restarted worker needs a few seconds to start on a loaded machine: kill every 3-5 s.
            while not stop_chaos.wait(rng.uniform(3.0, 5.0)):
                slot = rng.randrange(len(f.workers))
                f.kill_worker(slot)
                kills["kill -9"] += 1
                f.start_worker(slot)
                if not kills["terminated connections"] and kills["kill -9"] >= 3:
                    rows = _admin(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        f"WHERE datname = '{database}' AND application_name = 'mini-chaos-worker'"
                    )
                    kills["terminated connections"] += len(rows)

        chaos_thread = threading.Thread(target=chaos, daemon=True)
        chaos_thread.start()
        with ThreadPoolExecutor(max_workers=16) as pool:
            for result in pool.map(pr_story, range(1, PRS + 1)):
                assert result is None
        # Keep killing while reviews still run, at least until the chaos has struck in full: on a fast
        # machine the burst of deliveries can end before the third kill.
        wait_for(
            lambda: kills["kill -9"] >= 3 and kills["terminated connections"] >= 1,
            timeout=120,
            what="three kills and one purge of the workers' connections",
        )
        stop_chaos.set()
        chaos_thread.join()
        assert len(accepted) >= 300 and kills["kill -9"] >= 3 and kills["terminated connections"] >= 1

        open_prs = range(1, PRS - CLOSES + 1)

        def settled() -> bool:
            newest = all(_reviewed(github, n, _head(n, PUSHES)) for n in open_prs)
            checks = all(h[-1]["status"] == "completed" for h in github.check_runs(OWNER, NAME).values())
            return newest and checks

        try:
            wait_for(settled, timeout=240, what="every open PR's newest head reviewed, every check completed")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{_diagnose(github, database, open_prs)}") from None
        for _, web in f.webs:
            assert _ready(client, web)
        assert all(w.poll() is None for w in f.workers)
        # Every worker process registered with procrastinate and is heartbeating (every 10 s).
        wait_for(
            lambda: int(next(iter(_query(database, HEARTBEATING)))) >= 3,
            timeout=60,
            what="three workers heartbeating",
        )

    for number in range(1, PRS + 1):
        heads = Counter(r["commit_id"] for r in github.reviews(OWNER, NAME, number))
        assert all(n == 1 for n in heads.values()), f"PR {number}: a head reviewed twice: {heads}"
        summaries = summary_comments(github, OWNER, NAME, number)
        assert len(summaries) <= 1, f"PR {number}: {len(summaries)} summary comments"
    stuck = {
        i: h[-1]["status"]
        for i, h in github.check_runs(OWNER, NAME).items()
        if h[-1]["status"] != "completed"
    }
    assert stuck == {}
    recorded = _query(database, "SELECT delivery_id FROM deliveries")
    assert set(accepted) <= recorded, "an accepted delivery left no record"
    owed = _query(database, "SELECT delivery_id FROM deliveries WHERE applied_at IS NULL")
    assert owed == set(), f"accepted deliveries never applied: {sorted(owed)[:5]}"
    for number in range(1, HELPS + 1):
        assert any(
            "/mini" in c["body"]
            for c in github.issue_comments(OWNER, NAME, number)
            if c["user"]["type"] == "Bot"
        )


def _reviewed(github: FakeGitHub, number: int, head: str) -> bool:
    """The PR's living summary (every run rewrites it, review or not) is about `head`."""
    return any(head[:12] in c["body"] for c in summary_comments(github, OWNER, NAME, number))


def _query(database: str, sql: str) -> set[str]:
    async def run() -> set[str]:
        engine = create_engine(f"postgresql://postgres@127.0.0.1:5432/{database}")
        try:
            async with engine.connect() as conn:
                return {str(r[0]) for r in await conn.execute(text(sql))}
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _diagnose(github: FakeGitHub, database: str, open_prs: range) -> str:
    """What was left behind, for a failure message."""
    missing = [n for n in open_prs if not _reviewed(github, n, _head(n, PUSHES))]
    stuck = {i: h[-1] for i, h in github.check_runs(OWNER, NAME).items() if h[-1]["status"] != "completed"}
    jobs = _query(
        database,
        "SELECT concat_ws(' ', id, kind, pr_key, status, attempts, locked_by, locked_until, run_after,"
        " last_error)"
        " FROM jobs WHERE status NOT IN ('done', 'cancelled')",
    )
    drains = _query(
        database,
        "SELECT concat_ws(' ', id, lock, status, scheduled_at, worker_id) FROM procrastinate_jobs"
        " WHERE status IN ('todo', 'doing')",
    )
    return "\n".join(
        [f"missing newest reviews: {missing}", f"stuck checks: {stuck}", f"jobs: {sorted(jobs)}"]
        + [f"drains: {sorted(drains)}"]
    )
