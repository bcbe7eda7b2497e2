"""A whole ReviewRun on in-process port fakes: what GitHub and the store end up with, per situation."""

from __future__ import annotations

from typing import Any

import pytest

from app.errors import GitHubRetryableError, ModelError
from app.github.models import RepoRef
from app.review.findings import Category, Severity
from app.review.redact import SECRET_TITLE
from app.storage.models import PullState, ReviewMode, RunStatus
from tests.fakes.ports import MemoryGitHub, MemoryStore
from tests.unit.pipeline.builders import REPO, added_file, finding, job, pull, source
from tests.unit.pipeline.harness import Bench

TOTAL = "src/total.py"
TAX = "src/tax.py"


@pytest.fixture
def bench() -> Bench:
    bench = Bench()
    bench.open_pr([added_file(TOTAL, source(10)), added_file(TAX, source(6, "rate"))])
    return bench


async def test_a_review_posts_inline_comments_and_records_the_run(bench: Bench) -> None:
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run() is RunStatus.POSTED
    review = bench.only_review()
    assert review.commit_id == pull().head_sha
    assert [(c["path"], c["line"], c["side"]) for c in review.comments] == [(TOTAL, 3, "RIGHT")]
    assert "Total ignores tax" in str(review.comments[0]["body"])
    check = bench.github.final_check()
    assert (check["status"], check["conclusion"]) == ("completed", "neutral")
    run = bench.store.only_run()
    assert run.status is RunStatus.POSTED and run.mode is ReviewMode.FULL
    assert (run.inline_count, run.review_id, run.files_total, run.files_reviewed) == (1, review.id, 2, 2)
    assert [(f.path, f.line, f.outcome) for f in run.findings] == [(TOTAL, 3, "inline comment")]
    assert run.summary is not None and run.summary in bench.summary() and run.finished_at is not None
    assert "1 new inline comment" in review.body and "/runs/" in review.body
    assert run.model_calls == 2 and run.prompt_tokens == 2000
    assert {"fetch_pull", "load_config", "fetch_files", "plan", "model", "place", "publish", "total"} <= set(
        run.timings
    )
    assert bench.baseline() == pull().head_sha


async def test_no_findings_is_a_successful_check(bench: Bench) -> None:
    assert await bench.run() is RunStatus.POSTED
    check = bench.github.final_check()
    assert (check["conclusion"], check["title"]) == ("success", "No findings")
    assert bench.reviews() == []  # nothing to say inline: no review at all
    assert "no findings" in bench.summary()


@pytest.mark.parametrize(
    ("fail_on", "severity", "conclusion"),
    [
        (None, Severity.CRITICAL, "neutral"),
        ("major", Severity.MINOR, "neutral"),
        ("major", Severity.MAJOR, "failure"),
        ("major", Severity.CRITICAL, "failure"),
        ("critical", Severity.MAJOR, "neutral"),
        ("critical", Severity.CRITICAL, "failure"),
    ],
)
async def test_fail_on_sets_the_check_conclusion(
    bench: Bench, fail_on: str | None, severity: Severity, conclusion: str
) -> None:
    if fail_on is not None:
        bench.config(f"fail_on: {fail_on}\n")
    bench.answer({TOTAL: [finding(TOTAL, 2, severity=severity)]})
    await bench.run()
    assert bench.github.final_check()["conclusion"] == conclusion


async def test_fail_on_ignores_findings_below_the_shown_thresholds(bench: Bench) -> None:
    # A low-confidence note in the summary cannot explain a failed check (issue 10).
    bench.config("fail_on: major\n")
    bench.answer({TOTAL: [finding(TOTAL, 2, severity=Severity.CRITICAL, confidence=0.2)]})
    await bench.run()
    assert bench.reviews() == [] and "Total ignores tax" in bench.summary()
    assert bench.github.final_check()["conclusion"] == "neutral"


