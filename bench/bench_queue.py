"""Webhook acknowledgement and job engine numbers, printed side by side with their baselines.

1. `POST /webhooks/github` of `mini-review serve` (MINI_WORKER=off) against a bare FastAPI endpoint on
   the same uvicorn that only checks the HMAC and parses the JSON: req/s and p50/p99 at 16
   connections, on SQLite and on PostgreSQL (goal: ratio >= 0.5, p99 < 50 ms), with small and with
   GitHub-sized payloads; then whether every 202 is in the database. On SQLite the one process also
   applies what it records (it is the only process); a PostgreSQL web process only records, the
   workers apply.
2. PostgreSQL: how fast one process's applier turns recorded deliveries into jobs.
3. PostgreSQL: time from the 202 (delivery committed) through the applier and NOTIFY to a
   procrastinate worker starting the job.
4. PostgreSQL: claims per second with 1, 4 and 16 workers (a no-op handler).

Run: `.venv/bin/python bench/bench_queue.py` (PostgreSQL at 127.0.0.1:5432, database `test`).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.jobs.engine import ProcrastinateEngine  # noqa: E402
from app.jobs.models import JobKind, pr_key  # noqa: E402
from app.jobs.queue import ClaimedJob, JobQueue, enqueue  # noqa: E402
from app.jobs.worker import JobRunner  # noqa: E402
from app.storage.db import create_engine, migrate, write_transaction  # noqa: E402
from app.webhooks.applier import DeliveryApplier  # noqa: E402
from app.webhooks.inbox import DeliveryInbox  # noqa: E402
from app.webhooks.intake import delivery_record  # noqa: E402
from app.webhooks.intents import Intent, QueuedWork, decide  # noqa: E402
from app.webhooks.signature import is_valid_signature, sign  # noqa: E402

SECRET = "bench-secret"
CONNECTIONS, REQUESTS = 16, 1500
PG = "postgresql://postgres@127.0.0.1:5432"
CLI = str(Path(sys.executable).with_name("mini-review"))

bare = FastAPI()


@bare.post("/webhooks/github")
async def bare_hook(request: Request) -> JSONResponse:
    """The baseline: verify the signature, parse the JSON, answer."""
    body = await request.body()
    if not is_valid_signature(SECRET.encode(), body, request.headers.get("x-hub-signature-256")):
        return JSONResponse({"error": "invalid signature"}, status_code=401)
    payload = json.loads(body)
    return JSONResponse({"ok": isinstance(payload, dict)}, status_code=202)


REPO_LINKS = [
    "forks",
    "keys",
    "collaborators",
    "teams",
    "hooks",
    "issue_events",
    "events",
    "assignees",
    "branches",
    "tags",
    "blobs",
    "git_tags",
    "git_refs",
    "trees",
    "statuses",
    "languages",
    "stargazers",
    "contributors",
    "subscribers",
    "subscription",
    "commits",
    "git_commits",
    "comments",
    "issue_comment",
    "contents",
    "compare",
    "merges",
    "archive",
    "downloads",
    "issues",
    "pulls",
    "milestones",
    "notifications",
    "labels",
    "releases",
    "deployments",
]
USER_LINKS = [
    "followers",
    "following",
    "gists",
    "starred",
    "subscriptions",
    "organizations",
    "repos",
    "events",
    "received_events",
]


def _user(login: str) -> dict[str, Any]:
    """A user object with the fields GitHub sends (URLs included), so payloads weigh what real ones do."""
    api = f"https://api.github.com/users/{login}"
    return {
        "login": login, "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==", "type": "User",
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4", "gravatar_id": "",
        "url": api, "html_url": f"https://github.com/{login}", "site_admin": False,
        **{f"{name}_url": f"{api}/{name}" for name in USER_LINKS},
    }  # fmt: skip


def _repository(owner: str, name: str) -> dict[str, Any]:
    api = f"https://api.github.com/repos/{owner}/{name}"
    return {
        "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name,
        "full_name": f"{owner}/{name}", "private": False, "owner": _user(owner),
        "html_url": f"https://github.com/{owner}/{name}", "description": "A repository " * 8,
        "fork": False, "url": api, "default_branch": "main", "visibility": "public",
        "created_at": "2011-01-26T19:01:12Z", "updated_at": "2026-11-30T12:00:00Z",
        "stargazers_count": 80, "watchers_count": 80, "forks_count": 9, "open_issues_count": 3,
        **{f"{link}_url": f"{api}/{link}{{/sha}}" for link in REPO_LINKS},
    }  # fmt: skip


def _payload(number: int, push: int, *, github_sized: bool = False) -> bytes:
    """A signed-delivery body: `synchronize` of PR `number` at a new head.

    Small: only the fields the receiver reads (0.4 KB). GitHub-sized: the same event with the objects
    GitHub sends around them (repositories, users, links: about 25 KB, as real deliveries are).
    """
    head = f"{number:06d}{push:06d}".ljust(40, "a")
    pull: dict[str, Any] = {
        "number": number,
        "head": {"sha": head, "ref": "f"},
        "base": {"sha": "b" * 40, "ref": "main"},
        "user": {"login": "octocat", "type": "User"},
    }
    payload: dict[str, Any] = {
        "action": "synchronize",
        "number": number,
        "pull_request": pull,
        "repository": {"name": "repo", "owner": {"login": "bench"}},
        "installation": {"id": 1},
    }
    if github_sized:
        repo = _repository("bench", "repo")
        pull.update(title="Make the thing faster", body="Details. " * 900, user=_user("octocat"))
        pull["head"].update(repo=repo, user=_user("octocat"), label="octocat:f")
        pull["base"].update(repo=repo, user=_user("bench"), label="bench:main")
        payload.update(repository=repo, sender=_user("octocat"), before="c" * 40, after=head)
    return json.dumps(payload).encode()


def _request(port: int, n: int, github_sized: bool) -> bytes:
    body = _payload(n % 200, n, github_sized=github_sized)
    head = (
        f"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "X-GitHub-Event: pull_request\r\n"
        f"X-GitHub-Delivery: {uuid.uuid4()}\r\n"
        f"X-Hub-Signature-256: {sign(SECRET.encode(), body)}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _status_of_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in lines[1:])
    length = next(int(value) for name, _, value in fields if name.lower() == "content-length")
    await reader.readexactly(length)
    return int(lines[0].split()[1])


async def _load(url: str, *, github_sized: bool = False) -> tuple[float, list[float], int]:
    """Send REQUESTS signed deliveries over CONNECTIONS keep-alive connections; req/s, latencies, errors.

    A raw HTTP/1.1 client rather than httpx: on a 2-core machine the load generator shares the CPU
    with the server, and httpx spent more CPU per request than the bare endpoint being measured.
    Requests are built before the clock starts.
    """
    port = int(url.rsplit(":", 1)[1])
    requests = [_request(port, n, github_sized) for n in range(REQUESTS)]
    latencies: list[float] = []
    errors = 0
    counter = iter(requests)

    async def one_connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in counter:
                start = time.perf_counter()
                writer.write(request)
                status = await _status_of_response(reader)
                latencies.append(time.perf_counter() - start)
                errors += status != 202
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - started
    return REQUESTS / elapsed, latencies, errors


def _serve(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.post(f"http://127.0.0.1:{port}/webhooks/github", content=b"{}", timeout=1).status_code:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{args} did not start")


def _env(database_url: str, key_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "OPENAI_", "MINI_"))}
    env.update(
        {
            "GITHUB_APP_ID": "1",
            "GITHUB_APP_PRIVATE_KEY_PATH": str(key_path),
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "OPENAI_API_KEY": "sk-bench",
            "DATABASE_URL": database_url,
            "MINI_WORKER": "off",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def _report(name: str, rps: float, latencies: list[float], errors: int, baseline: float | None) -> None:
    q = statistics.quantiles(latencies, n=100)
    ratio = f"  ratio {rps / baseline:.2f}" if baseline else ""
    print(
        f"{name:<34} {rps:8.0f} req/s  p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms"
        f"{ratio}  non-2xx {errors}"
    )


async def _admin(sql: str) -> None:
    engine = create_engine(f"{PG}/test")
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql(sql)
    finally:
        await engine.dispose()


def _bare_server(port: int) -> subprocess.Popen[bytes]:
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bench_queue:bare",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    return _serve(args, {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}, port)


def _measure(proc: subprocess.Popen[bytes], port: int, github_sized: bool) -> tuple[float, list[float], int]:
    try:
        return asyncio.run(_load(f"http://127.0.0.1:{port}", github_sized=github_sized))
    finally:
        proc.terminate()
        proc.wait()


async def _recorded(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM deliveries"))).scalar_one())
    finally:
        await engine.dispose()


def acknowledgement(tmp: Path, pg_db: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path = tmp / "key.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    port = 18700
    for github_sized in (False, True):
        size = len(_payload(1, 1, github_sized=github_sized)) / 1024
        print(f"-- acknowledgement: {REQUESTS} signed {size:.1f} KB deliveries, {CONNECTIONS} connections")
        port += 1
        rps, lat, err = _measure(_bare_server(port), port, github_sized)
        _report("bare FastAPI (HMAC + JSON)", rps, lat, err, None)
        baseline = rps
        for name, url in (
            ("mini-review, SQLite", f"sqlite:///{tmp / f'bench-{int(github_sized)}.db'}"),
            ("mini-review, PostgreSQL", f"{PG}/{pg_db}"),
        ):
            port += 1
            proc = _serve([CLI, "serve", "--port", str(port)], _env(url, key_path), port)
            before = asyncio.run(_recorded(url))  # the server migrated the database at start
            rps, lat, err = _measure(proc, port, github_sized)
            _report(name, rps, lat, err, baseline)
            recorded = asyncio.run(_recorded(url)) - before
            print(f"{'':34} every 202 recorded: {recorded == REQUESTS - err} ({recorded}/{REQUESTS - err})")


async def engine_numbers(pg_db: str) -> None:
    url = f"{PG}/{pg_db}"
    engine = create_engine(url)
    await migrate(engine)
    try:
        await _apply_throughput(engine)
        await _start_latency(url, engine)
        for workers in (1, 4, 16):
            await _claims_per_second(url, engine, workers)
    finally:
        await engine.dispose()


async def _apply_throughput(engine: Any, deliveries: int = 600) -> None:
    """How fast one process's applier turns recorded pushes (over 200 PRs) into jobs."""
    inbox = DeliveryInbox(engine)
    records = []
    for n in range(deliveries):
        intent = decide("pull_request", json.loads(_payload(n % 200, n)), debounce_s=0)
        records.append(delivery_record(f"apply-{uuid.uuid4()}", "pull_request", "synchronize", intent))
    await asyncio.gather(*(inbox.record(r) for r in records))
    started = time.perf_counter()
    applied = await DeliveryApplier(engine, lambda: None).apply_pending()
    elapsed = time.perf_counter() - started
    print("-- PostgreSQL: one process's applier (recorded pushes -> our jobs + procrastinate jobs)")
    print(f"{'applied per second':<34} {applied / elapsed:8.0f} deliveries/s  ({applied} over 200 PRs)")
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM jobs"))
        await conn.execute(text("DELETE FROM procrastinate_jobs"))


