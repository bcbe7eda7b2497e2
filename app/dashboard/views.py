"""View models of the dashboard pages, built from stored runs without I/O (the JSON API returns them)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field, field_serializer

from app.conversation.learnings import Learning
from app.conversation.store import OutcomeCounts
from app.storage.dashboard import ProgressRow, RunFilter
from app.storage.models import Run

CATEGORIES = ("lint", "test", "risk")
CHART_DAYS = 30


class RepoCard(BaseModel):
    name: str
    private: bool
    runs_this_week: int = 0
    cost_this_month_usd: float = 0.0
    failures_this_week: int = 0
    last_activity: dt.datetime | None = None


class RunRow(BaseModel):
    id: str
    repo: str
    pr_number: int
    pr_title: str | None = None
    head_sha: str | None = None
    trigger: str
    status: str
    mode: str | None = None
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    inline_count: int | None = None
    findings: int = 0
    cost_usd: float | None = None
    error: str | None = None


class DayPoint(BaseModel):
    day: dt.date
    runs: int = 0
    cost_usd: float = 0.0
    findings: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(CATEGORIES, 0))


class ReasonCount(BaseModel):
    reason: str
    count: int


class AddressedShare(BaseModel):
    """Inline comments whose file changed again in a later push of the same PR."""

    addressed: int
    posted: int

    @property
    def percent(self) -> float:
        return 100.0 * self.addressed / self.posted if self.posted else 0.0


class RepoStats(BaseModel):
    days: list[DayPoint]
    skip_reasons: list[ReasonCount]
    addressed: AddressedShare | None = None


class Page(BaseModel):
    number: int
    size: int
    total: int

    @property
    def count(self) -> int:
        return max(1, -(-self.total // self.size))


class RepoPage(BaseModel):
    repo: str
    tracked: OutcomeCounts | None = None  # how posted findings ended, tracked on GitHub
    learnings: list[Learning] = Field(default_factory=list)  # what writers' feedback taught (issue 13)
    private: bool
    paused: bool
    can_write: bool
    runs: list[RunRow]
    page: Page
    filters: RunFilter
    statuses: list[str]
    triggers: list[str]
    stats: RepoStats


class TimelineEntry(BaseModel):
    run: RunRow
    what_happened: str


class PullPage(BaseModel):
    repo: str
    number: int
    title: str | None
    github_url: str
    can_write: bool
    timeline: list[TimelineEntry]


def run_row(raw: Mapping[str, Any], progress: ProgressRow | None = None) -> RunRow:
    findings = raw.get("findings") or []
    return RunRow.model_validate(
        {**raw, "findings": len(findings), "pr_title": progress.pr_title if progress else None}
    )


def repo_card(name: str, private: bool, runs: Iterable[Mapping[str, Any]], now: dt.datetime) -> RepoCard:
    """Runs this week, cost this calendar month, failures this week for one repository."""
    week_ago = now - dt.timedelta(days=7)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    card = RepoCard(name=name, private=private)
    for run in runs:
        started: dt.datetime = run["started_at"]
        if started >= week_ago:
            card.runs_this_week += 1
            card.failures_this_week += run["status"] == "failed"
        if started >= month_start:
            card.cost_this_month_usd += float(run.get("cost_usd") or 0.0)
    card.cost_this_month_usd = round(card.cost_this_month_usd, 6)
    return card


def daily_points(runs: Iterable[Mapping[str, Any]], today: dt.date, days: int = CHART_DAYS) -> list[DayPoint]:
    """One point per day for the last `days` days (today included), empty days too."""
    first = today - dt.timedelta(days=days - 1)
    points = {first + dt.timedelta(days=i): DayPoint(day=first + dt.timedelta(days=i)) for i in range(days)}
    for run in runs:
        point = points.get(run["started_at"].date())
        if point is None:
            continue
        point.runs += 1
        point.cost_usd = round(point.cost_usd + float(run.get("cost_usd") or 0.0), 6)
        for finding in run.get("findings") or []:
            category = str(finding.get("category", ""))
            if category in point.findings:
                point.findings[category] += 1
    return list(points.values())


def skip_reasons(runs: Iterable[Mapping[str, Any]], top: int = 5) -> list[ReasonCount]:
    """The most common reasons files, or whole PRs, were not reviewed."""
    counts: Counter[str] = Counter()
    for run in runs:
        for skipped in run.get("skipped") or []:
            counts[str(skipped.get("reason", "unknown"))] += 1
        if run["status"] == "skipped" and run.get("error"):
            counts[f"PR not reviewed: {run['error']}"] += 1
    return [ReasonCount(reason=r, count=n) for r, n in counts.most_common(top)]


def addressed_share(
    runs: Sequence[Mapping[str, Any]], progress: Mapping[str, ProgressRow]
) -> AddressedShare | None:
    """Share of inline comments whose file a later run of the same PR saw changed; None without data.

    Later incremental runs record the files that changed since the previous review, so a comment's
    file showing up there means the flagged code was touched after the comment.
    """
    by_pr: dict[int, list[Mapping[str, Any]]] = {}
    for run in sorted(runs, key=lambda r: r["started_at"]):
        by_pr.setdefault(run["pr_number"], []).append(run)
    posted = addressed = 0
    evidence = False
    for pr_runs in by_pr.values():
        for index, run in enumerate(pr_runs):
            later_files: set[str] = set()
            for later in pr_runs[index + 1 :]:
                files = progress.get(later["id"], ProgressRow(run_id=later["id"])).reviewed_files
                if later.get("mode") == "incremental" and files is not None:
                    evidence = True
                    later_files |= set(files)
            for finding in run.get("findings") or []:
                if finding.get("outcome") == "inline comment":
                    posted += 1
                    addressed += finding.get("path") in later_files
    if not evidence or not posted:
        return None
    return AddressedShare(addressed=addressed, posted=posted)


def what_happened(run: RunRow) -> str:
    """One line for the PR timeline: what the run posted, or why it did not."""
    if run.status == "posted":
        comments = run.inline_count or 0
        return f"posted a review with {comments} inline comment{'s' if comments != 1 else ''}"
    if run.status == "running":
        return "in progress"
    if run.status == "superseded":
        return f"superseded: {run.error or 'new commits arrived'}"
    if run.status == "skipped":
        return f"skipped: {run.error or 'no reason recorded'}"
    if run.status == "cancelled":
        return f"cancelled: {run.error or 'the pull request was closed'}"
    return f"{run.status}: {run.error or 'no details'}"


def diff_anchor(path: str) -> str:
    """GitHub's anchor for a file in a PR's "Files changed" tab."""
    return "diff-" + hashlib.sha256(path.encode()).hexdigest()


class Stage(BaseModel):
    name: str
    seconds: float


class FindingView(BaseModel):
    path: str | None = None
    line: int | None = None
    category: str | None = None
    severity: str | None = None
    title: str = ""
    body: str = ""
    outcome: str = ""
    github_url: str | None = None  # the inline comment's place in "Files changed"


class SkippedFile(BaseModel):
    path: str
    reason: str
    lines: int | None = None


class Progress(BaseModel):
    stage: str | None = None
    chunks_done: int | None = None
    chunks_total: int | None = None


class Usage(BaseModel):
    """What the run's own model calls cost; `reused_*`: results an earlier attempt paid for."""

    model_calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float = 0.0
    reused_calls: int = 0
    reused_tokens: int = 0
    reused_cost_usd: float = 0.0