async def test_fail_on_ignores_severities_below_min_severity(bench: Bench) -> None:
    bench.config("fail_on: major\nmin_severity: critical\n")
    bench.answer({TOTAL: [finding(TOTAL, 2, severity=Severity.MAJOR)]})
    await bench.run()
    assert bench.github.final_check()["conclusion"] == "neutral"


async def test_fail_on_ignores_findings_about_files_outside_the_pr(bench: Bench) -> None:
    bench.config("fail_on: major\n")
    bench.answer({TOTAL: [finding("not/in/this/pr.py", 2, severity=Severity.CRITICAL)]})
    await bench.run()
    assert bench.github.final_check()["conclusion"] != "failure"


async def test_fail_on_counts_findings_over_the_inline_cap(bench: Bench) -> None:
    # Over the cap, a finding that meets the thresholds is still shown (in the summary) and counts.
    bench.config("fail_on: major\nmax_inline_comments: 0\n")
    bench.answer({TOTAL: [finding(TOTAL, 2, severity=Severity.MAJOR)]})
    await bench.run()
    assert bench.reviews() == []  # over the cap: shown in the summary comment, no review
    assert bench.github.final_check()["conclusion"] == "failure"


# -- skip reasons -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("config", "pr_values", "paused", "reason"),
    [
        ("enabled: false\n", {}, False, "disabled for this repository"),
        ("", {}, True, "paused on this PR"),
        ("", {"draft": True}, False, "draft PR"),
        ("", {"title": "WIP: checkout"}, False, "title matches 'WIP'"),
        ("auto_review:\n  enabled: false\n", {}, False, "automatic reviews are off"),
    ],
)
async def test_automatic_reviews_skip_with_a_reason(
    config: str, pr_values: dict[str, object], paused: bool, reason: str
) -> None:
    bench = Bench()
    bench.open_pr([added_file(TOTAL, source(3))], pull(**pr_values))  # type: ignore[arg-type]
    bench.config(config)
    bench.store.states[(REPO.full_name, 7)] = PullState(repo=REPO.full_name, pr_number=7, paused=paused)
    queued = await bench.github.create_check_run(
        REPO, head_sha="h", name="mini-review", status="queued", details_url="u", external_id="e"
    )
    assert await bench.run(job(check_run_id=queued)) is RunStatus.SKIPPED
    run = bench.store.only_run()
    assert run.error is not None and reason in run.error
    assert bench.reviewer.calls == [] and bench.reviews() == []
    check = bench.github.final_check(queued)
    assert (check["status"], check["conclusion"], check["title"]) == ("completed", "skipped", "Not reviewed")


async def test_a_requested_review_ignores_pause_and_auto_review_rules() -> None:
    bench = Bench()
    bench.open_pr([added_file(TOTAL, source(3))], pull(draft=True, title="WIP"))
    bench.store.states[(REPO.full_name, 7)] = PullState(repo=REPO.full_name, pr_number=7, paused=True)
    assert await bench.run(job(trigger="command:review")) is RunStatus.POSTED
    assert bench.reviewed_paths() == [TOTAL]


async def test_a_requested_review_still_respects_enabled_false() -> None:
    bench = Bench()
    bench.open_pr([added_file(TOTAL, source(3))])
    bench.config("enabled: false\n")
    assert await bench.run(job(trigger="command:review")) is RunStatus.SKIPPED


# -- superseded and cancelled -------------------------------------------------------------------------
async def test_a_closed_pr_is_not_reviewed(bench: Bench) -> None:
    bench.github.pulls[7].info = pull(state="closed")
    assert await bench.run() is RunStatus.CANCELLED
    assert bench.reviewer.calls == [] and bench.reviews() == []
    assert bench.store.only_run().error == "the pull request is closed"


