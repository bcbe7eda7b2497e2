"""decide: what a review posts, concludes and remembers. Pure: plain values in, plain values out.

Everything here is decided on facts already gathered (the PR, its config, the model's outcome, the
fingerprints already on the PR); `app.pipeline.publish` carries the decision out.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.config.policy import PullFacts, auto_review_decision
from app.config.repo_config import ConfigResult, RepoConfig
from app.diff.filters import SkipReason
from app.diff.model import FileDiff
from app.diff.plan import ReviewPlan
from app.github.models import CheckRunConclusion, PullRequestInfo
from app.jobs.models import ReviewJob
from app.pipeline.dedup import Deduplicator
from app.pipeline.gather import ReviewInputs
from app.pipeline.posting import Comment
from app.pipeline.summary import SummaryInputs, build_summary, check_conclusion, check_title, finding_rows
from app.publish.links import LinkPolicy
from app.publish.living import FAILED_NOTE, RunEntry, review_body
from app.publish.markdown import ReviewSummary, comment_body, summary_body
from app.publish.placement import PlacedComment, Placement, place_findings, to_review_comment
from app.review.findings import Category, Finding, Severity
from app.review.redact import is_secret_finding
from app.review.reviewer import ReviewOutcome
from app.review.signal import merge_duplicates, select_inline
from app.storage.models import FailedChunk, PullState, ReviewMode, RunStatus, RunUpdate, SkippedFile

AUTOMATIC_TRIGGERS = ("pull_request.",)
CHECK_SUMMARY_LIMIT = 60_000


# -- before the review ---------------------------------------------------------------------------
def skip_reason(job: ReviewJob, pr: PullRequestInfo, cfg: RepoConfig, *, paused: bool) -> str | None:
    """Why this PR head is not reviewed at all, or None to review it."""
    if not cfg.enabled:
        return "mini-review is disabled for this repository (enabled: false)"
    if not job.trigger.startswith(AUTOMATIC_TRIGGERS):
        return None  # someone asked for it: only `enabled: false` stops a requested review
    if paused:
        return "automatic reviews are paused on this PR (/mini resume restarts them)"
    allowed, reason = auto_review_decision(
        PullFacts(
            action=job.trigger.removeprefix("pull_request."),
            draft=pr.draft,
            title=pr.title,
            author_login=pr.author_login,
            author_type=pr.author_type,
            base_ref=pr.base_ref,
            from_fork=pr.from_fork,
        ),
        cfg,
    )
    return None if allowed else reason


def unreadable_config_reason(config: ConfigResult) -> str | None:
    """Why no review may run when a config layer exists but cannot be read, or None."""
    if not config.unreadable:
        return None
    return "the repository configuration could not be read, so it is not known what it allows: " + "; ".join(
        config.unreadable
    )


def review_baseline(job: ReviewJob, cfg: RepoConfig, state: PullState) -> str | None:
    """The head an incremental review diffs against; None means review the whole PR."""
    if job.full or not cfg.incremental:
        return None
    return state.last_reviewed_head


@dataclass(frozen=True, slots=True)
class Interruption:
    """The PR changed under the review: the run ends without posting."""

    status: RunStatus
    error: str
    check_title: str
    check_summary: str


def interruption(pr: PullRequestInfo, latest: PullRequestInfo) -> Interruption | None:
    """Compare the PR as reviewed with the PR just before posting."""
    if latest.state != "open":
        return Interruption(
            RunStatus.CANCELLED,
            "the pull request was closed during the review",
            "Review cancelled",
            "The pull request was closed during the review.",
        )
    if latest.head_sha != pr.head_sha:
        return Interruption(
            RunStatus.SUPERSEDED,
            f"head moved to {latest.head_sha} before posting",
            "Superseded",
            f"New commits arrived ({latest.head_sha[:7]}).",
        )
    return None


# -- after the model -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Selection:
    """The model's findings after category filters, merging, thresholds and placement."""

    findings: list[Finding]
    merged: int
    summarised: list[Finding]  # below thresholds or over the inline cap
    placement: Placement


def keep_categories(findings: list[Finding], cfg: RepoConfig, only: list[str] | None) -> list[Finding]:
    enabled = {c for c in Category if getattr(cfg.categories, c.value)}
    if only is not None:
        enabled &= {Category(c) for c in only}
    # Secret findings are the app's own safety net: always kept.
    return [f for f in findings if f.category in enabled or is_secret_finding(f)]


