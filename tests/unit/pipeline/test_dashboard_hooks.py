"""The pipeline's two dashboard hooks: live progress of a run, and the repository-wide pause."""

from __future__ import annotations

from typing import Any

from app.pipeline.run import ReviewRun
from app.storage.models import RunStatus
from tests.fakes.ports import BOT
from tests.unit.pipeline.builders import REPO, added_file, job, source
from tests.unit.pipeline.harness import Bench


class Dashboard:
    def __init__(self, paused: bool = False) -> None:
        self.paused = paused
        self.reports: list[tuple[str, dict[str, Any]]] = []

    async def report_progress(self, run_id: str, **values: Any) -> None:
        self.reports.append((run_id, values))

    async def repo_paused(self, repo: str) -> bool:
        return self.paused and repo == REPO.full_name


async def run(bench: Bench, dashboard: Dashboard, trigger: str = "pull_request.opened") -> RunStatus:
    return await ReviewRun(
        job(trigger=trigger),
        api=bench.github,
        store=bench.store,
        reviewer=bench.reviewer,
        settings=bench.settings,
        final_attempt=True,
        bot_login=BOT,
        dashboard=dashboard,
    ).execute()


async def test_a_run_reports_title_stages_and_every_chunk() -> None:
    bench = Bench()
    bench.open_pr([added_file("a.py", source(3)), added_file("b.py", source(3))])
    dashboard = Dashboard()
    assert await run(bench, dashboard) is RunStatus.POSTED
    run_id = bench.store.only_run().id
    assert {r for r, _ in dashboard.reports} == {run_id}
    values = [v for _, v in dashboard.reports]
    assert values[0]["installation_id"] == REPO.installation_id and values[0]["pr_title"]
    model = next(v for v in values if v.get("stage") == "model")
    assert model["chunks_total"] == 2 and model["reviewed_files"] == ["a.py", "b.py"]
    assert [v["chunks_done"] for v in values if "chunks_done" in v][-1] == 2
    assert values[-1] == {"stage": "publish"}


async def test_a_paused_repository_skips_automatic_reviews_but_not_requested_ones() -> None:
    bench = Bench()
    bench.open_pr([added_file("a.py", source(3))])
    assert await run(bench, Dashboard(paused=True)) is RunStatus.SKIPPED
    assert "paused" in (bench.store.only_run().error or "") and bench.reviews() == []
    assert await run(bench, Dashboard(paused=True), trigger="command:review") is RunStatus.POSTED