async def test_new_commits_during_the_review_supersede_it(bench: Bench) -> None:
    bench.github.pulls[7].later = [pull(head="h2" * 20)]
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run() is RunStatus.SUPERSEDED
    assert bench.reviews() == []
    assert bench.github.final_check()["title"] == "Superseded"
    assert bench.github.final_check()["conclusion"] == "neutral"
    assert bench.baseline() is None
    assert bench.store.fingerprints == {}


async def test_closing_the_pr_during_the_review_cancels_it(bench: Bench) -> None:
    bench.github.pulls[7].later = [pull(state="closed")]
    assert await bench.run() is RunStatus.CANCELLED
    assert bench.reviews() == []
    assert bench.github.final_check()["title"] == "Review cancelled"


async def test_stale_queued_checks_are_closed_as_superseded(bench: Bench) -> None:
    stale = await bench.github.create_check_run(
        REPO, head_sha="old", name="mini-review", status="queued", details_url="u", external_id="e"
    )
    await bench.run(job(stale_check_run_ids=[stale]))
    assert bench.github.final_check(stale)["title"] == "Superseded"
    assert bench.github.final_check(stale)["status"] == "completed"


# -- incremental baseline ---------------------------------------------------------------------------
def _reviewed_before(bench: Bench, head: str) -> None:
    bench.store.states[(REPO.full_name, 7)] = PullState(
        repo=REPO.full_name, pr_number=7, last_reviewed_head=head
    )


async def test_an_incremental_review_looks_only_at_what_changed_since_the_baseline(bench: Bench) -> None:
    _reviewed_before(bench, "h0" * 20)
    # The PR's diff at the baseline (base...baseline) had src/total.py only: src/tax.py is new.
    bench.github.compares[(pull().base_sha, "h0" * 20)] = [added_file(TOTAL, source(10))]
    assert await bench.run() is RunStatus.POSTED
    assert bench.reviewed_paths() == [TAX]
    run = bench.store.only_run()
    assert run.mode is ReviewMode.INCREMENTAL
    assert "Incremental review of the changes since h0h0h0h" in bench.summary()
    assert bench.baseline() == pull().head_sha


@pytest.mark.parametrize(
    ("review", "config"),
    [(job(full=True), ""), (job(), "incremental: false\n")],
    ids=["full-review", "incremental-off"],
)
async def test_full_reviews_ignore_the_baseline(bench: Bench, review: object, config: str) -> None:
    _reviewed_before(bench, "h0" * 20)
    bench.github.compares[(pull().base_sha, "h0" * 20)] = [added_file(TOTAL, source(10))]
    bench.config(config)
    await bench.run(review)  # type: ignore[arg-type]
    assert bench.reviewed_paths() == [TAX, TOTAL]
    assert bench.store.only_run().mode is ReviewMode.FULL


async def test_a_force_pushed_baseline_means_a_full_review(bench: Bench) -> None:
    _reviewed_before(bench, "gone" * 10)  # compare answers None: not in the branch any more
    await bench.run()
    assert bench.reviewed_paths() == [TAX, TOTAL]
    assert "no longer in the branch (force-push)" in bench.summary()


async def test_a_base_update_that_leaves_the_prs_own_diff_alone_reviews_nothing(bench: Bench) -> None:
    _reviewed_before(bench, "h0" * 20)
    bench.github.compares[(pull().base_sha, "h0" * 20)] = [
        added_file(TOTAL, source(10)),
        added_file(TAX, source(6, "rate")),
    ]
    assert await bench.run() is RunStatus.POSTED
    assert bench.reviewed_paths() == [] and bench.reviews() == []
    assert "nothing new to review" in bench.summary()
    assert bench.baseline() == pull().head_sha


async def test_a_capped_comparison_means_a_full_review_and_says_why(bench: Bench) -> None:
    _reviewed_before(bench, "h0" * 20)
    bench.github.compares[(pull().base_sha, "h0" * 20)] = "truncated"
    await bench.run()
    assert bench.reviewed_paths() == [TAX, TOTAL]
    summary = bench.summary()
    assert "stops at 300 files" in summary and "force-push" not in summary


