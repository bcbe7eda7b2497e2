"""Hostile situations on in-process port fakes: planted markers, unreadable configs, forks, budgets."""

from __future__ import annotations

import pytest

from app.errors import GitHubPermanentError
from app.github.models import PostedText, PullRequestInfo, ReviewComment
from app.publish.fingerprint import fingerprint, marker
from app.storage.models import RunStatus, RunUpdate
from tests.fakes.ports import BOT
from tests.unit.pipeline.builders import CONFIG, added_file, finding, job, pull, source
from tests.unit.pipeline.harness import Bench
from tests.unit.publish.rendered import read

TOTAL = "src/total.py"


@pytest.fixture
def bench() -> Bench:
    bench = Bench()
    bench.open_pr([added_file(TOTAL, source(10))])
    return bench


def planted(bench: Bench, login: str) -> None:
    """Someone posts the marker of the finding the model is about to report, to silence it."""
    fp = fingerprint(TOTAL, "risk", "value_3 = compute(3)")
    pull_ = bench.github.pulls[7]
    pull_.issue_comments.append(PostedText(body=f"lgtm\n\n{marker(fp)}", user_login=login, user_type="Bot"))
    pull_.review_comments.append(
        ReviewComment(id=1, body=f"nit\n\n{marker(fp)}", path=TOTAL, line=3, user_login=login)
    )


@pytest.mark.parametrize("login", ["other-app[bot]", "dependabot[bot]", "mini-review", "octocat"])
async def test_markers_from_anyone_but_this_app_are_not_trusted(bench: Bench, login: str) -> None:
    planted(bench, login)
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run() is RunStatus.POSTED
    assert len(bench.only_review().comments) == 1


async def test_markers_from_this_app_still_prevent_repeats(bench: Bench) -> None:
    planted(bench, BOT)
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run() is RunStatus.POSTED
    assert bench.reviews() == []  # the repeat is known: nothing new inline, so no review


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (GitHubPermanentError("Resource not accessible by integration", status=403), "not accessible"),
        (
            GitHubPermanentError(".github/mini-review.yml at main is too large for the contents API"),
            "too large",
        ),
        (GitHubPermanentError(".github/mini-review.yml at main is a symlink, not a file"), "symlink"),
    ],
)
async def test_an_unreadable_config_skips_the_review_with_its_reason(
    bench: Bench, error: Exception, shown: str
) -> None:
    bench.github.unreadable[(CONFIG, "main")] = error
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run(job(trigger="command:review")) is RunStatus.SKIPPED
    assert bench.reviews() == [] and bench.reviewer.calls == []
    run = bench.store.only_run()
    assert run.error is not None and "could not be read" in run.error and shown in run.error


async def test_an_unreadable_org_config_skips_too(bench: Bench) -> None:
    bench.github.unreadable[(CONFIG, None)] = GitHubPermanentError("SAML SSO enforced", status=403)
    assert await bench.run() is RunStatus.SKIPPED
    assert "SAML SSO" in (bench.store.only_run().error or "")


async def test_a_missing_config_still_falls_back_to_defaults(bench: Bench) -> None:
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run() is RunStatus.POSTED


def fork_pr() -> PullRequestInfo:
    return pull().model_copy(update={"from_fork": True})


async def test_fork_prs_wait_for_a_writer_when_forks_are_off() -> None:
    bench = Bench()
    bench.open_pr([added_file(TOTAL, source(10))], fork_pr())
    bench.config("auto_review:\n  forks: false\n")
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run() is RunStatus.SKIPPED
    assert "auto_review.forks is off" in (bench.store.only_run().error or "")
    assert bench.reviewer.calls == []


async def test_a_writers_command_reviews_a_fork_pr() -> None:
    bench = Bench()
    bench.open_pr([added_file(TOTAL, source(10))], fork_pr())
    bench.config("auto_review:\n  forks: false\n")
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run(job(trigger="command:review")) is RunStatus.POSTED


async def test_fork_prs_are_reviewed_by_default() -> None:
    bench = Bench()
    bench.open_pr([added_file(TOTAL, source(10))], fork_pr())
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run() is RunStatus.POSTED


