"""The durable queue on both databases: coalescing, one running job per PR, crash recovery."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.github.models import RepoRef
from app.jobs.models import ReviewJob, pr_key
from app.jobs.queue import JobQueue, cancel_queued, enqueue
from app.storage.db import write_transaction
from app.storage.tables import jobs

REPO = RepoRef(owner="o", name="r", installation_id=1)


def review(head: str, number: int = 1, **kw: object) -> dict[str, object]:
    return ReviewJob(
        repo=REPO, number=number, head_sha=head, trigger="pull_request.synchronize", **kw
    ).model_dump(mode="json")


async def put(engine: AsyncEngine, payload: dict[str, object], kind: str = "review", number: int = 1) -> int:
    async with write_transaction(engine) as conn:
        return await enqueue(conn, kind=kind, key=pr_key(REPO, number), payload=payload)


async def test_queued_reviews_coalesce_to_the_newest_head(engine: AsyncEngine) -> None:
    ids = [await put(engine, review(h)) for h in ("a1", "b2", "c3")]
    assert len(set(ids)) == 1
    queue = JobQueue(engine)
    job = await queue.claim("w1")
    assert job is not None and job.payload["head_sha"] == "c3"
    assert await queue.claim("w1") is None


async def test_coalescing_widens_scope() -> None:
    old = ReviewJob(repo=REPO, number=1, head_sha="a", trigger="t", only=["risk"], full=True)
    new = ReviewJob(repo=REPO, number=1, head_sha="b", trigger="t", only=["test"])
    merged = old.merged_with(new)
    assert merged.head_sha == "b" and merged.full and merged.only == ["risk", "test"]
    assert old.merged_with(new.model_copy(update={"only": None})).only is None


async def test_one_running_job_per_pr(engine: AsyncEngine) -> None:
    queue = JobQueue(engine)
    await put(engine, review("a1"))
    first = await queue.claim("w1")
    assert first is not None
    # A push while the review runs queues a new job, which must wait for the running one.
    await put(engine, review("b2"))
    await put(engine, review("x9", number=2), number=2)
    other = await queue.claim("w2")
    assert other is not None and other.pr_key == "o/r#2"
    assert await queue.claim("w2") is None
    await queue.complete(first)
    second = await queue.claim("w2")
    assert second is not None and second.payload["head_sha"] == "b2"


async def test_expired_lease_is_reclaimed_after_a_crash(engine: AsyncEngine) -> None:
    queue = JobQueue(engine, lease_s=300)
    await put(engine, review("a1"))
    crashed = await queue.claim("dead-worker")
    assert crashed is not None
    assert await queue.claim("w2") is None  # leased: nobody else may take it
    # The dead worker never renews; let its lease run out without waiting for the clock.
    async with engine.begin() as conn:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await conn.execute(update(jobs).where(jobs.c.id == crashed.id).values(locked_until=past))
    reclaimed = await queue.claim("w2")
    assert reclaimed is not None and reclaimed.id == crashed.id and reclaimed.attempts == 2


async def test_fail_requeues_then_gives_up(engine: AsyncEngine) -> None:
    queue = JobQueue(engine)
    await put(engine, review("a1"))
    job = await queue.claim("w")
    assert job is not None
    await queue.fail(job, "boom", retry_in_s=0)
    again = await queue.claim("w")
    assert again is not None and again.id == job.id
    await queue.fail(again, "boom", retry_in_s=None)
    assert await queue.claim("w") is None
    assert (await queue.counts()).get("failed") == 1


async def test_cancel_queued_drops_queued_work(engine: AsyncEngine) -> None:
    queue = JobQueue(engine)
    await put(engine, review("a1"))
    async with engine.begin() as conn:
        (cancelled,) = await cancel_queued(conn, "o/r#1")
    assert cancelled.head_sha == "a1"
    assert await queue.claim("w") is None


async def test_concurrent_claims_never_double_claim(engine: AsyncEngine) -> None:
    for n in range(1, 21):
        await put(engine, review(f"h{n}", number=n), number=n)
    queues = [JobQueue(engine) for _ in range(4)]  # separate instances: like separate processes

    async def drain(q: JobQueue, name: str) -> list[int]:
        got: list[int] = []
        while (job := await q.claim(name)) is not None:
            got.append(job.id)
            await q.complete(job)
        return got

    results = await asyncio.gather(*(drain(q, f"w{i}") for i, q in enumerate(queues)))
    claimed = [j for r in results for j in r]
    assert len(claimed) == 20 and len(set(claimed)) == 20


async def test_check_runs_follow_the_newest_head(engine: AsyncEngine) -> None:
    queue = JobQueue(engine)
    await put(engine, review("a1"))
    assert await queue.attach_check_run("o/r#1", "a1", 11, "run-a")
    await put(engine, review("b2"))  # a push replaces the head: check run 11 is now stale
    assert not await queue.attach_check_run("o/r#1", "a1", 12, "run-x")  # too late for the old head
    assert await queue.attach_check_run("o/r#1", "b2", 13, "run-b")
    job = await queue.claim("w")
    assert job is not None
    payload = ReviewJob.model_validate(job.payload)
    assert payload.head_sha == "b2" and payload.check_run_id == 13 and payload.stale_check_run_ids == [11]
    assert payload.run_id == "run-b"
    assert payload.all_check_run_ids() == [11, 13]


async def test_concurrent_pushes_for_one_pr_merge_into_one_queued_review(engine: AsyncEngine) -> None:
    from app.storage.db import write_transaction

    async def push(head: str) -> int:
        async with write_transaction(engine) as conn:
            return await enqueue(conn, kind="review", key=pr_key(REPO, 1), payload=review(head))

    ids = await asyncio.gather(*(push(f"h{n}") for n in range(8)))
    assert len(set(ids)) == 1
    queue = JobQueue(engine)
    job = await queue.claim("w")
    assert job is not None and await queue.claim("w") is None


async def test_prune_drops_only_old_finished_jobs(engine: AsyncEngine) -> None:
    import datetime as dt

    from sqlalchemy import update

    from app.storage.tables import jobs

    queue = JobQueue(engine)
    await put(engine, review("a1"))
    await put(engine, review("x", number=2), number=2)
    done = await queue.claim("w")
    assert done is not None
    await queue.complete(done)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    async with engine.begin() as conn:  # every job was last touched 40 days ago
        await conn.execute(update(jobs).values(updated_at=long_ago))
    assert await queue.prune(dt.timedelta(days=30)) == 1  # the queued one stays, however old
    assert (await queue.counts()) == {"queued": 1}


async def test_an_explicit_request_keeps_its_trigger_when_a_push_folds_in(engine: AsyncEngine) -> None:
    asked = ReviewJob(repo=REPO, number=1, head_sha="a1", trigger="command:review", requested_by="mona")
    await put(engine, asked.model_dump(mode="json"))
    await put(engine, review("b2"))  # a later push: automatic
    job = await JobQueue(engine).claim("w")
    assert job is not None
    merged = ReviewJob.model_validate(job.payload)
    assert merged.head_sha == "b2" and merged.trigger == "command:review" and merged.requested_by == "mona"