@pytest.mark.parametrize(
    ("situation", "moves"),
    [("complete", True), ("failed chunk", False), ("budget", False), ("only", False)],
)
async def test_only_a_complete_review_moves_the_baseline(bench: Bench, situation: str, moves: bool) -> None:
    review = job()
    if situation == "failed chunk":
        bench.answer({TAX: ModelError("gateway timeout")})
    elif situation == "budget":
        bench.reviewer.budget_chunks = 1
    elif situation == "only":
        review = job(only=["lint"])
    assert await bench.run(review) is RunStatus.POSTED
    assert bench.baseline() == (pull().head_sha if moves else None)


# -- 422 fallback --------------------------------------------------------------------------------------
async def test_a_refused_comment_moves_into_the_body_and_the_rest_stay_inline(bench: Bench) -> None:
    # GitHub's diff changes right after our fetch: TAX's line 5 is no longer on it.
    bench.github.pulls[7].files_after_fetch = [
        added_file(TOTAL, source(10)),
        added_file(TAX, source(2, "rate")),
    ]
    bench.answer(
        {
            TOTAL: [finding(TOTAL, 3)],
            TAX: [finding(TAX, 5, quote="rate_5 = compute(5)", title="Rate is rounded twice")],
        }
    )
    assert await bench.run() is RunStatus.POSTED
    assert bench.github.rejected_reviews == 1
    review = bench.only_review()
    assert [(c["path"], c["line"]) for c in review.comments] == [(TOTAL, 3)]
    assert "Comments GitHub refused inline" in review.body and "Rate is rounded twice" in review.body
    assert bench.store.only_run().inline_count == 1


async def test_when_no_comment_fits_any_more_all_move_into_the_body(bench: Bench) -> None:
    bench.github.pulls[7].files_after_fetch = [added_file("src/other.py", source(3))]
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run() is RunStatus.POSTED
    review = bench.only_review()
    assert review.comments == [] and "Total ignores tax" in review.body
    assert bench.store.only_run().inline_count == 0


# -- failed chunks, secrets, budget --------------------------------------------------------------------
async def test_a_failed_chunk_is_reported_and_the_rest_is_posted(bench: Bench) -> None:
    bench.answer({TOTAL: [finding(TOTAL, 3)], TAX: ModelError("gateway timeout")})
    assert await bench.run() is RunStatus.POSTED
    review = bench.only_review()
    assert len(review.comments) == 1 and "gateway timeout" in bench.summary()
    run = bench.store.only_run()
    assert [(c.chunk, c.error) for c in run.failed_chunks] == [(f"{TAX} (part 1/1)", "gateway timeout")]


async def test_when_every_chunk_fails_the_run_fails_and_says_so(bench: Bench) -> None:
    bench.answer({TOTAL: ModelError("quota exceeded"), TAX: ModelError("quota exceeded")})
    assert await bench.run() is RunStatus.FAILED
    assert bench.reviews() == []
    assert "could not review this pull request: quota exceeded" in bench.summary()
    check = bench.github.final_check()
    assert check["conclusion"] == "neutral" and check["title"].startswith("Review failed")
    run = bench.store.only_run()
    assert run.error == "quota exceeded" and bench.baseline() is None


SECRET_LINE = 'AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ9sL2vT4k"'


@pytest.mark.parametrize("model", ["fails", "limited to lint"])
async def test_secret_findings_are_posted_whatever_the_model_or_filters_do(model: str) -> None:
    bench = Bench()
    bench.open_pr([added_file("settings.py", ["DEBUG = False", SECRET_LINE])])
    review = job()
    if model == "fails":
        bench.answer({"settings.py": ModelError("timeout")})
    else:
        review = job(only=["lint"])
    await bench.run(review)
    comments = bench.only_review().comments
    assert [(c["path"], c["line"]) for c in comments] == [("settings.py", 2)]
    assert SECRET_TITLE in str(comments[0]["body"])
    assert "wJalrXUtnFEMI" not in str(comments[0]["body"])


