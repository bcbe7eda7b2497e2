"""Run progress for the live page: throttled chunk counts, and never a broken review."""

from __future__ import annotations

from typing import Any

from app.pipeline.progress import RunProgress


class Port:
    def __init__(self, fail: bool = False) -> None:
        self.writes: list[dict[str, Any]] = []
        self.fail = fail

    async def report_progress(self, run_id: str, **values: Any) -> None:
        if self.fail:
            raise RuntimeError("database is locked")
        self.writes.append(values)

    async def repo_paused(self, repo: str) -> bool:
        return repo == "o/paused"


async def test_chunk_counts_are_throttled_but_the_last_one_is_always_written() -> None:
    port = Port()
    progress = RunProgress(port, "r1", min_interval=3600)
    await progress.reviewing(5, ["b.py", "a.py", "a.py"])
    for _ in range(5):
        await progress.chunk_done()
    first = {"stage": "model", "chunks_total": 5, "chunks_done": 0, "reviewed_files": ["a.py", "b.py"]}
    assert port.writes[0] == first
    assert port.writes[1:] == [{"chunks_done": 5}]


async def test_every_chunk_is_written_without_throttling() -> None:
    port = Port()
    progress = RunProgress(port, "r1", min_interval=0)
    await progress.reviewing(3, [])
    for _ in range(3):
        await progress.chunk_done()
    assert [w.get("chunks_done") for w in port.writes] == [0, 1, 2, 3]


async def test_a_failing_store_does_not_break_the_review() -> None:
    progress = RunProgress(Port(fail=True), "r1")
    await progress.started(pr_title="t", installation_id=1)
    await progress.chunk_done()


async def test_the_repository_pause_comes_from_the_port() -> None:
    assert await RunProgress(Port(), "r1").repo_paused("o/paused")
    assert not await RunProgress(None, "r1").repo_paused("o/paused")
