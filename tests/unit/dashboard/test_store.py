"""The dashboard's reads and writes on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.dashboard import DashboardStore, RunFilter, SessionRow
from app.storage.db import utcnow
from app.storage.tables import runs


async def add_runs(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    async with engine.begin() as conn:
        await conn.execute(runs.insert(), rows)


def row(i: int, **values: Any) -> dict[str, Any]:
    base = {
        "id": f"run{i:03d}",
        "repo": "Acme/App",
        "pr_number": 1 + i % 3,
        "trigger": "pull_request.opened" if i % 2 else "command:review",
        "status": "failed" if i % 4 == 0 else "posted",
        "started_at": utcnow() - dt.timedelta(minutes=i),
    }
    return {**base, **values}


async def test_the_generated_secret_is_made_once(engine: AsyncEngine) -> None:
    store = DashboardStore(engine)
    first = await store.secret("session_secret", lambda: "one")
    assert await store.secret("session_secret", lambda: "two") == first == "one"


async def test_pending_sign_ins_are_used_once_and_sessions_expire(engine: AsyncEngine) -> None:
    store = DashboardStore(engine)
    later = utcnow() + dt.timedelta(minutes=5)
    pending = SessionRow(id_hash="p" * 64, user_id=None, login=None, token=None, oauth_state="s",
                         next_path="/", expires_at=later)  # fmt: skip
    signed = pending.model_copy(
        update={"id_hash": "u" * 64, "login": "bob", "token": "sealed", "oauth_state": None}
    )
    await store.save_session(pending)
    await store.save_session(signed)
    assert await store.take_pending("u" * 64) is None  # a signed-in session is not a pending sign-in
    assert (await store.get_session("u" * 64)) is not None
    assert (await store.take_pending("p" * 64)) is not None
    assert await store.take_pending("p" * 64) is None
    gone = signed.model_copy(update={"id_hash": "x" * 64, "expires_at": utcnow() - dt.timedelta(seconds=1)})
    await store.save_session(gone)
    assert await store.get_session("x" * 64) is None
    assert await store.prune_sessions() == 1


async def test_runs_filter_and_page(engine: AsyncEngine) -> None:
    store = DashboardStore(engine)
    await add_runs(engine, [row(i) for i in range(30)] + [row(99, repo="Other/Repo")])
    page, total = await store.list_runs("Acme/App", RunFilter(), offset=0, limit=25)
    assert total == 30 and len(page) == 25 and page[0]["id"] == "run000"
    rest, _ = await store.list_runs("Acme/App", RunFilter(), offset=25, limit=25)
    assert [r["id"] for r in rest] == [f"run{i:03d}" for i in range(25, 30)]
    only = RunFilter(status="failed", pr_number=1)
    failed, count = await store.list_runs("Acme/App", only, offset=0, limit=50)
    assert count == len(failed) and {r["pr_number"] for r in failed} == {1}
    assert {r["status"] for r in failed} == {"failed"}
    statuses, triggers = await store.run_choices("Acme/App")
    assert statuses == ["failed", "posted"] and triggers == ["command:review", "pull_request.opened"]
    assert await store.canonical_repo("acme/app") == "Acme/App"
    assert await store.repo_names() == ["Acme/App", "Other/Repo"]
    last = await store.last_activity(["Acme/App"])
    assert last["Acme/App"].tzinfo is not None


async def test_progress_and_installation_of_a_repo(engine: AsyncEngine) -> None:
    store = DashboardStore(engine)
    await add_runs(engine, [row(1), row(2)])
    await store.report_progress("run001", pr_title="T", installation_id=42, stage="gather")
    await store.report_progress("run001", chunks_total=3, chunks_done=1, reviewed_files=["a.py"])
    found = (await store.progress(["run001", "run002"]))["run001"]
    assert (found.pr_title, found.stage, found.chunks_done) == ("T", "gather", 1)
    assert found.reviewed_files == ["a.py"]
    assert await store.installation_of("Acme/App") == 42
    assert await store.installation_of("Nobody/Here") is None


async def test_repo_pause_switch(engine: AsyncEngine) -> None:
    store = DashboardStore(engine)
    assert not await store.repo_paused("a/b")
    await store.set_repo_paused("a/b", True, "alice")
    assert await store.repo_paused("a/b")
    await store.set_repo_paused("a/b", False, "alice")
    assert not await store.repo_paused("a/b")
