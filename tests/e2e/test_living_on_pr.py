"""Living on the PR, end to end: pushes coalesce, no repeated comments, base-branch config, checks, skips.

Everything runs over real HTTP: the real app against the fake GitHub and the fake model. The PR is #2 of
Codertocat/Hello-World (installation 1), as in the corpus payloads; heads H2.. are pushed on the fake.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import webhook_payload
from tests.e2e.harness import Stack, running_stack, running_stack_on, wait_for, wait_summary
from tests.e2e.test_backbone import APP_PATCH
from tests.e2e.test_backbone import UTIL_PATCH as BACKBONE_UTIL_PATCH
from tests.fakes.github import FakeGitHub

OWNER, NAME, NUMBER, INSTALLATION = "Codertocat", "Hello-World", 2, 1
H1 = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"  # the corpus payloads' head
BASE = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
H2, H3, H4 = ("2" * 40, "3" * 40, "4" * 40)
BASE_REF = "master"
PUBLIC = "http://mini-review.test"
RUN_PATCH, UTIL_PATCH = APP_PATCH, BACKBONE_UTIL_PATCH  # the backbone PR's two files

# The same change after a rebase that added imports above it: the BUG line moved from 5 to 7.
RUN_PATCH_SHIFTED = "\n".join(
    [
        "@@ -1,4 +1,9 @@",
        " import os",
        "+import subprocess",
        "+import shlex",
        "+import sys",
        " ",
        " def run(cmd):",
        "-    return os.system(cmd)",
        "+    # BUG: shell injection through cmd",
        "+    return subprocess.call(cmd, shell=True)",
        "+",
    ]
)
EXTRA_PATCH = "\n".join(
    ["@@ -0,0 +1,3 @@", "+def extra():", "+    # BUG: returns the wrong value", "+    return 2"]
)
CLEAN_PATCH = "\n".join(["@@ -1,2 +1,3 @@", " x = 1", "+y = 2", " z = 3"])

RUN = {"filename": "app/run.py", "status": "modified", "patch": RUN_PATCH}
RUN_SHIFTED = {"filename": "app/run.py", "status": "modified", "patch": RUN_PATCH_SHIFTED}
UTIL = {"filename": "app/util.py", "status": "modified", "patch": UTIL_PATCH}
EXTRA = {"filename": "app/extra.py", "status": "added", "patch": EXTRA_PATCH}
CLEAN = {"filename": "app/clean.py", "status": "modified", "patch": CLEAN_PATCH}

CORPUS_PR_PAYLOADS = {
    "opened": "pull_request.opened.payload.json",
    "synchronize": "pull_request.synchronize.payload.json",
    "reopened": "pull_request.reopened.payload.json",
    "ready_for_review": "pull_request.ready_for_review.with-installation.payload.json",
    "closed": "pull_request.closed.payload.json",
}


# ---- helpers shared with test_living_on_pr_commands.py -------------------------------------------------


def open_pr(
    stack_or_github: Stack | FakeGitHub, files: list[dict[str, Any]] | None = None, **kw: Any
) -> None:
    """Register the repo and PR #2 at head H1 on the fake (no webhook is sent)."""
    github = stack_or_github.github if isinstance(stack_or_github, Stack) else stack_or_github
    github.add_repo(OWNER, NAME, INSTALLATION, default_branch=BASE_REF)
    set_pull(github, files, **kw)


def set_pull(github: FakeGitHub, files: list[dict[str, Any]] | None = None, **kw: Any) -> None:
    """(Re)register PR #2 on an existing repo, e.g. to show a draft as ready; check runs stay."""
    kw.setdefault("head_sha", H1)
    github.add_pull(OWNER, NAME, NUMBER, base_sha=BASE, base_ref=BASE_REF, files=files or [RUN, UTIL], **kw)


def pr_event(action: str, head: str, **pull_request: Any) -> dict[str, Any]:
    """A corpus `pull_request` payload, MODIFIED: head (and `after`) set to `head`, other PR fields merged."""
    payload = webhook_payload(CORPUS_PR_PAYLOADS[action])
    payload["action"] = action  # unchanged for these files; explicit so the intent is obvious
    pr = payload["pull_request"]
    pr["head"]["sha"] = head
    if "after" in payload:
        payload["after"] = head
    for key, value in pull_request.items():
        if isinstance(value, dict) and isinstance(pr.get(key), dict):
            pr[key].update(value)
        else:
            pr[key] = value
    return payload


