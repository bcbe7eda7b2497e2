"""The store on both databases: typed runs in and out, per-PR state, installations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.storage.db import write_transaction
from app.storage.models import (
    ChunkResultRow,
    FindingRow,
    InstallationChange,
    ReviewMode,
    RunStatus,
    RunUpdate,
    SkippedFile,
)
from app.storage.repository import Store, record_installation
from app.storage.tables import chunk_results, installations


async def test_a_run_round_trips_typed(engine: AsyncEngine) -> None:
    store = Store(engine)
    assert await store.get_run("nope") is None
    await store.start_run("r1", repo="acme/shop", pr_number=7, trigger="pull_request.opened", head_sha="h1")
    started = await store.get_run("r1")
    assert started is not None and started.status is RunStatus.RUNNING
    assert started.findings == [] and started.timings == {} and started.started_at.tzinfo is not None
    row = FindingRow(
        path="a.py",
        line=3,
        category="risk",
        severity="major",
        confidence=0.9,
        title="t",
        body="b",
        outcome="o",
    )
    finished = dt.datetime.now(dt.UTC)
    await store.update_run(
        "r1",
        RunUpdate(
            status=RunStatus.POSTED,
            mode=ReviewMode.INCREMENTAL,
            finished_at=finished,
            findings=[row],
            skipped=[SkippedFile(path="lock.json", reason="generated", lines=90)],
            timings={"model": 1.25},
            error=None,
        ),
    )
    run = await store.get_run("r1")
    assert run is not None
    assert (run.status, run.mode, run.findings, run.timings) == (
        RunStatus.POSTED,
        ReviewMode.INCREMENTAL,
        [row],
        {"model": 1.25},
    )
    assert run.finished_at == finished and run.skipped[0].lines == 90 and run.head_sha == "h1"


async def test_only_the_fields_given_are_written(engine: AsyncEngine) -> None:
    store = Store(engine)
    await store.start_run("r2", repo="acme/shop", pr_number=7, trigger="t", head_sha=None)
    await store.update_run("r2", RunUpdate(check_run_id=55))
    await store.update_run("r2", RunUpdate(error="boom"))
    run = await store.get_run("r2")
    assert run is not None and (run.check_run_id, run.error, run.status) == (55, "boom", RunStatus.RUNNING)


async def test_pull_state(engine: AsyncEngine) -> None:
    store = Store(engine)
    state = await store.pull_state("acme/shop", 7)
    assert (state.last_reviewed_head, state.paused) == (None, False)
    await store.set_paused("acme/shop", 7, True)
    await store.set_reviewed_head("acme/shop", 7, "h9")
    state = await store.pull_state("acme/shop", 7)
    assert (state.last_reviewed_head, state.paused) == ("h9", True)
    await store.set_paused("acme/shop", 7, False)
    assert (await store.pull_state("acme/shop", 7)).last_reviewed_head == "h9"


async def test_installations_follow_their_events(engine: AsyncEngine) -> None:
    async def apply(change: InstallationChange) -> tuple[list[str], bool]:
        async with write_transaction(engine) as conn:
            await record_installation(conn, change)
        async with engine.connect() as conn:
            row = (await conn.execute(select(installations).where(installations.c.id == 9))).one()
        return sorted(row.repositories), bool(row.active)

    assert await apply(InstallationChange(id=9, account="acme", repositories=["acme/a", "acme/b"])) == (
        ["acme/a", "acme/b"],
        True,
    )
    assert await apply(InstallationChange(id=9, added=["acme/c"], removed=["acme/a"])) == (
        ["acme/b", "acme/c"],
        True,
    )
    assert await apply(InstallationChange(id=9, active=False)) == (["acme/b", "acme/c"], False)


async def test_spend_is_summed_per_account_since_a_moment(engine: AsyncEngine) -> None:
    store = Store(engine)
    for run_id, repo, cost in [
        ("a", "acme/shop", 1.25),
        ("b", "acme/api", 0.5),
        ("c", "acme-x/shop", 9.0),
        ("d", "other/acme", 7.0),
        ("e", "acme/new", None),
    ]:
        await store.start_run(run_id, repo=repo, pr_number=1, trigger="t", head_sha="h")
        if cost is not None:
            await store.update_run(run_id, RunUpdate(status=RunStatus.POSTED, cost_usd=cost))
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    assert await store.spent_since("acme", before) == 1.75
    assert await store.spent_since("acme", dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)) == 0.0
    assert await store.spent_since("nobody", before) == 0.0
    assert await store.spent_since("acm%", before) == 0.0  # LIKE wildcards are escaped


def kept(
    call_key: str, *, run_id: str = "r1", job: str = "j1", head: str = "h1", cost: float = 0.25
) -> ChunkResultRow:
    return ChunkResultRow(
        repo="acme/shop",
        pr_number=7,
        head_sha=head,
        job_run_id=job,
        call_key=call_key,
        run_id=run_id,
        result={"findings": [{"path": "a.py", "title": "ünïcode"}], "cost_usd": cost},
        prompt_tokens=100,
        completion_tokens=10,
        model_calls=1,
        cost_usd=cost,
    )


async def test_kept_call_results_are_read_back_per_job_and_head(engine: AsyncEngine) -> None:
    store = Store(engine)
    await store.save_chunk_result(kept("k1"))
    await store.save_chunk_result(kept("k2", cost=0.5))
    # A racing attempt keeping the same call again changes nothing (the first result stays).
    await store.save_chunk_result(kept("k1", run_id="r2", cost=9.0))
    await store.save_chunk_result(kept("k1", job="j2"))
    await store.save_chunk_result(kept("k1", head="h2"))
    found = await store.chunk_results("j1", "h1")
    assert found == {"k1": kept("k1").result, "k2": kept("k2", cost=0.5).result}
    assert await store.chunk_results("j3", "h1") == {}


async def test_kept_call_results_are_pruned_after_a_while(engine: AsyncEngine) -> None:
    store = Store(engine)
    await store.save_chunk_result(kept("old"))
    await store.save_chunk_result(kept("new"))
    async with engine.begin() as conn:
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=4)
        await conn.execute(
            update(chunk_results).where(chunk_results.c.call_key == "old").values(created_at=long_ago)
        )
    assert await store.prune_chunk_results(dt.timedelta(days=3)) == 1
    assert list(await store.chunk_results("j1", "h1")) == ["new"]


async def test_a_dead_attempts_run_is_charged_what_its_kept_calls_cost(engine: AsyncEngine) -> None:
    """The retry reuses those calls for free, so the day's budget must see them on the dead run."""
    store = Store(engine)
    for run_id in ("dead", "idle"):
        await store.start_run(run_id, repo="acme/shop", pr_number=7, trigger="t", head_sha="h1")
    await store.save_chunk_result(kept("k1", run_id="dead", cost=0.25))
    await store.save_chunk_result(kept("k2", run_id="dead", cost=0.5))
    assert await store.close_open_runs("acme/shop", 7, "the worker stopped") == 2
    dead, idle = await store.get_run("dead"), await store.get_run("idle")
    assert dead is not None and idle is not None
    assert dead.status is RunStatus.FAILED and dead.error == "the worker stopped"
    assert (dead.cost_usd, dead.prompt_tokens, dead.completion_tokens, dead.model_calls) == (0.75, 200, 20, 2)
    assert (idle.status, idle.cost_usd, idle.model_calls) == (RunStatus.FAILED, None, None)
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    assert await store.spent_since("acme", before) == 0.75
