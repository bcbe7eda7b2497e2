"""`decide` on plain values: no GitHub, no store, no model."""

from __future__ import annotations

import pytest

from app.config.repo_config import RepoConfig
from app.diff.filters import FilterRules, SkipReason
from app.diff.plan import ReviewPlan, SkippedFile, plan_review
from app.pipeline.decide import (
    Facts,
    baseline_moves,
    decide,
    interruption,
    keep_categories,
    review_baseline,
    select_findings,
    skip_reason,
)
from app.pipeline.files import PullDiff, to_file_diff
from app.pipeline.gather import ReviewInputs
from app.review.findings import Category, Severity
from app.review.redact import SECRET_TITLE
from app.review.reviewer import ChunkFailure, ReviewOutcome
from app.storage.models import PullState, RunStatus
from tests.unit.pipeline.builders import REPO, added_file, finding, job, pull, source

PATH = "src/total.py"


def _inputs(cfg: RepoConfig | None = None, lines: int = 10) -> ReviewInputs:
    files = {PATH: to_file_diff(added_file(PATH, source(lines)))}
    plan = plan_review(list(files.values()), FilterRules.from_config((), ()))
    diff = PullDiff(pr_files=files, review_files=list(files.values()))
    return ReviewInputs(pr=pull(), config=cfg or RepoConfig(), config_errors=[], diff=diff, plan=plan)


def _facts(
    outcome: ReviewOutcome, inputs: ReviewInputs | None = None, known: frozenset[str] = frozenset()
) -> Facts:
    inputs = inputs or _inputs()
    selection = select_findings(outcome.findings, inputs.config, only=None, files=inputs.diff.pr_files)
    return Facts(
        inputs=inputs,
        outcome=outcome,
        selection=selection,
        known_fingerprints=known,
        only=None,
        run_url="https://review.example/runs/1",
        duration_s=1.5,
    )


def test_requested_reviews_are_never_skipped_unless_disabled() -> None:
    cfg = RepoConfig.model_validate({"auto_review": {"enabled": False}})
    assert skip_reason(job(trigger="command:review"), pull(draft=True), cfg, paused=True) is None
    assert skip_reason(job(trigger="check_run.rerequested"), pull(), cfg, paused=True) is None
    disabled = RepoConfig(enabled=False)
    assert "enabled: false" in str(skip_reason(job(trigger="command:review"), pull(), disabled, paused=False))


def test_automatic_reviews_are_skipped_while_paused() -> None:
    assert "paused" in str(skip_reason(job(), pull(), RepoConfig(), paused=True))
    assert skip_reason(job(), pull(), RepoConfig(), paused=False) is None


@pytest.mark.parametrize(
    ("review", "cfg", "expected"),
    [
        (job(), RepoConfig(), "h0"),
        (job(full=True), RepoConfig(), None),
        (job(), RepoConfig(incremental=False), None),
    ],
)
def test_the_review_baseline(review: object, cfg: RepoConfig, expected: str | None) -> None:
    state = PullState(repo=REPO.full_name, pr_number=7, last_reviewed_head="h0")
    assert review_baseline(review, cfg, state) == expected  # type: ignore[arg-type]


def test_no_baseline_before_the_first_complete_review() -> None:
    assert review_baseline(job(), RepoConfig(), PullState(repo=REPO.full_name, pr_number=7)) is None


def test_interruptions() -> None:
    pr = pull()
    assert interruption(pr, pr) is None
    moved = interruption(pr, pull(head="ab" * 20))
    assert moved is not None and moved.status is RunStatus.SUPERSEDED and "abababa" in moved.check_summary
    closed = interruption(pr, pull(state="closed"))
    assert closed is not None and closed.status is RunStatus.CANCELLED


def _plan(skipped: list[SkippedFile]) -> ReviewPlan:
    return ReviewPlan(
        chunks=[], skipped=skipped, lines_total=0, lines_sent=0, lines_skipped=0, tokens_planned=0
    )


def test_a_file_over_the_plan_budget_keeps_the_baseline() -> None:
    generated = [SkippedFile("package-lock.json", SkipReason.GENERATED, 900)]
    over = [SkippedFile("big.py", SkipReason.OVER_BUDGET, 900)]
    assert baseline_moves(_plan(generated), ReviewOutcome(), only=None)
    assert not baseline_moves(_plan(over), ReviewOutcome(), only=None)
    assert not baseline_moves(_plan([]), ReviewOutcome(), only=["risk"])


def test_secret_findings_survive_category_filters() -> None:
    secret = finding(PATH, 2, category=Category.RISK, title=SECRET_TITLE)
    lint = finding(PATH, 3, category=Category.LINT)
    risk = finding(PATH, 4, category=Category.RISK)
    cfg = RepoConfig.model_validate({"categories": {"risk": False}})
    assert keep_categories([secret, lint, risk], cfg, None) == [secret, lint]
    assert keep_categories([secret, lint, risk], RepoConfig(), ["test"]) == [secret]


def test_a_posted_review_is_decided_with_its_record() -> None:
    outcome = ReviewOutcome(findings=[finding(PATH, 3), finding(PATH, 5, severity=Severity.NIT)])
    decision = decide(_facts(outcome))
    assert [(c["path"], c["line"]) for c in decision.comments] == [(PATH, 3)]
    assert decision.move_baseline and decision.check.conclusion == "neutral"
    assert decision.record.status is RunStatus.POSTED and decision.record.summary == decision.check.summary
    assert decision.review_body is not None and "1 new inline comment" in decision.review_body
    assert "Unresolved" not in decision.review_body  # notes live in the summary comment, not the review
    outcomes = sorted(f.outcome for f in decision.record.findings or [])
    assert outcomes == ["inline comment", "summary: below thresholds or over the inline cap"]
    # Both the inline comment and the summary note are remembered, so neither is repeated.
    assert len(decision.remember) == 2


def test_known_fingerprints_are_not_posted_again() -> None:
    facts = _facts(ReviewOutcome(findings=[finding(PATH, 3)]))
    first = decide(facts)
    again = decide(_facts(facts.outcome, known=frozenset(fp for fp, _ in first.remember)))
    assert again.comments == [] and again.remember == []


def test_when_every_chunk_failed_the_summary_says_so_and_its_notes_count_as_shown() -> None:
    inputs = _inputs()
    failures = [ChunkFailure(c.path, c.part, c.parts, "quota exceeded") for c in inputs.plan.chunks]
    secret = finding(PATH, 2, title=SECRET_TITLE)
    nit = finding(PATH, 4, severity=Severity.NIT)
    decision = decide(_facts(ReviewOutcome(findings=[secret, nit], failed=failures), inputs))
    assert decision.record.status is RunStatus.FAILED and decision.record.error == "quota exceeded"
    assert [c["line"] for c in decision.comments] == [2]  # the secret warning stands on its own
    # The living summary still shows the note (with the failure on top): it is remembered as shown.
    assert [path for _, path in decision.remember] == [PATH, PATH]
    assert "could not review this pull request: quota exceeded" in decision.summary.notices[0]
    assert decision.check.title.startswith("Review failed") and not decision.move_baseline


def test_nothing_new_inline_means_no_review_only_the_summary() -> None:
    decision = decide(_facts(ReviewOutcome(findings=[finding(PATH, 5, severity=Severity.NIT)])))
    assert decision.comments == [] and decision.review_body is None
    assert decision.entry.findings == 1 and decision.entry.inline == 0