async def _start_latency(url: str, engine: Any) -> None:
    """From a delivery's acknowledgement (its row committed) through the applier and NOTIFY to the job."""
    started: dict[str, float] = {}

    async def handler(job: ClaimedJob) -> None:
        started[job.pr_key] = time.perf_counter()

    runner = JobRunner(JobQueue(engine), {"review": handler})
    worker = ProcrastinateEngine(url, engine, runner, concurrency=4, lease_s=30, grace_s=1)
    inbox, applier = DeliveryInbox(engine), DeliveryApplier(engine, lambda: None)
    await worker.start()
    applier.start()
    await asyncio.sleep(1.0)  # let it register and LISTEN
    waits: list[float] = []
    try:
        for n in range(30):
            key = pr_key_for(10_000 + n)
            intent = Intent(outcome="bench", work=[QueuedWork(JobKind.REVIEW, key, {})])
            await inbox.record(delivery_record(f"bench-{uuid.uuid4()}", "pull_request", "opened", intent))
            acknowledged = time.perf_counter()  # the moment the 202 goes out
            applier.wake()
            while key not in started:
                await asyncio.sleep(0.001)
            waits.append(started[key] - acknowledged)
            await asyncio.sleep(0.05)
    finally:
        await applier.stop()
        await worker.stop()
    q = statistics.quantiles(waits, n=20)
    print("-- PostgreSQL: 202 (delivery committed) -> applier -> NOTIFY -> worker starts the job (30 jobs)")
    print(
        f"{'median / p95 / max':<34} {statistics.median(waits) * 1000:6.1f} ms / {q[18] * 1000:6.1f} ms"
        f" / {max(waits) * 1000:6.1f} ms  (goal < 100 ms)"
    )


