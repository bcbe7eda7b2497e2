"""One review of one PR head, as stages: gather → review → decide → publish. This file only orders them.

The stages hand typed values on: `ReviewInputs` (gather) → `ReviewOutcome` (the reviewer port) →
`Decision` (decide, pure) → `Posted` (publish). The check run's lifecycle (`checks`), dedup and the
summary stay modules of their own.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets

from app.config.repo_config import ConfigResult
from app.conversation.ports import ConversationGitHub, StructuredModel
from app.conversation.review_hooks import ReviewMemory, record_posted, remember, track_fixes
from app.conversation.store import ConversationStore
from app.errors import MiniReviewError, PermanentError, RetryableError, public_reason
from app.github.models import CheckRunConclusion, PullRequestInfo
from app.jobs.models import ReviewJob
from app.observability.logs import bind_log_context, log_context
from app.observability.metrics import record_comments, record_run
from app.pipeline import budget, publish
from app.pipeline.budget import DailyBudget, budget_marker, daily_limit, over_budget_reason
from app.pipeline.checks import FAILED_TITLE, SUPERSEDED, CheckRunReporter, close_check_runs, mark_retrying
from app.pipeline.decide import (
    AUTOMATIC_TRIGGERS,
    Decision,
    Facts,
    decide,
    interruption,
    review_baseline,
    select_findings,
    skip_reason,
    spend_record,
    unreadable_config_reason,
)
from app.pipeline.dedup import Deduplicator
from app.pipeline.gather import PlanLimits, ReviewInputs, gather_review_inputs
from app.pipeline.ports import GitHubPort, ReviewerPort, RunStore
from app.pipeline.progress import DashboardPort, RunProgress
from app.pipeline.repo_settings import load_repo_config, server_defaults
from app.pipeline.reuse import StoredCallResults
from app.pipeline.timings import Timings
from app.review.prompts import PrContext
from app.review.reviewer import ReviewOutcome, repo_cache_key
from app.settings import Settings
from app.storage.db import utcnow
from app.storage.models import FindingRow, RunStatus, RunUpdate

log = logging.getLogger(__name__)


def new_run_id() -> str:
    return secrets.token_hex(16)


def plan_limits(settings: Settings) -> PlanLimits:
    return PlanLimits(
        chunk_tokens=settings.chunk_tokens,
        max_chunks=settings.max_chunks_per_pr,
        max_input_tokens=settings.max_input_tokens_per_pr,
    )


class ReviewRun:
    """Carry out one ReviewJob; the worker retries it when a RetryableError escapes."""

    def __init__(
        self,
        job: ReviewJob,
        *,
        api: GitHubPort,
        store: RunStore,
        reviewer: ReviewerPort,
        settings: Settings,
        final_attempt: bool,
        bot_login: str,
        conversation: ConversationStore | None = None,
        model: StructuredModel | None = None,
        dashboard: DashboardPort | None = None,
    ) -> None:
        self.job = job
        self.bot_login = bot_login
        self.conversation = conversation  # learnings, finding states, fix tracking (issue 13)
        self.model = model
        self.api = api
        self.store = store
        self.reviewer = reviewer
        self.settings = settings
        self.final_attempt = final_attempt
        self.repo = job.repo
        self.run_id = job.run_id or new_run_id()
        self.timings = Timings()
        self.budget = DailyBudget(limit=None, spent=0.0)
        self._decision: Decision | None = None
        self._spent = RunUpdate()  # what the model calls cost, once they were made
        self.memory = ReviewMemory()
        self.dashboard = dashboard
        self.progress = RunProgress(dashboard, self.run_id)
        self._checks: CheckRunReporter | None = None
        self._started = False  # the run record exists
        self._settled = False  # the run record (and the check run) say how this attempt ended

    @property
    def run_url(self) -> str:
        return self.settings.run_url(self.run_id)

    async def execute(self) -> RunStatus:
        """Return the run's final status; lines logged meanwhile carry the run's ids (and only them)."""
        with log_context(repository=self.repo.full_name, pr=self.job.number):
            try:
                return await self._execute()
            except Exception as exc:
                if not self._settled:
                    await self._settle(exc)
                raise

    async def _execute(self) -> RunStatus:
        with self.timings.stage("fetch_pull"):
            pr = await self._open_run()
        if self.job.stale_check_run_ids:
            await close_check_runs(
                self.api, self.repo, self.job.stale_check_run_ids, title="Superseded", summary=SUPERSEDED
            )
        if pr.state != "open":
            await self._close_own_check("cancelled", "Cancelled", "The pull request is closed.")
            return await self._finish(
                RunUpdate(status=RunStatus.CANCELLED, error="the pull request is closed")
            )
        with self.timings.stage("load_config"):
            config = await load_repo_config(self.api, self.repo, pr.base_ref, server_defaults(self.settings))
        state = await self.store.pull_state(self.repo.full_name, pr.number)
        reason = unreadable_config_reason(config) or skip_reason(
            self.job, pr, config.config, paused=state.paused
        )
        if reason is None and await self._repo_paused():
            reason = "automatic reviews of this repository are paused (resume them from the dashboard)"
        if reason is not None:
            log.info("run %s: %s#%s not reviewed: %s", self.run_id, self.repo.full_name, pr.number, reason)
            await self._close_own_check("skipped", "Not reviewed", reason)
            return await self._finish(RunUpdate(status=RunStatus.SKIPPED, error=reason))
        limit = daily_limit(self.settings.max_cost_per_day, config.config)
        self.budget = await budget.today(self.store, self.repo.owner, limit, utcnow())
        if self.budget.exhausted:
            return await self._skip_over_budget(pr)
        self._checks = checks = CheckRunReporter(
            self.api, self.repo, pr, run_url=self.run_url, check_run_id=self.job.check_run_id
        )
        await checks.start()
        await self.store.update_run(self.run_id, RunUpdate(check_run_id=checks.check_run_id))
        try:
            return await self._review(pr, config, review_baseline(self.job, config.config, state), checks)
        except MiniReviewError as exc:
            retrying = isinstance(exc, RetryableError) and not self.final_attempt
            await checks.fail(str(exc), retrying=retrying)
            await self._finish(self._failed(str(exc)))
            if retrying:
                raise
            return RunStatus.FAILED

    async def _review(
        self, pr: PullRequestInfo, config: ConfigResult, baseline: str | None, checks: CheckRunReporter
    ) -> RunStatus:
        inputs = await gather_review_inputs(
            self.api,
            self.repo,
            pr,
            config,
            baseline=baseline,
            limits=plan_limits(self.settings),
            timings=self.timings,
        )
        with self.timings.stage("memory"):
            self.memory = await self._remember(pr.number)
        context = dataclasses.replace(
            inputs.context(), instructions=self.memory.instructions(inputs.config.instructions)
        )
        outcome = await self._ask_model(inputs, context)
        await self.progress.stage("publish")
        with self.timings.stage("place"):
            # One filter call: it remembers what it suppressed for the run page.
            kept = self.memory.filter([*outcome.findings, *outcome.context_cited])
            cited = {id(f) for f in outcome.context_cited}
            selection = select_findings(
                [f for f in kept if id(f) not in cited],
                inputs.config,
                only=self.job.only,
                files=inputs.diff.pr_files,
                context_cited=[f for f in kept if id(f) in cited],
            )
            known = await Deduplicator.load(
                self.api, self.store, self.repo, pr.number, bot_login=self.bot_login
            )
        stop = interruption(pr, await self.api.get_pull(self.repo, pr.number))
        if stop is not None:
            await checks.finish("neutral", stop.check_title, stop.check_summary)
            stopped = RunUpdate(status=stop.status, error=stop.error)
            return await self._finish(stopped.model_copy(update=self._spent.values()))
        facts = Facts(
            inputs=inputs,
            outcome=outcome,
            selection=selection,
            known_fingerprints=frozenset(known.known),
            only=self.job.only,
            run_url=self.run_url,
            duration_s=self.timings.elapsed(),
            spend=self.budget.describe() + " before this review",
            at=utcnow().isoformat(timespec="seconds"),
            job_id=self.job.run_id or "",
        )
        self._decision = decision = decide(facts)
        return await self._publish(inputs, decision, checks)

    async def _ask_model(self, inputs: ReviewInputs, context: PrContext) -> ReviewOutcome:
        """Review the plan's chunks; a retry of this job reuses the calls earlier attempts kept."""
        await self.progress.reviewing(len(inputs.plan.chunks), [c.path for c in inputs.plan.chunks])
        with self.timings.stage("model"):
            outcome = await self.reviewer.review(
                inputs.plan.chunks,
                context,
                instructions_for_path=inputs.instructions_for_path,
                on_chunk_done=self.progress.chunk_done,
                head_texts=inputs.head_texts,
                cache_key=repo_cache_key(self.repo.full_name),
                results=self._kept_results(inputs.pr),
            )
        self._spent = spend_record(outcome)  # recorded even when a later step fails
        return outcome

    def _kept_results(self, pr: PullRequestInfo) -> StoredCallResults | None:
        if self.job.run_id is None:
            return None  # not a queued job (nothing ties its attempts together): nothing to reuse
        return StoredCallResults(
            self.store,
            repo=self.repo.full_name,
            pr_number=pr.number,
            head_sha=pr.head_sha,
            job_run_id=self.job.run_id,
            run_id=self.run_id,
        )

    async def _publish(self, inputs: ReviewInputs, decision: Decision, checks: CheckRunReporter) -> RunStatus:
        with self.timings.stage("publish"):
            posted = await publish.post(
                self.api, self.repo, inputs.pr, decision, bot_login=self.bot_login, retry_of=self._retry_of()
            )
        if posted.earlier:
            # This job's review is on GitHub already; what this attempt found besides stays unposted,
            # so it is not remembered as shown (a later review may post it).
            log.info("run %s: review %s of an earlier attempt stands", self.run_id, posted.review_id)
            unposted = {fp for _, fp in decision.inline}
            shown = [kept for kept in decision.remember if kept[0] not in unposted]
            decision = dataclasses.replace(decision, inline=[], comments=[], remember=shown)
        await publish.remember(self.store, self.repo, inputs.pr, self.run_id, decision)
        if self.conversation is not None:
            pr = inputs.pr
            await record_posted(
                self.conversation, self.repo, pr.number, self.run_id, pr.head_sha, decision.inline
            )
        await checks.finish(decision.check.conclusion, decision.check.title, decision.check.summary)
        suppressed = [FindingRow.model_validate(row) for row in self.memory.rows()]
        record = decision.record.model_copy(
            update={
                "review_id": posted.review_id,
                "inline_count": len(decision.inline) - posted.moved,
                "findings": [*(decision.record.findings or []), *suppressed],
            }
        )
        await self._track_fixes(inputs.pr)
        outcomes = [row.outcome for row in record.findings or []]
        record_comments(
            posted=len(decision.inline) - posted.moved,
            summarised=sum(o.startswith("summary") for o in outcomes) + posted.moved,
            deduplicated=outcomes.count("already posted earlier"),
        )
        return await self._finish(record)

    def _retry_of(self) -> str:
        """The job's planned run id when this attempt is a retry (an earlier one may have posted)."""
        return self.job.run_id if self.job.run_id and self.run_id != self.job.run_id else ""

    def _talks(self) -> tuple[ConversationGitHub, ConversationStore, StructuredModel] | None:
        """The conversation adapters, when this run has them all (unit-test fakes may not)."""
        if self.conversation is None or self.model is None or not isinstance(self.api, ConversationGitHub):
            return None
        return self.api, self.conversation, self.model

    async def _remember(self, number: int) -> ReviewMemory:
        talks = self._talks()
        if talks is None:
            return ReviewMemory()
        return await remember(*talks, self.settings, self.repo, number, bot_login=self.bot_login)

    async def _track_fixes(self, pr: PullRequestInfo) -> None:
        talks = self._talks()
        if talks is not None:
            with self.timings.stage("track_fixes"):
                await track_fixes(
                    *talks, self.settings, self.repo, pr.number, pr.head_sha, bot_login=self.bot_login
                )

    async def _open_run(self) -> PullRequestInfo:
        pr = await self.api.get_pull(self.repo, self.job.number)
        if await self.store.get_run(self.run_id) is not None:
            self.run_id = new_run_id()  # a retry of this job: its first attempt keeps its own record
            self.progress = RunProgress(self.dashboard, self.run_id)
        await self.store.start_run(
            self.run_id,
            repo=self.repo.full_name,
            pr_number=pr.number,
            trigger=self.job.trigger,
            head_sha=pr.head_sha,
        )
        self._started = True
        await self.progress.started(pr_title=pr.title, installation_id=self.repo.installation_id)
        bind_log_context(run_id=self.run_id)
        return pr

    async def _repo_paused(self) -> bool:
        """A writer paused automatic reviews of the whole repository from the dashboard."""
        if not self.job.trigger.startswith(AUTOMATIC_TRIGGERS):
            return False
        return await self.progress.repo_paused(self.repo.full_name)

    async def _skip_over_budget(self, pr: PullRequestInfo) -> RunStatus:
        """Skip, saying why in the check run and, once per PR and day, in the PR's conversation."""
        reason = over_budget_reason(self.budget)
        log.warning("run %s: %s#%s not reviewed: %s", self.run_id, self.repo.full_name, pr.number, reason)
        marker = budget_marker(utcnow())
        own = self.bot_login.lower()
        told = any(
            t.user_login.lower() == own and marker in t.body
            for t in await self.api.list_issue_comment_texts(self.repo, pr.number)
        )
        if not told:
            text = f"**mini-review did not review this pull request:** {reason}.\n\n{marker}"
            await self.api.create_issue_comment(self.repo, pr.number, text)
        await self._close_own_check("skipped", "Not reviewed: daily budget used up", reason)
        return await self._finish(RunUpdate(status=RunStatus.SKIPPED, error=reason))

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

    async def _settle(self, exc: Exception) -> None:
        """An error escaped this attempt: fail its run record, leave its check run retrying or failed.

        Best effort: the worker still sees the original error (to retry, or to give up and close
        whatever this could not).
        """
        retrying = not self.final_attempt and not isinstance(exc, PermanentError)
        reason = public_reason(exc)
        then = "It will be tried again." if retrying else "It was not completed."
        summary = f"The review stopped: {reason}. {then}"
        try:
            await self._settle_check(summary, retrying=retrying)
            if self._started:
                await self._finish(self._failed(f"stopped: {reason}"))
        except Exception:  # noqa: BLE001 - GitHub or the database is down too: the next attempt or the give-up closes
            log.warning("run %s: recording how it ended failed", self.run_id, exc_info=True)

    async def _settle_check(self, summary: str, *, retrying: bool) -> None:
        if self._checks is not None:  # started: it may have been created by this attempt
            await self._checks.fail(summary, retrying=retrying, conclusion="failure")
        elif self.job.check_run_id is not None and retrying:
            await mark_retrying(self.api, self.repo, self.job.check_run_id, summary)
        elif self.job.check_run_id is not None:
            await close_check_runs(
                self.api,
                self.repo,
                [self.job.check_run_id],
                title=FAILED_TITLE,
                summary=summary,
                conclusion="failure",
            )

    def _failed(self, error: str) -> RunUpdate:
        # What was decided before the failure (e.g. while posting) still explains the run.
        decided = self._decision.record if self._decision is not None else RunUpdate()
        failed = RunUpdate(
            status=RunStatus.FAILED, error=error, skipped=decided.skipped, failed_chunks=decided.failed_chunks
        )
        # The calls were paid for: the day's budget counts them on this run (a retry reuses them free).
        return failed.model_copy(update=self._spent.values())

    async def _finish(self, record: RunUpdate) -> RunStatus:
        assert record.status is not None
        update = {"finished_at": utcnow(), "timings": self.timings.record()}
        for name in ("findings", "skipped", "failed_chunks"):
            if getattr(record, name) is None:
                update[name] = []
        await self.store.update_run(self.run_id, record.model_copy(update=update))
        self._settled = True
        record_run(self.job.trigger, record.status, self.timings.elapsed(), record.cost_usd or 0.0)
        return record.status
