"""Review one unified diff with the App's engine: parse, skip, chunk, call the model, rank, place.

The same pure core as a pull-request review (diff model, filters, plan, reviewer, signal, placement,
fingerprints); only the source of the diff and the destination of the findings differ.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.config.policy import path_instructions_for
from app.config.repo_config import RepoConfig
from app.diff.filters import FilterRules
from app.diff.model import FileDiff, Side
from app.diff.parse import parse_unified_diff
from app.diff.plan import ReviewPlan, SkippedFile, plan_review
from app.diff.render import render_chunk
from app.publish.fingerprint import finding_code, fingerprint
from app.publish.placement import FileNote, PlacedComment, PrNote, place_findings
from app.review.findings import Category, Finding, Severity
from app.review.llm import ModelClient
from app.review.prompts import PrContext
from app.review.redact import is_secret_finding
from app.review.reviewer import ChunkFailure, ReviewerConfig, ReviewOutcome, review_chunks
from app.review.signal import merge_duplicates, select_inline
from app.review.usage import Usage


@dataclass(frozen=True, slots=True)
class LocalFinding:
    """A finding that passed the thresholds, with where it sits (line None: about the file or PR)."""

    finding: Finding
    path: str
    fingerprint: str
    line: int | None = None
    start_line: int | None = None
    side: Side | None = None
    code: str | None = None  # the text of the anchored line
    placed: PlacedComment | None = None

    @property
    def head_line(self) -> int | None:
        """The line in the head version, or None (removed lines and file-level findings have none)."""
        return self.line if self.side is Side.RIGHT else None


@dataclass(frozen=True, slots=True)
class ReviewInput:
    """What to review and how: the diff, the repository's config, and the plan's limits."""

    diff: bytes
    config: RepoConfig
    gitattributes: str = ""
    only: frozenset[Category] | None = None
    title: str = ""
    description: str = ""
    chunk_tokens: int = 12_000
    max_chunks: int | None = None
    max_tokens: int | None = None


@dataclass
class LocalReport:
    files: dict[str, FileDiff]
    plan: ReviewPlan
    findings: list[LocalFinding] = field(default_factory=list)
    below_threshold: int = 0
    dropped: int = 0  # findings about files outside the diff
    failed: list[ChunkFailure] = field(default_factory=list)
    not_sent: list[ChunkFailure] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    duration_s: float = 0.0

    @property
    def skipped(self) -> list[SkippedFile]:
        return self.plan.skipped

    @property
    def files_reviewed(self) -> int:
        return len({chunk.path for chunk in self.plan.chunks})

    @property
    def every_chunk_failed(self) -> bool:
        return bool(self.plan.chunks) and len(self.failed) == len(self.plan.chunks)


def _prepare(request: ReviewInput) -> tuple[dict[str, FileDiff], ReviewPlan]:
    files = parse_unified_diff(request.diff)
    rules = FilterRules.from_config(
        tuple(request.config.paths.include),
        tuple(request.config.paths.exclude),
        gitattributes=request.gitattributes,
    )
    plan = plan_review(
        files,
        rules,
        chunk_budget_tokens=request.chunk_tokens,
        max_chunks=request.max_chunks,
        max_tokens=request.max_tokens,
    )
    return {f.path: f for f in files}, plan


def _enabled(findings: list[Finding], cfg: RepoConfig, only: frozenset[Category] | None) -> list[Finding]:
    enabled = {c for c in Category if getattr(cfg.categories, c.value)}
    if only is not None:
        enabled &= only
    # Secret findings are the app's own safety net: always kept.
    return [f for f in findings if f.category in enabled or is_secret_finding(f)]


def _located(item: PlacedComment | FileNote | PrNote, files: dict[str, FileDiff]) -> LocalFinding:
    finding = item.finding
    if isinstance(item, PlacedComment):
        diff = files.get(item.path)
        code = finding_code(item, diff)
        return LocalFinding(
            finding=finding,
            path=item.path,
            fingerprint=fingerprint(item.path, finding.category.value, code),
            line=item.line,
            start_line=item.start_line,
            side=item.side,
            code=code if diff is not None else None,
            placed=item,
        )
    path = item.path if isinstance(item, FileNote) else finding.path
    return LocalFinding(
        finding=finding,
        path=path,
        fingerprint=fingerprint(path, finding.category.value, finding.quote),
    )


def decide(report: LocalReport, outcome: ReviewOutcome, request: ReviewInput) -> None:
    """Rank, threshold and place the model's findings into `report` (pure)."""
    cfg = request.config
    findings, _ = merge_duplicates(_enabled(outcome.findings, cfg, request.only))
    shown, rest = select_inline(
        findings,
        min_severity=Severity(cfg.min_severity),
        min_confidence=cfg.min_confidence,
        max_inline=len(findings),  # a local report has no inline cap: every finding over the bar shows
    )
    report.below_threshold = len(rest)
    placement = place_findings(report.files, shown)
    report.dropped = len(placement.dropped)
    items: list[PlacedComment | FileNote | PrNote] = [*placement.inline, *placement.file_notes]
    items += placement.pr_notes
    located = [_located(item, report.files) for item in items]
    report.findings = sorted(located, key=lambda f: (f.path, f.line or 0, -f.finding.severity.rank))


async def review_diff(
    request: ReviewInput,
    model: ModelClient,
    reviewer: ReviewerConfig,
    *,
    on_planned: Callable[[int], None] | None = None,
) -> LocalReport:
    """Review `request.diff` and return everything a report format needs."""
    started = time.monotonic()
    # Parsing and planning a large diff is CPU work: keep it off the event loop.
    files, plan = await asyncio.to_thread(_prepare, request)
    if on_planned is not None:
        on_planned(len(plan.chunks))
    cfg = request.config
    outcome = await review_chunks(
        plan.chunks,
        PrContext(
            title=request.title,
            body=request.description,
            files=list(files),
            instructions=cfg.instructions,
        ),
        model,
        reviewer,
        render=render_chunk,
        instructions_for_path=lambda path: path_instructions_for(cfg, path),
    )
    report = LocalReport(files=files, plan=plan, failed=outcome.failed, not_sent=outcome.not_sent)
    report.usage = outcome.usage + outcome.escalation_usage
    report.cost_usd = outcome.cost_usd
    decide(report, outcome, request)
    report.duration_s = time.monotonic() - started
    return report