def reviews(stack: Stack) -> list[dict[str, Any]]:
    return stack.github.reviews(OWNER, NAME, NUMBER)


def comments(stack: Stack) -> list[dict[str, Any]]:
    return stack.github.review_comments(OWNER, NAME, NUMBER)


def summary_of(stack_or_github: Stack | FakeGitHub, containing: str = "") -> str:
    """The living summary comment's body, once it mentions `containing` (e.g. a head's short sha)."""
    github = stack_or_github.github if isinstance(stack_or_github, Stack) else stack_or_github
    return wait_summary(github, OWNER, NAME, NUMBER, containing=containing)


def this_run(summary: str) -> str:
    """What a summary says about its own run (notes carried from earlier runs left out)."""
    return summary.split("Notes from earlier runs", 1)[0]


def wait_reviews(stack: Stack, n: int, what: str = "") -> list[dict[str, Any]]:
    return wait_for(lambda: r if len(r := reviews(stack)) >= n else None, what=what or f"{n} review(s)")


def pr_runs(stack: Stack) -> list[dict[str, Any]]:
    """The PR's run records, oldest first, found through the links mini-review posts.

    Every check run's `details_url` and every review's "Full run" link point at a run page; a planned
    run that has not started yet answers 404 and is left out.
    """
    links = [s.get("details_url") or "" for h in check_histories(stack) for s in h]
    links += [r["body"] for r in reviews(stack)]
    ids = dict.fromkeys(m for text in links for m in re.findall(rf"{PUBLIC}/runs/([0-9a-f]{{32}})", text))
    found = []
    for run_id in ids:
        response = stack.client.get(f"{stack.url}/api/runs/{run_id}")
        if response.status_code == 200:
            found.append(response.json())
    return sorted(found, key=lambda r: str(r["started_at"]))


def wait_runs_done(stack: Stack, n: int) -> list[dict[str, Any]]:
    """Wait until the PR has `n` runs and none is still running."""

    def probe() -> list[dict[str, Any]] | None:
        runs = pr_runs(stack)
        return runs if len(runs) >= n and all(r["status"] != "running" for r in runs) else None

    return wait_for(probe, what=f"{n} finished run(s)")


def check_histories(stack: Stack, head: str | None = None) -> list[list[dict[str, Any]]]:
    """Every check run's states (oldest first), by creation order; only `head`'s when given."""
    runs = stack.github.check_runs(OWNER, NAME)
    return [runs[i] for i in sorted(runs) if head is None or runs[i][-1]["head_sha"] == head]


def all_checks_completed(stack: Stack) -> list[list[dict[str, Any]]] | None:
    histories = check_histories(stack)
    return histories if histories and all(h[-1]["status"] == "completed" for h in histories) else None


def statuses(history: list[dict[str, Any]]) -> list[str]:
    """The distinct statuses a check run went through, in order."""
    seen: list[str] = []
    for state in history:
        if not seen or seen[-1] != state["status"]:
            seen.append(state["status"])
    return seen


def model_paths(stack: Stack, since: int = 0) -> list[str]:
    return sorted({p for r in stack.model.requests[since:] for p in r.paths})