async def test_budget_exhaustion_lists_what_was_not_sent(bench: Bench) -> None:
    bench.reviewer.budget_chunks = 1
    assert await bench.run() is RunStatus.POSTED
    body = bench.summary()
    assert "Per-PR budget reached: 1 chunk(s) were not sent to the model." in body
    run = bench.store.only_run()
    not_sent = [s for s in run.skipped if s.reason == "not sent: budget reached"]
    assert len(not_sent) == 1 and not_sent[0].path in (TOTAL, TAX)
    assert len(bench.reviewer.calls) == 1


# -- memory across runs -------------------------------------------------------------------------------
async def test_a_second_review_does_not_repeat_a_comment(bench: Bench) -> None:
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    await bench.run()
    await bench.run(job(trigger="command:full-review", full=True))
    [first] = bench.reviews()  # the second run had nothing new inline: no review
    assert len(first.comments) == 1 and "Run history (2)" in bench.summary()
    outcomes = [f.outcome for f in list(bench.store.runs.values())[1].findings]
    assert outcomes == ["already posted earlier"]


async def test_comments_are_not_repeated_even_when_the_database_forgot_them(bench: Bench) -> None:
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    await bench.run()
    bench.store.fingerprints.clear()  # a lost database: the markers on GitHub still tell
    await bench.run(job(full=True))
    assert len(bench.reviews()) == 1 and len(bench.reviews()[0].comments) == 1


async def test_categories_switched_off_in_config_are_dropped(bench: Bench) -> None:
    bench.config("categories:\n  risk: false\n")
    bench.answer({TOTAL: [finding(TOTAL, 3), finding(TOTAL, 4, category=Category.LINT, title="Long line")]})
    await bench.run()
    assert [c["line"] for c in bench.only_review().comments] == [4]


# -- failures and retries ------------------------------------------------------------------------------
async def queued_check(bench: Bench) -> int:
    """The check run the job carries (created queued and recorded before the review starts)."""
    return await bench.github.create_check_run(
        REPO, head_sha=pull().head_sha, name="mini-review", status="queued", details_url="u", external_id="e"
    )


def open_checks(bench: Bench) -> list[int]:
    return [i for i, states in bench.github.check_runs.items() if states[-1]["status"] != "completed"]


async def test_a_retryable_failure_requeues_the_check_and_raises(bench: Bench) -> None:
    check_run_id = await queued_check(bench)
    bench.answer({TOTAL: GitHubRetryableError("secondary rate limit", status=403, retry_after=60)})
    with pytest.raises(GitHubRetryableError):
        await bench.run(job(check_run_id=check_run_id), final_attempt=False)
    assert bench.github.final_check()["status"] == "queued"
    assert bench.github.final_check()["title"] == "Retrying"
    assert bench.store.only_run().status is RunStatus.FAILED


async def test_a_check_run_no_retry_knows_is_not_left_retrying(bench: Bench) -> None:
    # The job carried no check run, so this attempt made one the next attempt cannot reuse: the
    # retry makes its own, and the first must not stay queued behind it.
    bench.answer({TOTAL: GitHubRetryableError("secondary rate limit", status=403, retry_after=60)})
    with pytest.raises(GitHubRetryableError):
        await bench.run(final_attempt=False)
    first = bench.github.final_check()
    assert (first["status"], first["conclusion"], first["title"]) == (
        "completed",
        "neutral",
        "Superseded by a retry",
    )
    bench.answer({})
    assert await bench.run(final_attempt=True) is RunStatus.POSTED
    assert len(bench.github.check_runs) == 2 and open_checks(bench) == []


SECRET = "postgresql://mini:hunter2@db.internal/mini"  # what a driver error may quote