class RunLinks(BaseModel):
    pull: str
    review: str | None = None
    check_run: str | None = None


class RunPage(BaseModel):
    run: RunRow
    links: RunLinks
    progress: Progress
    stages: list[Stage]
    reviewed_paths: list[str] | None = None
    files_not_reviewed: list[SkippedFile]
    failed_chunks: list[dict[str, Any]]
    findings: list[FindingView]
    usage: Usage
    summary_markdown: str | None = None
    can_write: bool = False

    @property
    def suppressed(self) -> list[FindingView]:
        """Findings a learning (a writer's 👎, reply or `/mini ignore`) kept off the PR."""
        return [f for f in self.findings if f.outcome.startswith("suppressed by learning")]


def run_page(raw: Mapping[str, Any], progress: ProgressRow | None, *, github_web: str) -> RunPage:
    """Everything the run page and /api/runs/{id} show about one run."""
    run = run_row(raw, progress)
    pull = f"{github_web.rstrip('/')}/{run.repo}/pull/{run.pr_number}"
    review_id, check_id = raw.get("review_id"), raw.get("check_run_id")
    links = RunLinks(
        pull=pull,
        review=f"{pull}#pullrequestreview-{review_id}" if review_id else None,
        check_run=f"{github_web.rstrip('/')}/{run.repo}/runs/{check_id}" if check_id else None,
    )
    findings = [FindingView.model_validate(f) for f in raw.get("findings") or [] if isinstance(f, dict)]
    for finding in findings:
        if finding.outcome == "inline comment" and finding.path:
            line = f"R{finding.line}" if finding.line else ""
            finding.github_url = f"{pull}/files#{diff_anchor(finding.path)}{line}"
    usage = Usage.model_validate({k: raw.get(k) or 0 for k in Usage.model_fields})
    return RunPage(
        run=run,
        links=links,
        progress=Progress.model_validate(progress.model_dump() if progress else {}),
        stages=[Stage(name=k, seconds=float(v)) for k, v in (raw.get("timings") or {}).items()],
        reviewed_paths=progress.reviewed_files if progress else None,
        files_not_reviewed=[SkippedFile.model_validate(s) for s in raw.get("skipped") or []],
        failed_chunks=list(raw.get("failed_chunks") or []),
        findings=findings,
        usage=usage,
        summary_markdown=raw.get("summary"),
    )


class RunView(Run):
    """A run as stored, for `/api/runs/{id}`: every field; times as ISO 8601 with their UTC offset."""

    @field_serializer("started_at", "finished_at")
    def _iso(self, value: dt.datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    @classmethod
    def of(cls, run: Run) -> RunView:
        return cls.model_validate(run.model_dump())

    def as_json(self) -> dict[str, object]:
        return self.model_dump(mode="json")