def new_lines(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((c["path"], c["line"]) for c in items)


# ---- pushes coalesce ---------------------------------------------------------------------------


def test_three_synchronize_within_a_second_become_one_review_of_the_last_head(tmp_path: Path) -> None:
    with running_stack(tmp_path, MINI_DEBOUNCE_SECONDS=0.5) as stack:
        open_pr(stack)
        assert stack.deliver("pull_request", pr_event("opened", H1), delivery="opened-1").status_code == 202
        wait_reviews(stack, 1)
        wait_runs_done(stack, 1)
        wait_for(lambda: all_checks_completed(stack), what="the first check run completed")
        stack.github.set_compare(OWNER, NAME, H1, H4, files=[EXTRA])
        first_requests = len(stack.model.requests)

        sent = []
        for n, head in enumerate((H2, H3, H4), start=1):
            stack.github.push(OWNER, NAME, NUMBER, head, files=[RUN, UTIL, EXTRA])
            response = stack.deliver("pull_request", pr_event("synchronize", head), delivery=f"sync-{n}")
            assert response.status_code == 202, response.text
            sent.append(time.monotonic())
        spread = sent[-1] - sent[0]
        assert spread < 1.0, f"the three deliveries took {spread:.2f} s"

        runs = wait_runs_done(stack, 2)
        histories = wait_for(lambda: all_checks_completed(stack), what="every check run completed")
        started = time.monotonic() - sent[0]
        print(
            f"\n3 pushes in {spread * 1000:.0f} ms -> 1 review, settled {started:.2f} s after the first push"
        )

        assert [r["commit_id"] for r in reviews(stack)] == [H1, H4]
        assert [(r["head_sha"], r["trigger"], r["status"]) for r in runs] == [
            (H1, "pull_request.opened", "posted"),
            (H4, "pull_request.synchronize", "posted"),
        ]
        # Incremental since H1: the model saw only what H1...H4 changed.
        assert model_paths(stack, first_requests) == ["app/extra.py"]
        assert new_lines(comments(stack)) == [("app/extra.py", 2), ("app/run.py", 5)]

        by_head = {h[-1]["head_sha"]: h for h in histories}
        assert set(by_head) <= {H1, H2, H3, H4} and H4 in by_head
        assert len([h for h in histories if h[-1]["head_sha"] == H4]) == 1
        for head in (H2, H3):
            for history in check_histories(stack, head):
                # Created while its push was the newest, then replaced: completed, never left queued.
                assert history[-1]["conclusion"] == "neutral", history[-1]
                assert history[-1]["output"]["title"] == "Superseded"
                assert "in_progress" not in statuses(history)
        assert statuses(by_head[H4])[-2:] == ["in_progress", "completed"]
        assert by_head[H4][-1]["conclusion"] == "neutral"  # the new BUG in app/extra.py


# ---- incremental reviews, no repeated comments ----------------------------------------------------


def test_a_push_reviews_only_what_changed_and_a_force_push_repeats_nothing(stack: Stack) -> None:
    open_pr(stack)
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_reviews(stack, 1)
    assert new_lines(comments(stack)) == [("app/run.py", 5)]
    assert "Unresolved TODO" in summary_of(stack, H1[:12])  # the nit is a summary note
    wait_runs_done(stack, 1)

    # H2 adds an unrelated file; the commented BUG line is still in the PR's diff.
    stack.github.push(OWNER, NAME, NUMBER, H2, files=[RUN, UTIL, EXTRA])
    seen = len(stack.model.requests)
    stack.deliver("pull_request", pr_event("synchronize", H2))
    second = wait_reviews(stack, 2)[1]
    assert second["commit_id"] == H2
    assert model_paths(stack, seen) == ["app/extra.py"]
    assert new_lines(comments(stack)) == [("app/extra.py", 2), ("app/run.py", 5)]
    summary = summary_of(stack, H2[:12])
    assert f"Incremental review of the changes since {H1[:7]}" in summary
    assert "Unresolved TODO" not in this_run(summary) and "Unresolved TODO" in summary  # carried, folded
    runs = wait_runs_done(stack, 2)
    assert runs[1]["mode"] == "incremental" and runs[1]["files_total"] == 3

    # A force-push whose old commits are gone: compare base...H2 is 404 and everything is reviewed.
    # The BUG line moved (5 -> 7) but its fingerprint did not: no comment is repeated, and a run with
    # nothing new inline posts no review at all: the summary comment and the check run say it.
    stack.github.push(OWNER, NAME, NUMBER, H3, files=[RUN_SHIFTED, UTIL, EXTRA], force=True)
    seen = len(stack.model.requests)
    stack.deliver("pull_request", pr_event("synchronize", H3))
    runs = wait_runs_done(stack, 3)
    assert len(reviews(stack)) == 2
    assert model_paths(stack, seen) == ["app/extra.py", "app/run.py", "app/util.py"]
    assert len(comments(stack)) == 2, new_lines(comments(stack))
    summary = this_run(summary_of(stack, H3[:12]))
    assert "force-push" in summary
    assert "3 repeats of earlier comments skipped" in summary, summary
    assert "Unresolved TODO" not in summary
    assert runs[2]["mode"] == "full" and runs[2]["inline_count"] == 0


def test_markers_on_github_stop_repeats_when_the_database_is_lost(tmp_path: Path) -> None:
    github = FakeGitHub()
    open_pr(github)
    with running_stack_on(github, tmp_path / "first.db") as first:
        first.deliver("pull_request", pr_event("opened", H1))
        wait_reviews(first, 1)
        wait_runs_done(first, 1)
    assert new_lines(github.review_comments(OWNER, NAME, NUMBER)) == [("app/run.py", 5)]

    github.push(OWNER, NAME, NUMBER, H2, files=[RUN_SHIFTED, UTIL])
    # A new database knows nothing: no fingerprints and no last reviewed head, so a full review.
    with running_stack_on(github, tmp_path / "second.db") as second:
        second.deliver("pull_request", pr_event("synchronize", H2))
        run = wait_runs_done(second, 1)[0]
        summary = this_run(summary_of(second, H2[:12]))
    assert len(github.reviews(OWNER, NAME, NUMBER)) == 1  # nothing new inline: no second review
    assert run["mode"] == "full" and run["inline_count"] == 0
    assert new_lines(github.review_comments(OWNER, NAME, NUMBER)) == [("app/run.py", 5)]
    assert re.search(r"\d+ repeats? of earlier comments skipped", summary), summary


def test_summary_notes_do_not_repeat_when_the_database_is_lost(tmp_path: Path) -> None:
    github = FakeGitHub()
    open_pr(github)
    with running_stack_on(github, tmp_path / "first.db") as first:
        first.deliver("pull_request", pr_event("opened", H1))
        assert "Unresolved TODO" in summary_of(first, H1[:12])
        wait_runs_done(first, 1)
    github.push(OWNER, NAME, NUMBER, H2, files=[RUN_SHIFTED, UTIL])
    with running_stack_on(github, tmp_path / "second.db") as second:
        second.deliver("pull_request", pr_event("synchronize", H2))
        summary = summary_of(second, H2[:12])
    assert "Unresolved TODO" not in this_run(summary)
    assert (
        len(wait_summary(github, OWNER, NAME, NUMBER))
        and len([c for c in github.issue_comments(OWNER, NAME, NUMBER) if "mini-review:summary" in c["body"]])
        == 1
    )


# ---- repository config from the BASE branch ------------------------------------------------------

DOCS = {
    "filename": "docs/guide.md",
    "status": "modified",
    "patch": "@@ -1,2 +1,3 @@\n # Guide\n+BUG: this page is wrong\n More text",
}
CONFIG_ON_BASE = "paths:\n  exclude:\n    - 'docs/**'\n"
CONFIG_IN_PR = "paths:\n  exclude: []\n"
CONFIG_CHANGE = {
    "filename": ".github/mini-review.yml",
    "status": "modified",
    "patch": "@@ -1,3 +1,2 @@\n paths:\n-  exclude:\n-    - 'docs/**'\n+  exclude: []",
}


def test_base_branch_config_is_honoured_and_the_prs_own_config_change_is_not(stack: Stack) -> None:
    open_pr(stack, files=[RUN, DOCS, CONFIG_CHANGE], head_ref="changes")
    stack.github.set_file(OWNER, NAME, BASE_REF, ".github/mini-review.yml", CONFIG_ON_BASE)
    # The PR's own version, at every name GitHub would serve it under: head branch and head sha.
    for ref in ("changes", H1):
        stack.github.set_file(OWNER, NAME, ref, ".github/mini-review.yml", CONFIG_IN_PR)

    stack.deliver("pull_request", pr_event("opened", H1))
    review = wait_reviews(stack, 1)[0]
    run = wait_runs_done(stack, 1)[0]

    assert "docs/guide.md" not in model_paths(stack)
    assert "app/run.py" in model_paths(stack)
    assert all(c["path"] != "docs/guide.md" for c in comments(stack))
    assert review["commit_id"] == H1
    assert "docs/guide.md" in summary_of(stack)  # listed as not reviewed, with the reason
    skipped = {s["path"]: s["reason"] for s in run["skipped"]}
    assert "docs/guide.md" in skipped and "exclude" in skipped["docs/guide.md"], skipped
    config_reads = [
        r.query.get("ref")
        for r in stack.github.requests
        if r.path.endswith("/contents/.github/mini-review.yml")
    ]
    assert BASE_REF in config_reads and "changes" not in config_reads and H1 not in config_reads


def test_an_invalid_base_config_still_reviews_with_defaults_and_says_why(stack: Stack) -> None:
    open_pr(stack, files=[RUN, DOCS])
    stack.github.set_file(OWNER, NAME, BASE_REF, ".github/mini-review.yml", "paths:\n  exclude: docs/**\n")

    stack.deliver("pull_request", pr_event("opened", H1))
    review = wait_reviews(stack, 1)[0]
    wait_runs_done(stack, 1)
    final = wait_for(lambda: all_checks_completed(stack), what="the check run completed")[-1][-1]

    # Defaults apply: the docs file is reviewed and its BUG line commented.
    assert model_paths(stack) == ["app/run.py", "docs/guide.md"]
    assert new_lines(comments(stack)) == [("app/run.py", 5), ("docs/guide.md", 2)]
    assert review["commit_id"] == H1
    for text in (summary_of(stack), final["output"]["summary"]):
        assert "Repository configuration problem" in text and "paths.exclude" in text, text


# ---- the check run -------------------------------------------------------------------------------


def test_check_run_goes_queued_in_progress_completed_with_details_url(stack: Stack) -> None:
    open_pr(stack)
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_reviews(stack, 1)
    run = wait_runs_done(stack, 1)[0]
    histories = wait_for(lambda: all_checks_completed(stack), what="the check run completed")

    assert len(histories) == 1
    history = histories[0]
    assert statuses(history) == ["queued", "in_progress", "completed"]
    final = history[-1]
    assert final["name"] == "mini-review" and final["head_sha"] == H1
    assert final["external_id"] == f"{OWNER}/{NAME}#{NUMBER}"
    assert final["conclusion"] == "neutral"  # there are findings, and no fail_on
    assert final["details_url"] == f"{PUBLIC}/runs/{run['id']}"
    assert final["output"]["title"].startswith("2 findings")
    # Already while queued, the check run links to the page its run will have; the app serves it.
    assert {state["details_url"] for state in history} == {final["details_url"]}
    page = stack.client.get(stack.url + urlsplit(final["details_url"]).path)
    assert page.status_code == 200 and "app/run.py" in page.text


def test_check_run_is_success_without_findings(stack: Stack) -> None:
    open_pr(stack, files=[CLEAN])
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_runs_done(stack, 1)
    final = wait_for(lambda: all_checks_completed(stack), what="the check run completed")[0][-1]
    assert final["conclusion"] == "success" and final["output"]["title"] == "No findings"
    assert reviews(stack) == []  # nothing to say inline: no review, only the summary and the check
    assert "no findings" in summary_of(stack, H1[:12])


def test_fail_on_major_fails_the_check_run(stack: Stack) -> None:
    open_pr(stack)
    stack.github.set_file(OWNER, NAME, BASE_REF, ".github/mini-review.yml", "fail_on: major\n")
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_reviews(stack, 1)
    final = wait_for(lambda: all_checks_completed(stack), what="the check run completed")[0][-1]
    assert final["conclusion"] == "failure"


def test_rerequested_check_run_reviews_that_head_again(stack: Stack) -> None:
    open_pr(stack)
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_reviews(stack, 1)
    wait_runs_done(stack, 1)
    first_check = wait_for(lambda: all_checks_completed(stack), what="the check run completed")[0][-1]

    payload = webhook_payload("check_run.rerequested.payload.json")
    # MODIFIED: the corpus example is another app's run on github/hello-world with no pull_requests;
    # here it is our run on the PR's repository, found again through its external_id.
    payload["check_run"].update(
        id=first_check["id"], name="mini-review", head_sha=H1, external_id=f"{OWNER}/{NAME}#{NUMBER}"
    )
    payload["repository"].update(name=NAME, full_name=f"{OWNER}/{NAME}")
    payload["repository"]["owner"]["login"] = OWNER
    assert payload["check_run"]["pull_requests"] == []
    response = stack.deliver("check_run", payload)
    assert response.status_code == 202, response.text

    runs = wait_runs_done(stack, 2)
    assert runs[1]["head_sha"] == H1
    assert runs[1]["trigger"] == "check_run.rerequested" and runs[1]["mode"] == "full"
    assert len(comments(stack)) == 1 and len(reviews(stack)) == 1  # the re-run repeats nothing
    histories = wait_for(lambda: all_checks_completed(stack), what="both check runs completed")
    assert len(histories) == 2 and statuses(histories[1]) == ["queued", "in_progress", "completed"]
    assert histories[1][-1]["details_url"] == f"{PUBLIC}/runs/{runs[1]['id']}"


# ---- drafts, bots, WIP, closed -------------------------------------------------------------------


def test_draft_is_skipped_until_ready_for_review(stack: Stack) -> None:
    open_pr(stack, draft=True)
    stack.deliver("pull_request", pr_event("opened", H1, draft=True))
    run = wait_runs_done(stack, 1)[0]
    assert run["status"] == "skipped" and "draft" in run["error"], run
    assert reviews(stack) == []

    set_pull(stack.github, draft=False)  # GitHub now shows the PR as ready
    stack.deliver("pull_request", pr_event("ready_for_review", H1, draft=False))
    review = wait_reviews(stack, 1)[0]
    runs = wait_runs_done(stack, 2)
    assert review["commit_id"] == H1
    assert runs[1]["trigger"] == "pull_request.ready_for_review" and runs[1]["status"] == "posted"


@pytest.mark.parametrize(
    ("pull", "payload_fields", "reason"),
    [
        (
            {"author": "dependabot[bot]", "author_type": "Bot"},
            {"user": {"login": "dependabot[bot]", "type": "Bot"}},
            "bot",
        ),
        ({"title": "WIP: half done"}, {"title": "WIP: half done"}, "title"),
    ],
    ids=["bot-author", "wip-title"],
)
def test_bot_authors_and_wip_titles_are_skipped(
    stack: Stack, pull: dict[str, Any], payload_fields: dict[str, Any], reason: str
) -> None:
    open_pr(stack, **pull)
    stack.deliver("pull_request", pr_event("opened", H1, **payload_fields))
    run = wait_runs_done(stack, 1)[0]
    assert run["status"] == "skipped" and reason in run["error"], run
    assert reviews(stack) == []


def test_a_skipped_review_leaves_no_check_run_queued(stack: Stack) -> None:
    open_pr(stack, draft=True)
    stack.deliver("pull_request", pr_event("opened", H1, draft=True))
    wait_runs_done(stack, 1)
    histories = check_histories(stack)
    assert all(h[-1]["status"] == "completed" for h in histories), [h[-1]["status"] for h in histories]


def _check_job_done(db: Path) -> bool:
    # Sync point only: the check job creates the queued check run on GitHub, THEN attaches it to the
    # queued review in the database; a close arriving between the two would race the attach.
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM jobs WHERE kind = 'check' AND status = 'done'").fetchone()
    return bool(row and row[0] >= 2)


def test_closing_the_pr_while_a_review_is_queued_cancels_it(tmp_path: Path) -> None:
    with running_stack(tmp_path, MINI_DEBOUNCE_SECONDS=30) as stack:
        open_pr(stack)
        stack.deliver("pull_request", pr_event("opened", H1))  # no debounce on opened
        wait_reviews(stack, 1)
        wait_runs_done(stack, 1)

        stack.github.push(OWNER, NAME, NUMBER, H2, files=[RUN, UTIL, EXTRA])
        stack.deliver("pull_request", pr_event("synchronize", H2))  # review queued for 30 s
        queued = wait_for(lambda: check_histories(stack, H2), what="H2's queued check run")
        assert statuses(queued[0]) == ["queued"]
        wait_for(lambda: _check_job_done(tmp_path / "mini-review.db"), what="the check run attached")

        closed = stack.deliver("pull_request", pr_event("closed", H2, state="closed"))
        assert closed.status_code == 202 and "cancel" in closed.json()["outcome"]
        history = wait_for(
            lambda: h if (h := check_histories(stack, H2)[0])[-1]["status"] == "completed" else None,
            what="the queued check run completed",
        )
        assert history[-1]["conclusion"] == "cancelled"
        assert [s["status"] for s in history] == ["queued", "completed"]
        assert len(reviews(stack)) == 1
        assert [r["head_sha"] for r in pr_runs(stack)] == [H1]  # the queued review never ran