def select_findings(
    findings: list[Finding],
    cfg: RepoConfig,
    *,
    only: list[str] | None,
    files: dict[str, FileDiff],
    context_cited: list[Finding] | None = None,
) -> Selection:
    """Filter, merge, threshold and place; findings that cite read-only context become notes only."""
    kept, merged = merge_duplicates(keep_categories(findings, cfg, only))
    inline, summarised = select_inline(
        kept,
        min_severity=Severity(cfg.min_severity),
        min_confidence=cfg.min_confidence,
        max_inline=cfg.max_inline_comments,
    )
    summarised += keep_categories(context_cited or [], cfg, only)
    return Selection(kept, merged, summarised, place_findings(files, inline))


def visible_findings(selection: Selection) -> list[Finding]:
    """The findings the PR shows (inline or in the summary): not those about files outside it."""
    dropped = {id(finding) for finding, _ in selection.placement.dropped}
    return [f for f in selection.findings if id(f) not in dropped]


def baseline_moves(plan: ReviewPlan, outcome: ReviewOutcome, *, only: list[str] | None) -> bool:
    """Only a complete review moves the incremental baseline.

    Otherwise the next push looks at everything again (fingerprints keep it from repeating comments),
    so no file is left unreviewed: not after a failed chunk, a chunk the budget kept back, a file over
    the plan's budget, or a category-limited (`--only`) review.
    """
    over_budget = any(s.reason is SkipReason.OVER_BUDGET for s in plan.skipped)
    return not (outcome.failed or outcome.not_sent or over_budget or only is not None)


@dataclass(frozen=True, slots=True)
class Facts:
    """What `decide` needs: the gathered inputs, the model's outcome, and the PR's known fingerprints."""

    inputs: ReviewInputs
    outcome: ReviewOutcome
    selection: Selection
    known_fingerprints: frozenset[str]
    only: list[str] | None
    run_url: str
    duration_s: float
    spend: str = ""  # the installation's spend today, shown in the summary footer
    at: str = ""  # when the review ran (ISO, UTC), for the summary's run history
    job_id: str = ""  # the job's planned run id, the same for each of its attempts


@dataclass(frozen=True, slots=True)
class CheckVerdict:
    conclusion: CheckRunConclusion
    title: str
    summary: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What to post, conclude and remember for one review."""

    inline: list[tuple[PlacedComment, str]]  # new inline comments and their fingerprints
    comments: list[Comment]  # the same, as review comments
    review_body: str | None  # the short review body; None: nothing new inline, so no review at all
    summary: ReviewSummary  # what the living summary comment says about this run
    entry: RunEntry  # this run's line in the summary's history
    remember: list[tuple[str, str]]  # (fingerprint, path) shown by this review
    move_baseline: bool
    check: CheckVerdict
    record: RunUpdate  # the run record, but for what only posting can tell (review id, inline count)


def _summary(facts: Facts, dedup: Deduplicator, inline: list[tuple[PlacedComment, str]]) -> ReviewSummary:
    i, sel = facts.inputs, facts.selection
    file_notes, pr_notes = dedup.fresh_notes(sel.placement, sel.summarised)
    return build_summary(
        SummaryInputs(
            pr=i.pr,
            plan=i.plan,
            outcome=facts.outcome,
            placement=sel.placement,
            summarised=sel.summarised,
            posted=[p for p, _ in inline],
            file_notes=file_notes,
            pr_notes=pr_notes,
            duplicates=dedup.duplicates + sel.merged,
            note_prints=[fp for fp, _ in dedup.new_note_prints],
            notices=[f"Repository configuration problem: {e}" for e in i.config_errors] + i.diff.notices,
            incremental_since=i.diff.since if i.diff.mode is ReviewMode.INCREMENTAL else None,
            files_total=len(i.diff.pr_files),
            duration_s=facts.duration_s,
            run_url=facts.run_url,
        )
    )


def decide(facts: Facts) -> Decision:
    """Decide the review's comments, summary, check verdict, memory and run record."""
    i, outcome = facts.inputs, facts.outcome
    dedup = Deduplicator(known=set(facts.known_fingerprints))
    inline = dedup.fresh_inline(facts.selection.placement, i.diff.pr_files)
    summary = _summary(facts, dedup, inline)
    # Links in model text may point into this PR's repository only (GitHub's own URL for it).
    links = LinkPolicy(i.pr.html_url.rsplit("/pull/", 1)[0])
    summary.links = links
    summary.spend = facts.spend
    every_chunk_failed = bool(i.plan.chunks) and len(outcome.failed) == len(i.plan.chunks)
    if every_chunk_failed:
        reason = outcome.failed[0].error if outcome.failed else "unknown"
        summary.notices.insert(0, f"mini-review could not review this pull request: {reason}")
    # When every chunk failed, `inline` holds only our own secret findings: they stand without the model.
    comments = [to_review_comment(placed, comment_body(placed, fp, links=links)) for placed, fp in inline]
    body = summary_body(summary)
    check = CheckVerdict(
        check_conclusion(i.config, visible_findings(facts.selection), failed=every_chunk_failed),
        check_title(summary, failed=every_chunk_failed),
        body[:CHECK_SUMMARY_LIMIT],
    )
    return Decision(
        inline=inline,
        comments=comments,
        review_body=review_body(len(comments), facts.run_url, facts.job_id) if comments else None,
        summary=summary,
        entry=_entry(facts, summary, len(inline), failed=every_chunk_failed),
        remember=[(fp, placed.path) for placed, fp in inline] + list(dedup.new_note_prints),
        move_baseline=baseline_moves(i.plan, outcome, only=facts.only),
        check=check,
        record=_record(facts, summary, inline, body, failed=every_chunk_failed),
    )