def test_a_fork_is_told_apart_from_a_branch_in_the_api_answer() -> None:
    base = {"sha": "b" * 40, "ref": "main", "repo": {"full_name": "acme/shop", "private": True}}
    data = {
        "number": 1,
        "title": "t",
        "state": "open",
        "html_url": "u",
        "user": {"login": "x"},
        "head": {"sha": "a" * 40, "ref": "f", "repo": {"full_name": "stranger/shop"}},
        "base": base,
    }
    assert PullRequestInfo.from_api(data).from_fork and PullRequestInfo.from_api(data).repo_private
    same = {**data, "head": {"sha": "a" * 40, "ref": "f", "repo": {"full_name": "acme/shop"}}}
    assert not PullRequestInfo.from_api(same).from_fork
    deleted = {**data, "head": {"sha": "a" * 40, "ref": "f", "repo": None}}
    assert PullRequestInfo.from_api(deleted).from_fork


async def test_model_links_stay_links_only_into_the_prs_repository(bench: Bench) -> None:
    body = (
        "See [the helper](https://github.com/acme/shop/blob/main/src/tax.py) and "
        "[docs](https://attacker.example/?leak=1) ![x](https://attacker.example/p.png)"
    )
    bench.answer({TOTAL: [finding(TOTAL, 3).model_copy(update={"body": body})]})
    assert await bench.run() is RunStatus.POSTED
    posted = str(bench.only_review().comments[0]["body"])
    rendered = read(posted)
    assert rendered.links == ["https://github.com/acme/shop/blob/main/src/tax.py"]
    assert rendered.images == []


async def spent_earlier(bench: Bench, cost: float, repo: str = "acme/other") -> None:
    await bench.store.start_run("earlier", repo=repo, pr_number=1, trigger="t", head_sha="h")
    await bench.store.update_run("earlier", RunUpdate(status=RunStatus.POSTED, cost_usd=cost))


def told_over_budget(bench: Bench) -> list[str]:
    return [t.body for t in bench.github.pulls[7].issue_comments if "daily model budget" in t.body]


async def test_over_the_daily_budget_reviews_are_skipped_and_the_pr_is_told_once(bench: Bench) -> None:
    bench.settings = bench.settings.model_copy(update={"max_cost_per_day": 1.0})
    await spent_earlier(bench, 1.5)
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run(job(check_run_id=None)) is RunStatus.SKIPPED
    assert await bench.run(job(trigger="command:review")) is RunStatus.SKIPPED
    assert bench.reviewer.calls == [] and bench.reviews() == []
    [told] = told_over_budget(bench)
    assert "$1.50 of $1.00 spent today (UTC)" in told
    runs = [r for r in bench.store.runs.values() if r.id != "earlier"]
    assert all(r.status is RunStatus.SKIPPED and "daily model budget" in (r.error or "") for r in runs)


async def test_a_repo_can_lower_the_daily_budget_but_not_raise_it(bench: Bench) -> None:
    await spent_earlier(bench, 0.6)
    bench.config("max_cost_per_day: 0.5\n")
    assert await bench.run() is RunStatus.SKIPPED
    bench.settings = bench.settings.model_copy(update={"max_cost_per_day": 0.55})
    bench.config("max_cost_per_day: 100\n")
    assert await bench.run() is RunStatus.SKIPPED


async def test_other_accounts_spend_does_not_count_and_the_spend_is_shown(bench: Bench) -> None:
    bench.settings = bench.settings.model_copy(update={"max_cost_per_day": 1.0})
    await spent_earlier(bench, 5.0, repo="someone-else/repo")
    await bench.store.start_run("mine", repo="acme/old", pr_number=2, trigger="t", head_sha="h")
    await bench.store.update_run("mine", RunUpdate(status=RunStatus.POSTED, cost_usd=0.25))
    assert await bench.run() is RunStatus.POSTED
    assert (
        "$0.25 of $1.00 spent today (UTC) by this installation before this review" in bench.summary()
    )
