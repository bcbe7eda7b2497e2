"""Benchmark the repository page: what a busy repository's month costs to query, compute and render.

Run: python bench/bench_dashboard.py [runs]
Target: the repository page of a repo with 3,000 runs in the last 30 days (a busy org repo: ~100 a day)
built in under 0.5 s on SQLite. Baseline: the same page for 100 runs. Prints both side by side.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.dashboard.charts import stacked_bars  # noqa: E402
from app.dashboard.context import template_environment  # noqa: E402
from app.dashboard.views import (  # noqa: E402
    CATEGORIES,
    Page,
    RepoPage,
    RepoStats,
    addressed_share,
    daily_points,
    run_row,
    skip_reasons,
)
from app.storage.dashboard import DashboardStore, RunFilter  # noqa: E402
from app.storage.db import create_engine, migrate  # noqa: E402
from app.storage.tables import run_progress, runs  # noqa: E402

REPO = "acme/busy"


def synthetic_runs(count: int, now: dt.datetime) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rng = random.Random(7)
    rows, progress = [], []
    for i in range(count):
        started = now - dt.timedelta(minutes=rng.randrange(30 * 24 * 60))
        findings = [
            {"path": f"src/f{rng.randrange(40)}.py", "line": rng.randrange(1, 400),
             "category": rng.choice(CATEGORIES), "severity": "minor", "confidence": 0.8, "title": "t",
             "body": "b" * 200, "outcome": rng.choice(["inline comment", "summary: below thresholds"])}
            for _ in range(rng.randrange(6))
        ]  # fmt: skip
        rows.append(
            {"id": f"{i:032x}", "repo": REPO, "pr_number": rng.randrange(1, 300),
             "trigger": "pull_request.opened", "started_at": started,
             "status": rng.choice(["posted", "posted", "posted", "failed", "skipped"]),
             "mode": rng.choice(["full", "incremental"]), "cost_usd": rng.random() / 100,
             "findings": findings,
             "skipped": [{"path": "poetry.lock", "reason": "lock file", "lines": 100}]}
        )  # fmt: skip
        progress.append(
            {"run_id": f"{i:032x}", "pr_title": f"Change {i}", "updated_at": now,
             "reviewed_files": [f"src/f{rng.randrange(40)}.py" for _ in range(3)]}
        )  # fmt: skip
    return rows, progress


async def repo_page_seconds(count: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/bench.db")
        await migrate(engine)
        now = dt.datetime.now(dt.UTC)
        rows, progress = synthetic_runs(count, now)
        async with engine.begin() as conn:
            await conn.execute(runs.insert(), rows)
            await conn.execute(run_progress.insert(), progress)
        store = DashboardStore(engine)
        templates = template_environment()
        started = time.perf_counter()
        page_rows, total = await store.list_runs(REPO, RunFilter(), offset=0, limit=25)
        since = now - dt.timedelta(days=30)
        window = await store.runs_since([REPO], since)
        known = await store.progress_since(REPO, since)
        known.update(await store.progress([r["id"] for r in page_rows if r["id"] not in known]))
        days = daily_points(window, now.date())
        page = RepoPage(
            repo=REPO, private=True, paused=False, can_write=True,
            runs=[run_row(r, known.get(r["id"])) for r in page_rows],
            page=Page(number=1, size=25, total=total), filters=RunFilter(), statuses=[], triggers=[],
            stats=RepoStats(
                days=days, skip_reasons=skip_reasons(window), addressed=addressed_share(window, known)
            ),
        )  # fmt: skip
        charts = {
            name: stacked_bars(name, [p.day for p in days], {"runs": [p.runs for p in days]})
            for name in ("runs_chart", "cost_chart", "findings_chart")
        }
        html = templates.get_template("repo.html").render(
            page=page, viewer=None, sign_in_enabled=True, findings_legend="", **charts
        )
        elapsed = time.perf_counter() - started
        await engine.dispose()
        assert REPO in html
        return elapsed


def main() -> None:
    busy = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    baseline = asyncio.run(repo_page_seconds(100))
    measured = asyncio.run(repo_page_seconds(busy))
    print(f"{'runs in 30 days':>16} {'repo page (s)':>14}")
    print(f"{100:>16} {baseline:>14.3f}   (baseline)")
    print(f"{busy:>16} {measured:>14.3f}   (target < 0.5 s)")


if __name__ == "__main__":
    main()
