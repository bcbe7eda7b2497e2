"""Page view models from plain run rows: stats, charts' data, skip reasons, addressed share, links."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from app.dashboard.views import (
    addressed_share,
    daily_points,
    repo_card,
    run_page,
    skip_reasons,
    what_happened,
)
from app.storage.dashboard import ProgressRow

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def run(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": values.get("id", "r1"),
        "repo": "o/r",
        "pr_number": 1,
        "trigger": "pull_request.opened",
        "status": "posted",
        "started_at": NOW,
    }
    return {**base, **values}


def test_repo_card_counts_this_week_and_this_month_separately() -> None:
    runs = [
        run(started_at=NOW - dt.timedelta(days=1), cost_usd=0.5, status="failed"),
        run(started_at=NOW - dt.timedelta(days=6), cost_usd=0.25),
        run(started_at=NOW - dt.timedelta(days=8), cost_usd=1.0),  # this month, not this week
        run(started_at=NOW - dt.timedelta(days=31), cost_usd=9.0, status="failed"),  # neither
    ]
    card = repo_card("o/r", True, runs, NOW)
    assert (card.runs_this_week, card.failures_this_week) == (2, 1)
    assert card.cost_this_month_usd == 1.75


def test_daily_points_cover_every_day_and_count_findings_by_category() -> None:
    findings = [{"category": "risk"}, {"category": "lint"}, {"category": "risk"}, {"category": "bogus"}]
    runs = [
        run(started_at=NOW, cost_usd=0.1, findings=findings),
        run(started_at=NOW - dt.timedelta(days=2), cost_usd=0.2),
        run(started_at=NOW - dt.timedelta(days=40), cost_usd=5.0),  # outside the window
    ]
    points = daily_points(runs, NOW.date(), days=5)
    assert [p.day for p in points] == [NOW.date() - dt.timedelta(days=i) for i in range(4, -1, -1)]
    assert [p.runs for p in points] == [0, 0, 1, 0, 1]
    assert points[-1].findings == {"lint": 1, "test": 0, "risk": 2}
    assert round(sum(p.cost_usd for p in points), 6) == 0.3


def test_skip_reasons_rank_file_reasons_and_skipped_prs() -> None:
    runs = [
        run(skipped=[{"path": "a.lock", "reason": "lock file"}, {"path": "b.min.js", "reason": "generated"}]),
        run(skipped=[{"path": "c.lock", "reason": "lock file"}]),
        run(status="skipped", error="draft pull request"),
    ]
    reasons = [(r.reason, r.count) for r in skip_reasons(runs)]
    assert reasons[0] == ("lock file", 2)
    assert ("PR not reviewed: draft pull request", 1) in reasons


def test_addressed_share_needs_a_later_incremental_run_that_saw_the_file() -> None:
    inline = {"path": "a.py", "outcome": "inline comment"}
    other = {"path": "b.py", "outcome": "inline comment"}
    summary_only = {"path": "a.py", "outcome": "summary: below thresholds"}
    first = run(id="r1", findings=[inline, other, summary_only])
    later = run(id="r2", started_at=NOW + dt.timedelta(hours=1), mode="incremental")
    assert addressed_share([first], {}) is None  # no follow-up push: nothing to tell
    assert addressed_share([first, later], {}) is None  # follow-up without recorded files
    progress = {"r2": ProgressRow(run_id="r2", reviewed_files=["a.py"])}
    share = addressed_share([later, first], progress)
    assert share is not None and (share.addressed, share.posted) == (1, 2) and share.percent == 50.0


def test_what_happened_says_why_a_run_did_not_post() -> None:
    from app.dashboard.views import run_row

    assert what_happened(run_row(run(inline_count=1))) == "posted a review with 1 inline comment"
    assert what_happened(run_row(run(status="skipped", error="paused"))) == "skipped: paused"
    superseded = run_row(run(status="superseded", error="head moved"))
    assert what_happened(superseded) == "superseded: head moved"


def test_run_page_links_to_the_pull_the_review_each_inline_comment_and_the_check_run() -> None:
    raw = run(
        pr_number=7,
        review_id=55,
        check_run_id=66,
        timings={"model": 1.5},
        findings=[
            {"path": "src/a b.py", "line": 3, "title": "t", "body": "b", "outcome": "inline comment"},
            {"path": "c.py", "line": 1, "title": "t", "body": "b", "outcome": "summary: below thresholds"},
        ],
        skipped=[{"path": "x.lock", "reason": "lock file", "lines": 3}],
        model_calls=2,
        cost_usd=0.01,
    )
    page = run_page(raw, ProgressRow(run_id="r1", pr_title="T", chunks_done=1, chunks_total=2),
                    github_web="https://ghe.example/")  # fmt: skip
    pull = "https://ghe.example/o/r/pull/7"
    assert page.links.pull == pull
    assert page.links.review == f"{pull}#pullrequestreview-55"
    assert page.links.check_run == "https://ghe.example/o/r/runs/66"
    anchor = hashlib.sha256(b"src/a b.py").hexdigest()
    assert page.findings[0].github_url == f"{pull}/files#diff-{anchor}R3"
    assert page.findings[1].github_url is None
    assert [(s.name, s.seconds) for s in page.stages] == [("model", 1.5)]
    assert page.usage.model_calls == 2 and page.usage.cost_usd == 0.01
    assert page.progress.chunks_done == 1 and page.run.pr_title == "T"
    assert page.files_not_reviewed[0].reason == "lock file"