async def test_an_unexpected_error_leaves_the_check_retrying_and_fails_the_run(bench: Bench) -> None:
    check_run_id = await queued_check(bench)
    bench.answer({TOTAL: KeyError(SECRET)})
    with pytest.raises(KeyError):
        await bench.run(job(check_run_id=check_run_id), final_attempt=False)
    check = bench.github.final_check(check_run_id)
    assert (check["status"], check["title"]) == ("queued", "Retrying")
    assert "KeyError" in check["summary"] and "tried again" in check["summary"]
    run = bench.store.only_run()
    assert run.status is RunStatus.FAILED and run.finished_at is not None
    assert run.error is not None and "KeyError" in run.error
    assert SECRET not in check["summary"] and "hunter2" not in run.error


async def test_an_unexpected_error_on_the_final_attempt_fails_the_run_and_the_check(bench: Bench) -> None:
    check_run_id = await queued_check(bench)
    bench.answer({TOTAL: KeyError(SECRET)})
    with pytest.raises(KeyError):  # the worker still sees it: it logs it and gives the job up
        await bench.run(job(check_run_id=check_run_id), final_attempt=True)
    check = bench.github.final_check(check_run_id)
    assert (check["status"], check["conclusion"]) == ("completed", "failure")
    assert "KeyError" in check["summary"] and "hunter2" not in check["summary"]
    assert bench.store.only_run().status is RunStatus.FAILED


class BrokenStore(MemoryStore):
    """The database fails when the run reads the PR's state (after the run record exists)."""

    async def pull_state(self, repo: str, pr_number: int) -> PullState:
        raise ConnectionError(f"could not reach {SECRET}")


@pytest.mark.parametrize(
    ("final", "status", "conclusion"), [(False, "queued", None), (True, "completed", "failure")]
)
async def test_an_unexpected_error_before_the_check_starts_still_settles_it(
    final: bool, status: str, conclusion: str | None
) -> None:
    bench = Bench(store=BrokenStore())
    bench.open_pr([added_file(TOTAL, source(3))])
    check_run_id = await queued_check(bench)
    with pytest.raises(ConnectionError):
        await bench.run(job(check_run_id=check_run_id), final_attempt=final)
    check = bench.github.final_check(check_run_id)
    assert (check["status"], check.get("conclusion")) == (status, conclusion)
    assert "ConnectionError" in check["summary"] and "hunter2" not in check["summary"]
    assert bench.store.only_run().status is RunStatus.FAILED


class CheckStartFails(MemoryGitHub):
    """GitHub refuses to move the check run to in_progress (once); later updates work."""

    refused = False

    async def update_check_run(self, repo: RepoRef, check_run_id: int, **changes: Any) -> None:
        if changes.get("status") == "in_progress" and not self.refused:
            self.refused = True
            raise GitHubRetryableError("server error", status=502)
        await super().update_check_run(repo, check_run_id, **changes)


async def test_a_check_run_that_could_not_start_is_still_completed() -> None:
    bench = Bench(github=CheckStartFails())
    bench.open_pr([added_file(TOTAL, source(3))])
    check_run_id = await queued_check(bench)
    assert await bench.run(job(check_run_id=check_run_id, trigger="command:review")) is RunStatus.POSTED
    assert bench.github.final_check(check_run_id)["status"] == "completed"


async def test_the_final_attempt_fails_the_run_and_completes_the_check(bench: Bench) -> None:
    bench.answer({TOTAL: GitHubRetryableError("secondary rate limit", status=403, retry_after=60)})
    assert await bench.run(final_attempt=True) is RunStatus.FAILED
    check = bench.github.final_check()
    assert (check["status"], check["conclusion"]) == ("completed", "neutral")


async def test_a_retried_job_gets_a_run_record_of_its_own(bench: Bench) -> None:
    await bench.run(job(run_id="r" * 32))
    await bench.run(job(run_id="r" * 32))
    assert len(bench.store.runs) == 2 and "r" * 32 in bench.store.runs
