"""What a run reports: the review summary, the run page's finding rows, the check run's verdict. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from app.config.repo_config import RepoConfig
from app.diff.plan import ReviewPlan
from app.github.models import CheckRunConclusion, PullRequestInfo
from app.publish.markdown import ReviewSummary
from app.publish.placement import FileNote, PlacedComment, Placement, PrNote
from app.review.findings import Category, Finding, Severity
from app.review.reviewer import ReviewOutcome
from app.storage.models import FindingRow


@dataclass(frozen=True)
class SummaryInputs:
    pr: PullRequestInfo
    plan: ReviewPlan
    outcome: ReviewOutcome
    placement: Placement
    summarised: list[Finding]  # below thresholds or over the inline cap
    posted: list[PlacedComment]  # inline comments new to this PR
    file_notes: list[FileNote]  # notes new to this PR
    pr_notes: list[PrNote]
    duplicates: int
    note_prints: list[str]
    notices: list[str]
    incremental_since: str | None
    files_total: int
    duration_s: float
    run_url: str


def build_summary(i: SummaryInputs) -> ReviewSummary:
    """Gather everything the review body says, including every file that was not reviewed and why."""
    skipped = [
        (s.path, s.reason.describe() + (f" ({s.detail})" if s.detail else ""), s.changed_lines)
        for s in i.plan.skipped
    ]
    skipped += [(c.path, f"not sent: {c.error}", 0) for c in i.outcome.not_sent]
    failed = [(f"{c.path} (part {c.part}/{c.parts})", c.error) for c in i.outcome.failed]
    shown = (
        [p.finding for p in i.posted] + [n.finding for n in i.file_notes] + [n.finding for n in i.pr_notes]
    )
    notices = list(i.notices)
    if i.outcome.not_sent:
        notices.append(
            f"Per-PR budget reached: {len(i.outcome.not_sent)} chunk(s) were not sent to the model."
        )
    if i.outcome.reused_calls:
        notices.append(
            f"{i.outcome.reused_calls} model answer(s) came from an earlier attempt of this review"
            " and were not paid for again."
        )
    if i.incremental_since:
        notices.append(f"Incremental review of the changes since {i.incremental_since[:7]}.")
    usage = i.outcome.usage + i.outcome.escalation_usage  # the cost includes the flagship calls too
    return ReviewSummary(
        head_sha=i.pr.head_sha,
        files_reviewed=len({c.path for c in i.plan.chunks}),
        files_total=i.files_total,
        lines_total=i.plan.lines_total,
        lines_sent=i.plan.lines_sent,
        skipped=skipped,
        failed_chunks=failed,
        counts={c.value: sum(1 for f in shown if f.category is c) for c in Category},
        severity_counts={s.value: sum(1 for f in shown if f.severity is s) for s in Severity},
        file_notes=i.file_notes,
        pr_notes=i.pr_notes,
        inline_count=len(i.posted),
        suppressed_count=len(i.summarised),
        duplicates_skipped=i.duplicates,
        dropped_count=len(i.placement.dropped) + i.outcome.dropped_foreign_path,
        prompt_tokens=usage.prompt_tokens,
        cached_tokens=usage.cached_tokens,
        completion_tokens=usage.completion_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        context_tokens=i.outcome.context_tokens,
        model_calls=usage.calls,
        cost_usd=i.outcome.cost_usd,
        duration_s=i.duration_s,
        run_url=i.run_url,
        notices=notices,
        fingerprints=i.note_prints,
    )


def _row(finding: Finding, outcome: str, *, line: int | None = None) -> FindingRow:
    return FindingRow(
        path=finding.path,
        line=line if line is not None else finding.line,
        category=finding.category.value,
        severity=finding.severity.value,
        confidence=finding.confidence,
        title=finding.title,
        body=finding.body,
        outcome=outcome,
    )


def finding_rows(
    placement: Placement, posted: list[PlacedComment], summarised: list[Finding]
) -> list[FindingRow]:
    """One row per finding for the run page, saying where it ended up."""
    posted_ids = {id(p.finding) for p in posted}
    rows = [
        _row(
            p.finding,
            "inline comment" if id(p.finding) in posted_ids else "already posted earlier",
            line=p.line,
        )
        for p in placement.inline
    ]
    rows += [_row(n.finding, f"summary: {n.reason}") for n in placement.file_notes]
    rows += [_row(n.finding, f"summary: {n.reason}") for n in placement.pr_notes]
    rows += [_row(f, f"dropped: {why}") for f, why in placement.dropped]
    rows += [_row(f, "summary: below thresholds or over the inline cap") for f in summarised]
    return rows


def check_conclusion(cfg: RepoConfig, findings: list[Finding], *, failed: bool) -> CheckRunConclusion:
    """Neutral by default, success when nothing was found, failure only when the repo opts in."""
    if failed:
        return "neutral"
    if cfg.fail_on is not None:
        bar = Severity(cfg.fail_on).rank
        # Only findings that meet the shown thresholds may fail the check: a failure must be
        # explained by what the PR shows as a finding, never by a note below the bar.
        shown = Severity(cfg.min_severity).rank
        if any(f.severity.rank >= max(bar, shown) and f.confidence >= cfg.min_confidence for f in findings):
            return "failure"
    return "success" if not findings else "neutral"


def check_title(summary: ReviewSummary, *, failed: bool) -> str:
    if failed:
        return "Review failed: the model could not review any chunk"
    total = sum(summary.counts.values())
    if total == 0:
        return "No findings"
    parts = [f"{n} {name}" for name, n in summary.counts.items() if n]
    return f"{total} finding{'s' if total != 1 else ''}: " + ", ".join(parts)
