"""One review of one PR head, from fetching files to the posted review and the completed check run."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from app.config.policy import PullFacts, auto_review_decision, path_instructions_for
from app.config.repo_config import RepoConfig
from app.diff.filters import SkipReason
from app.diff.plan import plan_review
from app.diff.render import render_chunk
from app.errors import MiniReviewError, RetryableError
from app.github.models import CheckRunConclusion, PullRequestInfo
from app.jobs.models import ReviewJob
from app.pipeline.checks import SUPERSEDED, CheckRunReporter, close_check_runs
from app.pipeline.dedup import Deduplicator
from app.pipeline.files import load_pull_diff, to_file_diff
from app.pipeline.ports import GitHubPort
from app.pipeline.posting import comment_fits, post_review
from app.pipeline.repo_settings import load_repo_config, server_defaults
from app.pipeline.summary import SummaryInputs, build_summary, check_conclusion, check_title, finding_rows
from app.publish.markdown import comment_body, review_failed, split_body, summary_body
from app.publish.placement import place_findings, to_review_comment
from app.review.findings import Category, Finding, Severity
from app.review.llm import ModelClient
from app.review.prompts import PrContext
from app.review.redact import is_secret_finding
from app.review.reviewer import ReviewerConfig, review_chunks
from app.review.signal import merge_duplicates, select_inline
from app.review.usage import Prices
from app.settings import Settings
from app.storage.db import utcnow
from app.storage.repository import Store

log = logging.getLogger(__name__)
AUTOMATIC_TRIGGERS = ("pull_request.",)


def new_run_id() -> str:
    return secrets.token_hex(16)


@dataclass
class RunRecord:
    """What the run page shows; filled as the run goes."""

    timings: dict[str, float] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed_chunks: list[dict[str, Any]] = field(default_factory=list)


class ReviewRun:
    """Carry out one ReviewJob; the worker retries it when a RetryableError escapes."""

    def __init__(
        self,
        job: ReviewJob,
        *,
        api: GitHubPort,
        store: Store,
        model: ModelClient,
        settings: Settings,
        final_attempt: bool,
    ) -> None:
        self.job = job
        self.api = api
        self.store = store
        self.model = model
        self.settings = settings
        self.final_attempt = final_attempt
        self.repo = job.repo
        self.run_id = job.run_id or new_run_id()
        self.record = RunRecord()
        self.started = time.monotonic()

    @property
    def run_url(self) -> str:
        return self.settings.run_url(self.run_id)

    def _lap(self, name: str, since: float) -> float:
        now = time.monotonic()
        self.record.timings[name] = round(now - since, 4)
        return now

    async def execute(self) -> str:
        """Return the run's final status."""
        t = time.monotonic()
        pr = await self.api.get_pull(self.repo, self.job.number)
        if await self.store.get_run(self.run_id) is not None:
            self.run_id = new_run_id()  # a retry of this job: its first attempt keeps its own record
        await self.store.start_run(
            self.run_id,
            repo=self.repo.full_name,
            pr_number=pr.number,
            trigger=self.job.trigger,
            head_sha=pr.head_sha,
        )
        t = self._lap("fetch_pull", t)
        if self.job.stale_check_run_ids:
            await close_check_runs(
                self.api, self.repo, self.job.stale_check_run_ids, title="Superseded", summary=SUPERSEDED
            )
        if pr.state != "open":
            await self._close_own_check("cancelled", "Cancelled", "The pull request is closed.")
            return await self._finish("cancelled", error="the pull request is closed")
        config = await load_repo_config(self.api, self.repo, pr.base_ref, server_defaults(self.settings))
        t = self._lap("load_config", t)
        state = await self.store.pull_state(self.repo.full_name, pr.number)
        skip_reason = self._skip_reason(pr, config.config, paused=bool(state["paused"]))
        if skip_reason is not None:
            log.info(
                "run %s: %s#%s not reviewed: %s", self.run_id, self.repo.full_name, pr.number, skip_reason
            )
            await self._close_own_check("skipped", "Not reviewed", skip_reason)
            return await self._finish("skipped", error=skip_reason)
        checks = CheckRunReporter(
            self.api, self.repo, pr, run_url=self.run_url, check_run_id=self.job.check_run_id
        )
        await checks.start()
        await self.store.update_run(self.run_id, check_run_id=checks.check_run_id)
        try:
            return await self._review(
                pr, config.config, config.errors, checks, t, state["last_reviewed_head"]
            )
        except MiniReviewError as exc:
            retrying = isinstance(exc, RetryableError) and not self.final_attempt
            await checks.fail(str(exc), retrying=retrying)
            await self._finish("failed", error=str(exc))
            if retrying:
                raise
            return "failed"

    async def _close_own_check(self, conclusion: CheckRunConclusion, title: str, summary: str) -> None:
        if self.job.check_run_id is not None:
            await close_check_runs(
                self.api,
                self.repo,
                [self.job.check_run_id],
                title=title,
                summary=summary,
                conclusion=conclusion,
            )

    def _skip_reason(self, pr: PullRequestInfo, cfg: RepoConfig, *, paused: bool) -> str | None:
        automatic = self.job.trigger.startswith(AUTOMATIC_TRIGGERS)
        if not cfg.enabled:
            return "mini-review is disabled for this repository (enabled: false)"
        if not automatic:
            return None
        if paused:
            return "automatic reviews are paused on this PR (/mini resume restarts them)"
        allowed, reason = auto_review_decision(
            PullFacts(
                action=self.job.trigger.removeprefix("pull_request."),
                draft=pr.draft,
                title=pr.title,
                author_login=pr.author_login,
                author_type=pr.author_type,
                base_ref=pr.base_ref,
            ),
            cfg,
        )
        return None if allowed else reason

    async def _review(
        self,
        pr: PullRequestInfo,
        cfg: RepoConfig,
        config_errors: list[str],
        checks: CheckRunReporter,
        t: float,
        last_reviewed_head: str | None,
    ) -> str:
        diff = await load_pull_diff(
            self.api,
            self.repo,
            pr,
            last_reviewed_head=None if (self.job.full or not cfg.incremental) else last_reviewed_head,
        )
        t = self._lap("fetch_files", t)
        plan = plan_review(
            diff.review_files,
            diff.filter_rules(cfg),
            chunk_budget_tokens=self.settings.chunk_tokens,
            max_chunks=self.settings.max_chunks_per_pr,
            max_tokens=self.settings.max_input_tokens_per_pr,
        )
        t = self._lap("plan", t)
        outcome = await review_chunks(
            plan.chunks,
            PrContext(
                title=pr.title,
                body=pr.body or "",
                files=[f.path for f in diff.pr_files.values()],
                instructions=cfg.instructions,
            ),
            self.model,
            self._reviewer_config(),
            render=render_chunk,
            instructions_for_path=lambda path: path_instructions_for(cfg, path),
        )
        t = self._lap("model", t)
        usage = outcome.usage + outcome.escalation_usage
        findings = self._keep_categories(outcome.findings, cfg)
        findings, merged = merge_duplicates(findings)
        inline_candidates, summarised = select_inline(
            findings,
            min_severity=Severity(cfg.min_severity),
            min_confidence=cfg.min_confidence,
            max_inline=cfg.max_inline_comments,
        )
        placement = place_findings(diff.pr_files, inline_candidates)
        dedup = await Deduplicator.load(self.api, self.store, self.repo, pr.number)
        fresh = dedup.fresh_inline(placement, diff.pr_files)
        t = self._lap("place", t)

        latest = await self.api.get_pull(self.repo, pr.number)
        if latest.state != "open":
            await checks.finish(
                "neutral", "Review cancelled", "The pull request was closed during the review."
            )
            return await self._finish("cancelled", error="the pull request was closed during the review")
        if latest.head_sha != pr.head_sha:
            await checks.finish("neutral", "Superseded", f"New commits arrived ({latest.head_sha[:7]}).")
            return await self._finish("superseded", error=f"head moved to {latest.head_sha} before posting")

        file_notes, pr_notes = dedup.fresh_notes(placement, summarised)
        summary = build_summary(
            SummaryInputs(
                pr=pr,
                plan=plan,
                outcome=outcome,
                placement=placement,
                summarised=summarised,
                posted=[p for p, _ in fresh],
                file_notes=file_notes,
                pr_notes=pr_notes,
                duplicates=dedup.duplicates + merged,
                note_prints=[fp for fp, _ in dedup.new_note_prints],
                notices=[f"Repository configuration problem: {e}" for e in config_errors] + diff.notices,
                incremental_since=diff.since if diff.mode == "incremental" else None,
                files_total=len(diff.pr_files),
                duration_s=time.monotonic() - self.started,
                run_url=self.run_url,
            )
        )
        self.record.skipped = [{"path": p, "reason": r, "lines": n} for p, r, n in summary.skipped]
        self.record.failed_chunks = [{"chunk": name, "error": err} for name, err in summary.failed_chunks]
        every_chunk_failed = bool(plan.chunks) and len(outcome.failed) == len(plan.chunks)
        if every_chunk_failed:
            reason = outcome.failed[0].error if outcome.failed else "unknown"
            body_parts = [review_failed(reason, self.run_url)]
            dedup.new_note_prints.clear()  # the failure body shows no notes: do not mark them as shown
        else:
            body_parts = split_body(summary_body(summary))
        # When every chunk failed, `fresh` holds only our own secret findings: they stand without the model.
        comments = [to_review_comment(placed, comment_body(placed, fp)) for placed, fp in fresh]
        review_id, moved = await post_review(
            self.api,
            self.repo,
            pr.number,
            commit_id=pr.head_sha,
            body=body_parts[0],
            comments=comments,
            revalidate=self._revalidate,
        )
        for extra in body_parts[1:]:
            await self.api.create_issue_comment(self.repo, pr.number, extra)
        t = self._lap("publish", t)

        await self.store.remember_fingerprints(
            self.repo.full_name, pr.number, self.run_id, [(fp, placed.path) for placed, fp in fresh]
        )
        await self.store.remember_fingerprints(
            self.repo.full_name, pr.number, self.run_id, dedup.new_note_prints
        )
        over_budget = any(s.reason is SkipReason.OVER_BUDGET for s in plan.skipped)
        partial = self.job.only is not None  # a category-limited review did not cover the rest
        if not (outcome.failed or outcome.not_sent or over_budget or partial):
            # Only a complete review moves the baseline; otherwise the next push looks at everything
            # again (fingerprints keep it from repeating comments), so no file is left unreviewed.
            await self.store.set_pull_state(self.repo.full_name, pr.number, last_reviewed_head=pr.head_sha)
        self.record.findings = finding_rows(placement, [p for p, _ in fresh], summarised)
        conclusion = check_conclusion(cfg, findings, failed=every_chunk_failed)
        await checks.finish(
            conclusion, check_title(summary, failed=every_chunk_failed), summary_body(summary)[:60_000]
        )
        return await self._finish(
            "posted" if not every_chunk_failed else "failed",
            error=(outcome.failed[0].error if every_chunk_failed and outcome.failed else None),
            mode=diff.mode,
            base_sha=pr.base_sha,
            files_total=len(diff.pr_files),
            files_reviewed=summary.files_reviewed,
            lines_total=plan.lines_total,
            lines_sent=plan.lines_sent,
            inline_count=len(fresh) - moved,
            review_id=review_id,
            summary=body_parts[0],
            prompt_tokens=usage.prompt_tokens,
            cached_tokens=usage.cached_tokens,
            completion_tokens=usage.completion_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            model_calls=usage.calls,
            cost_usd=outcome.cost_usd,
        )

    async def _revalidate(self, comments: list[dict[str, object]]) -> list[bool]:
        entries = await self.api.list_pull_files(self.repo, self.job.number)
        files = {f.path: f for f in map(to_file_diff, entries)}
        return [comment_fits(files, c) for c in comments]

    def _reviewer_config(self) -> ReviewerConfig:
        s = self.settings
        return ReviewerConfig(
            model=s.mini_model,
            escalation_model=s.escalation_model,
            reasoning_effort=s.reasoning_effort,
            max_completion_tokens=s.max_completion_tokens,
            max_input_tokens_per_pr=s.max_input_tokens_per_pr,
            max_cost_usd_per_pr=s.max_cost_per_pr,
            prices=Prices(
                input_per_m=s.price_input_per_m,
                cached_input_per_m=s.price_cached_input_per_m,
                output_per_m=s.price_output_per_m,
            ),
            escalation_prices=Prices(
                input_per_m=s.escalation_price_input_per_m,
                cached_input_per_m=s.escalation_price_cached_input_per_m,
                output_per_m=s.escalation_price_output_per_m,
            ),
        )

    def _keep_categories(self, findings: list[Finding], cfg: RepoConfig) -> list[Finding]:
        enabled = {c for c in Category if getattr(cfg.categories, c.value)}
        if self.job.only is not None:
            enabled &= {Category(c) for c in self.job.only}
        # Secret findings are the app's own safety net: always kept.
        return [f for f in findings if f.category in enabled or is_secret_finding(f)]

    async def _finish(self, status: str, *, error: str | None = None, **values: Any) -> str:
        self.record.timings["total"] = round(time.monotonic() - self.started, 4)
        await self.store.update_run(
            self.run_id,
            status=status,
            error=error,
            finished_at=utcnow(),
            timings=self.record.timings,
            findings=self.record.findings,
            skipped=self.record.skipped,
            failed_chunks=self.record.failed_chunks,
            **values,
        )
        return status