def pr_key_for(n: int) -> str:
    from app.github.models import RepoRef

    return pr_key(RepoRef(owner="bench", name="claims", installation_id=1), n)


async def _claims_per_second(url: str, engine: Any, workers: int, jobs: int = 400) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM jobs"))
        await conn.execute(text("DELETE FROM procrastinate_jobs"))
    base = 100_000 * workers
    for n in range(jobs):
        async with write_transaction(engine) as conn:
            await enqueue(conn, kind="noop", key=pr_key_for(base + n), payload={})
    done = 0

    async def handler(job: ClaimedJob) -> None:
        nonlocal done
        done += 1

    fleet = [
        ProcrastinateEngine(
            url, engine, JobRunner(JobQueue(engine), {"noop": handler}), concurrency=1, lease_s=30, grace_s=1
        )
        for _ in range(workers)
    ]
    started = time.perf_counter()
    for w in fleet:
        await w.start()
    while done < jobs:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    for w in fleet:
        await w.stop()
    print(
        f"{f'claims/s, {workers:2d} worker(s) (concurrency 1)':<34} {jobs / elapsed:8.0f} jobs/s"
        f"  ({jobs} PRs)"
    )


def main() -> None:
    # Two databases: the acknowledgement runs leave 3,000 recorded deliveries for workers to apply,
    # which must not sit in front of the engine numbers' jobs.
    ack_db, engine_db = (f"bench_{uuid.uuid4().hex[:8]}" for _ in range(2))
    for db in (ack_db, engine_db):
        asyncio.run(_admin(f"CREATE DATABASE {db}"))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            acknowledgement(Path(tmp), ack_db)
        asyncio.run(engine_numbers(engine_db))
    finally:
        for db in (ack_db, engine_db):
            asyncio.run(_admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))


if __name__ == "__main__":
    main()