def _entry(facts: Facts, summary: ReviewSummary, inline: int, *, failed: bool) -> RunEntry:
    i, outcome = facts.inputs, facts.outcome
    note = ""
    if failed:
        note = FAILED_NOTE
    elif i.diff.mode == "incremental" and not i.diff.review_files:
        note = "nothing new"
    elif i.diff.mode == "incremental":
        note = f"since {i.diff.since[:7]}"
    return RunEntry(
        head=i.pr.head_sha,
        mode=i.diff.mode,
        at=facts.at,
        findings=sum(summary.counts.values()),
        inline=inline,
        prompt_tokens=(outcome.usage + outcome.escalation_usage).prompt_tokens,
        cost_usd=outcome.cost_usd,
        run_url=facts.run_url,
        note=note,
        job=facts.job_id,
    )


def _record(
    facts: Facts,
    summary: ReviewSummary,
    inline: list[tuple[PlacedComment, str]],
    body: str,
    *,
    failed: bool,
) -> RunUpdate:
    i, outcome, sel = facts.inputs, facts.outcome, facts.selection
    rows = finding_rows(sel.placement, [p for p, _ in inline], sel.summarised)
    record = RunUpdate(
        status=RunStatus.FAILED if failed else RunStatus.POSTED,
        error=outcome.failed[0].error if failed and outcome.failed else None,
        mode=i.diff.mode,
        base_sha=i.pr.base_sha,
        files_total=len(i.diff.pr_files),
        files_reviewed=summary.files_reviewed,
        lines_total=i.plan.lines_total,
        lines_sent=i.plan.lines_sent,
        skipped=[SkippedFile(path=p, reason=r, lines=n) for p, r, n in summary.skipped],
        failed_chunks=[FailedChunk(chunk=name, error=err) for name, err in summary.failed_chunks],
        findings=rows,
        summary=body,
    )
    return record.model_copy(update=spend_record(outcome).values())


def spend_record(outcome: ReviewOutcome) -> RunUpdate:
    """What this attempt's model calls cost, and apart from it what it reused from an earlier attempt.

    A reused result costs nothing now (it was billed to the run that made the call), so the run's
    tokens and cost count new spend only and the day's budget never counts a call twice.
    """
    usage = outcome.usage + outcome.escalation_usage
    reused = outcome.reused_usage
    return RunUpdate(
        prompt_tokens=usage.prompt_tokens,
        cached_tokens=usage.cached_tokens,
        completion_tokens=usage.completion_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        model_calls=usage.calls,
        cost_usd=outcome.cost_usd,
        reused_calls=outcome.reused_calls,
        reused_tokens=reused.prompt_tokens + reused.completion_tokens,
        reused_cost_usd=outcome.reused_cost_usd,
    )
