"""gather: the I/O before the model. The PR's diff, the plan, and what the PR already shows."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.config.policy import path_instructions_for
from app.config.repo_config import ConfigResult, RepoConfig
from app.diff.plan import PathKind, ReviewPlan, classify_path, plan_review
from app.github.models import PullRequestInfo, RepoRef
from app.pipeline.files import PullDiff, load_head_texts, load_pull_diff
from app.pipeline.ports import GitHubPort
from app.pipeline.timings import Timings
from app.review.prompts import PrContext


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """Server-wide limits on what one review may send (from Settings)."""

    chunk_tokens: int
    max_chunks: int | None
    max_input_tokens: int | None


@dataclass(frozen=True, slots=True)
class ReviewInputs:
    """Everything fetched for one review of one PR head, before any model call."""

    pr: PullRequestInfo
    config: RepoConfig
    config_errors: list[str]
    diff: PullDiff
    plan: ReviewPlan
    head_texts: dict[str, str] = field(default_factory=dict)  # head versions of reviewed files

    def context(self) -> PrContext:
        """What the model is told about the PR besides the chunk itself."""
        return PrContext(
            title=self.pr.title,
            body=self.pr.body or "",
            files=[f.path for f in self.diff.pr_files.values()],
            instructions=self.config.instructions,
            test_files=[p for p in self.diff.pr_files if classify_path(p) is PathKind.TEST],
        )

    def instructions_for_path(self, path: str) -> Sequence[str]:
        return path_instructions_for(self.config, path)


async def gather_review_inputs(
    api: GitHubPort,
    repo: RepoRef,
    pr: PullRequestInfo,
    config: ConfigResult,
    *,
    baseline: str | None,
    limits: PlanLimits,
    timings: Timings,
) -> ReviewInputs:
    """Fetch the PR's diff (only what changed since `baseline`, when given) and plan the chunks."""
    with timings.stage("fetch_files"):
        diff = await load_pull_diff(api, repo, pr, last_reviewed_head=baseline)
    with timings.stage("plan"):
        # Filters, chunking and token counts over up to 3,000 files: in a thread, off the event loop.
        plan = await asyncio.to_thread(
            plan_review,
            diff.review_files,
            diff.filter_rules(config.config),
            chunk_budget_tokens=limits.chunk_tokens,
            max_chunks=limits.max_chunks,
            max_tokens=limits.max_input_tokens,
        )
    with timings.stage("fetch_context"):
        reviewed = {c.path for c in plan.chunks}
        head_texts = await load_head_texts(
            api, repo, pr.head_sha, [f for f in diff.review_files if f.path in reviewed]
        )
    return ReviewInputs(
        pr=pr, config=config.config, config_errors=config.errors, diff=diff, plan=plan, head_texts=head_texts
    )
