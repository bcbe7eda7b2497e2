"""Living on the PR, end to end: `/mini` commands in PR comments, who may run them, and what they do.

The corpus has no issue_comment on a pull request, so every comment payload here is
`issue_comment.created.with-installation.payload.json` (or `.edited.`) MODIFIED in `comment_payload`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import webhook_payload
from tests.e2e.harness import SUMMARY_MARKER, Stack, running_stack, wait_for
from tests.e2e.test_living_on_pr import (
    EXTRA,
    H1,
    H2,
    H3,
    NAME,
    NUMBER,
    OWNER,
    RUN,
    UTIL,
    comments,
    model_paths,
    new_lines,
    open_pr,
    pr_event,
    pr_runs,
    reviews,
    summary_of,
    wait_reviews,
    wait_runs_done,
)
from tests.fakes.openai_server import ChunkView, FakeOpenAI, default_brain, finding

MEMBER = "maintainer"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with running_stack(tmp_path) as s:
        yield s


def comment_payload(
    stack: Stack,
    body: str,
    *,
    association: str = "MEMBER",
    login: str = MEMBER,
    user_type: str = "User",
    corpus_file: str = "issue_comment.created.with-installation.payload.json",
) -> tuple[dict[str, Any], int]:
    """Post `body` as a PR conversation comment on the fake; return its webhook payload and comment id."""
    comment_id = stack.github.add_issue_comment(OWNER, NAME, NUMBER, body, user=login)
    payload = webhook_payload(corpus_file)
    # MODIFIED: the corpus comment is on plain issue #1; make it a comment on PR #2 of the same repository
    # (GitHub marks a PR's issue with `issue.pull_request`), with our comment id, text and author.
    assert payload["repository"]["full_name"] == f"{OWNER}/{NAME}"
    payload["issue"]["number"] = NUMBER
    payload["issue"]["pull_request"] = {
        "url": f"https://api.github.com/repos/{OWNER}/{NAME}/pulls/{NUMBER}",
        "html_url": f"https://github.com/{OWNER}/{NAME}/pull/{NUMBER}",
        "diff_url": f"https://github.com/{OWNER}/{NAME}/pull/{NUMBER}.diff",
        "patch_url": f"https://github.com/{OWNER}/{NAME}/pull/{NUMBER}.patch",
        "merged_at": None,
    }
    payload["comment"].update(id=comment_id, body=body, author_association=association)
    payload["comment"]["user"].update(login=login, type=user_type)
    payload.setdefault("installation", {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="})
    return payload, comment_id


def command(stack: Stack, body: str, **kw: Any) -> int:
    """Comment `body` on the PR and deliver its webhook; return the comment id."""
    payload, comment_id = comment_payload(stack, body, **kw)
    response = stack.deliver("issue_comment", payload)
    assert response.status_code == 202, response.text
    return comment_id


def replies(stack: Stack) -> list[str]:
    """Bodies of the replies mini-review wrote in the PR conversation, oldest first (not the summary)."""
    return [
        c["body"]
        for c in stack.github.issue_comments(OWNER, NAME, NUMBER)
        if c["user"]["type"] == "Bot" and not c["body"].startswith(SUMMARY_MARKER)
    ]


def wait_replies(stack: Stack, n: int) -> list[str]:
    return wait_for(lambda: r if len(r := replies(stack)) >= n else None, what=f"{n} bot repl(y/ies)")


def permission_lookups(stack: Stack) -> list[str]:
    return [r.path.rsplit("/", 2)[-2] for r in stack.github.requests if r.path.endswith("/permission")]


# ---- who may command ------------------------------------------------------------------------------


def test_none_association_gets_only_a_reply_and_a_member_gets_eyes_and_a_review(stack: Stack) -> None:
    open_pr(stack)
    stack.github.set_permission(OWNER, NAME, "drive-by", "read")
    refused = command(stack, "/mini review", association="NONE", login="drive-by")
    [reply] = wait_replies(stack, 1)
    assert "write access" in reply
    assert permission_lookups(stack) == ["drive-by"]  # NONE proves nothing: the API was asked
    assert stack.github.reactions(refused) == []

    accepted = command(stack, "/mini review", association="MEMBER")
    review = wait_reviews(stack, 1)[0]
    [run] = wait_runs_done(stack, 1)
    assert stack.github.reactions(accepted) == ["eyes"]
    assert review["commit_id"] == H1 and run["trigger"] == "command:review"
    assert new_lines(comments(stack)) == [("app/run.py", 5)]
    # The refused command queued nothing: this is the only review, and the only reply is the refusal.
    assert len(reviews(stack)) == 1 and replies(stack) == [reply]
    assert permission_lookups(stack) == ["drive-by"]  # MEMBER is trusted without an API call


def test_write_permission_lets_a_contributor_command(stack: Stack) -> None:
    open_pr(stack)
    stack.github.set_permission(OWNER, NAME, "helper", "write")
    comment_id = command(stack, "/mini review", association="CONTRIBUTOR", login="helper")
    wait_reviews(stack, 1)
    assert stack.github.reactions(comment_id) == ["eyes"] and replies(stack) == []


# ---- what the review commands do -----------------------------------------------------------------

STYLE = {
    "filename": "app/style.py",
    "status": "modified",
    "patch": "@@ -1,2 +1,3 @@\n x = 1\n+y=2  # STYLE\n z = 3",
}


def style_brain(view: ChunkView) -> list[dict[str, Any]]:
    """The default brain, plus an inline-worthy lint finding on every added line saying STYLE."""
    found = default_brain(view)
    for line in view.lines:
        if line.mark == "+" and "STYLE" in line.text:
            found.append(finding(view, line, category="lint", severity="minor", title="Spacing"))
    return found


def test_review_only_risk_posts_only_risk_comments(tmp_path: Path) -> None:
    with running_stack(tmp_path, model=FakeOpenAI(brain=style_brain)) as stack:
        open_pr(stack, files=[RUN, STYLE])
        command(stack, "/mini review --only risk")
        review = wait_reviews(stack, 1)[0]
        [run] = wait_runs_done(stack, 1)
        posted = comments(stack)
        assert new_lines(posted) == [("app/run.py", 5)]
        assert all("risk" in c["body"] and "lint" not in c["body"] for c in posted)
        summary = summary_of(stack, H1[:12])
        assert review["commit_id"] == H1 and "Spacing" not in summary and "lint" not in summary
        assert [f["category"] for f in run["findings"]] == ["risk"]

        # Without --only, the lint finding is posted and the risk comment is not repeated.
        command(stack, "/mini review")
        wait_reviews(stack, 2)
        assert new_lines(comments(stack)) == [("app/run.py", 5), ("app/style.py", 2)]


def test_an_only_review_does_not_hide_other_categories_from_later_reviews(tmp_path: Path) -> None:
    with running_stack(tmp_path, model=FakeOpenAI(brain=style_brain)) as stack:
        open_pr(stack, files=[RUN, STYLE])
        command(stack, "/mini review --only risk")
        wait_reviews(stack, 1)
        wait_runs_done(stack, 1)
        stack.github.push(OWNER, NAME, NUMBER, H2, files=[RUN, STYLE, EXTRA])
        stack.github.set_compare(OWNER, NAME, H1, H2, files=[EXTRA])
        stack.deliver("pull_request", pr_event("synchronize", H2))
        wait_reviews(stack, 2)
        assert ("app/style.py", 2) in new_lines(comments(stack))


def test_review_is_incremental_and_full_review_looks_at_everything_again(stack: Stack) -> None:
    open_pr(stack)
    command(stack, "/mini review")
    wait_reviews(stack, 1)
    wait_runs_done(stack, 1)

    stack.github.push(OWNER, NAME, NUMBER, H2, files=[RUN, UTIL, EXTRA])
    stack.github.set_compare(OWNER, NAME, H1, H2, files=[EXTRA])
    seen = len(stack.model.requests)
    command(stack, "/mini review")
    wait_reviews(stack, 2)
    runs = wait_runs_done(stack, 2)
    assert model_paths(stack, seen) == ["app/extra.py"] and runs[1]["mode"] == "incremental"

    seen = len(stack.model.requests)
    command(stack, "/mini full-review")
    runs = wait_runs_done(stack, 3)
    assert model_paths(stack, seen) == ["app/extra.py", "app/run.py", "app/util.py"]
    assert runs[2]["trigger"] == "command:full-review" and runs[2]["mode"] == "full"
    assert runs[2]["head_sha"] == H2 and len(reviews(stack)) == 2  # nothing new inline: no review
    assert new_lines(comments(stack)) == [("app/extra.py", 2), ("app/run.py", 5)]  # nothing repeated


def test_pause_stops_automatic_reviews_and_resume_restarts_them(stack: Stack) -> None:
    open_pr(stack)
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_reviews(stack, 1)
    wait_runs_done(stack, 1)

    paused = command(stack, "/mini pause")
    assert "paused" in wait_replies(stack, 1)[0]
    assert stack.github.reactions(paused) == ["eyes"]
    stack.github.push(OWNER, NAME, NUMBER, H2, files=[RUN, UTIL, EXTRA])
    stack.deliver("pull_request", pr_event("synchronize", H2))
    runs = wait_runs_done(stack, 2)
    assert (runs[1]["head_sha"], runs[1]["status"]) == (H2, "skipped")
    assert "paused" in runs[1]["error"]
    assert len(reviews(stack)) == 1

    command(stack, "/mini resume")
    assert "back on" in wait_replies(stack, 2)[1]
    stack.github.push(OWNER, NAME, NUMBER, H3, files=[RUN, UTIL, EXTRA])
    stack.github.set_compare(OWNER, NAME, H1, H3, files=[EXTRA])
    stack.deliver("pull_request", pr_event("synchronize", H3))
    review = wait_reviews(stack, 2)[1]
    assert review["commit_id"] == H3
    assert new_lines(comments(stack)) == [("app/extra.py", 2), ("app/run.py", 5)]


# ---- replies ---------------------------------------------------------------------------------------


def test_config_replies_with_the_effective_base_branch_config(stack: Stack) -> None:
    open_pr(stack)
    base_config = "paths:\n  exclude:\n    - 'docs/**'\nmin_severity: major\n"
    stack.github.set_file(OWNER, NAME, "master", ".github/mini-review.yml", base_config)
    command(stack, "/mini config")
    [reply] = wait_replies(stack, 1)
    assert "base branch `master`" in reply
    assert "docs/**" in reply and "min_severity: major" in reply
    assert ".github/mini-review.yml on master" in reply  # the layer it came from
    assert reviews(stack) == []


def test_help_and_unknown_commands_reply_with_the_command_list(stack: Stack) -> None:
    open_pr(stack)
    asked = command(stack, "/mini help")
    help_reply = wait_replies(stack, 1)[0]
    bogus = command(stack, "/mini bogus")
    bogus_reply = wait_replies(stack, 2)[1]
    for text in (help_reply, bogus_reply):
        for name in ("/mini review", "/mini full-review", "/mini pause", "/mini resume", "/mini config"):
            assert name in text, (name, text)
    assert "bogus" in bogus_reply and "did not understand" in bogus_reply
    assert stack.github.reactions(asked) == ["eyes"]
    assert stack.github.reactions(bogus) == []  # nothing valid to acknowledge
    assert reviews(stack) == []


def test_edited_bot_and_code_block_comments_do_nothing(stack: Stack) -> None:
    open_pr(stack)
    edited, edited_id = comment_payload(
        stack, "/mini review", corpus_file="issue_comment.edited.payload.json"
    )
    assert edited["action"] == "edited"
    bot, bot_id = comment_payload(stack, "/mini review", login="helper-app[bot]", user_type="Bot")
    fenced, fenced_id = comment_payload(stack, "Try this:\n\n```\n/mini review\n```\n")
    for payload in (edited, bot, fenced):
        response = stack.deliver("issue_comment", payload)
        assert response.status_code == 200 and response.json()["outcome"].startswith("ignored"), response.text

    # A later command on the same PR runs after anything those could have queued.
    command(stack, "/mini help")
    assert len(wait_replies(stack, 1)) == 1
    assert reviews(stack) == [] and pr_runs(stack) == []
    assert all(stack.github.reactions(i) == [] for i in (edited_id, bot_id, fenced_id))


# ---- a product bug, shown deterministically --------------------------------------------------------


def _reaction_posts(stack: Stack) -> int:
    return sum(1 for r in stack.github.requests if r.method == "POST" and r.path.endswith("/reactions"))


def test_a_review_command_waits_out_a_briefly_busy_database(stack: Stack, tmp_path: Path) -> None:
    open_pr(stack)
    # The command's own PR lookup is rate limited for 1 s: a window between the command being claimed
    # and its review being enqueued, in which the test takes the write lock like another writer would.
    stack.github.fail_next(
        "GET", rf"/repos/{OWNER}/{NAME}/pulls/{NUMBER}$", 429, headers={"retry-after": "1"}
    )
    command(stack, "/mini review")
    wait_for(
        lambda: any(r.method == "GET" and r.path.endswith(f"/pulls/{NUMBER}") for r in stack.github.requests),
        what="the command's PR lookup",
    )
    with closing(sqlite3.connect(tmp_path / "mini-review.db", isolation_level=None, timeout=10)) as db:
        db.execute("BEGIN IMMEDIATE")
        time.sleep(2.0)  # fault injection, not a wait: the lock is held across the retried lookup
        db.execute("ROLLBACK")
    wait_reviews(stack, 1)
    # A crashed command job runs again from the top and acknowledges the comment a second time.
    assert _reaction_posts(stack) == 1
