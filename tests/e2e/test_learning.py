"""Learning and "what was fixed" end to end: 👎 silences a kind of finding; a fix resolves its thread."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conversation_helpers import (
    EXTRA,
    H1,
    H2,
    NAME,
    NUMBER,
    OWNER,
    RUN,
    RUN_AT_H2,
    RUN_FIXED,
    WRITER,
    bot_replies,
    bot_roots,
    issue_comment_event,
    open_pr,
    pr_event,
    requests_for,
    wait_bot_replies,
    wait_reviews,
)
from tests.e2e.harness import Stack, wait_for, wait_summary

PUBLIC = "http://mini-review.test"


def command(stack: Stack, body: str) -> None:
    comment_id = stack.github.add_issue_comment(OWNER, NAME, NUMBER, body, user=WRITER)
    assert (
        stack.deliver("issue_comment", issue_comment_event(comment_id, body, WRITER, "MEMBER")).status_code
        == 202
    )


def run_of(stack: Stack, review: dict[str, Any]) -> dict[str, Any]:
    # A living summary links its own run first (footer), then earlier runs (history).
    run_id = re.findall(rf"{PUBLIC}/runs/([0-9a-f]{{32}})", review["body"])[0]
    return wait_for(
        lambda: r if (r := stack.run_json(run_id)).get("status") not in (None, "running") else None,
        what="the run to finish",
    )


def test_a_thumbs_down_silences_the_comment_and_similar_findings_in_other_files(stack: Stack) -> None:
    open_pr(stack)
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_reviews(stack, 1)
    [root] = bot_roots(stack)
    stack.github.react_to_review_comment(OWNER, NAME, root["id"], "-1", user=WRITER)
    stack.github.push(OWNER, NAME, NUMBER, H2, [RUN, EXTRA])
    command(stack, "/mini full-review")
    # Nothing new inline: no second review; the run is read from the living summary comment.
    second = {"body": wait_summary(stack.github, OWNER, NAME, NUMBER, containing="Run history (2)")}
    assert len(stack.github.reviews(OWNER, NAME, NUMBER)) == 1
    assert bot_roots(stack) == [root]  # nothing repeated, nothing new posted inline
    run = run_of(stack, second)
    suppressed = [f for f in run["findings"] if f["outcome"].startswith("suppressed by learning")]
    assert sorted(f["path"] for f in suppressed) == ["app/extra.py", "app/run.py"]
    assert all(f"(reaction by {WRITER})" in f["outcome"] for f in suppressed)
    page = stack.client.get(f"{stack.url}/runs/{run['id']}").text
    assert "Suppressed by learning (2)" in page
    review_requests = requests_for(stack, "chunk_findings")
    assert "Maintainers of this repository marked these kinds of findings" in review_requests[-1].user
    command(stack, "/mini learnings")

    def listed() -> list[str]:
        bodies = [
            c["body"] for c in stack.github.issue_comments(OWNER, NAME, NUMBER) if c["user"]["type"] == "Bot"
        ]
        return [b for b in bodies if "What mini-review learned" in b]

    [table] = wait_for(listed, what="the learnings reply")
    assert "Bug marker left in code" in table and "`app/**/*.py`" in table and WRITER in table


def test_a_push_that_fixes_the_flagged_line_resolves_the_thread_with_one_reply(stack: Stack) -> None:
    open_pr(stack)
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_reviews(stack, 1)
    [root] = bot_roots(stack)
    stack.github.push(OWNER, NAME, NUMBER, H2, [RUN_FIXED])
    stack.github.set_file(OWNER, NAME, H2, "app/run.py", RUN_AT_H2)
    stack.deliver("pull_request", pr_event("synchronize", H2))
    [done] = wait_bot_replies(stack, root["id"], 1)
    assert done["body"] == f"Addressed in `{H2}`."
    wait_for(
        lambda: stack.github.thread_resolved(OWNER, NAME, NUMBER, root["id"]), what="the thread resolved"
    )
    [check] = requests_for(stack, "fix_verdicts")
    assert '<thread id="1" path="app/run.py"' in check.user and "shlex.quote" in check.user
    # Another review of the same head neither replies again nor asks the model again.
    command(stack, "/mini full-review")
    review = {"body": wait_summary(stack.github, OWNER, NAME, NUMBER, containing="Run history (3)")}
    run = run_of(stack, review)
    assert run["status"] == "posted"
    assert len(bot_replies(stack, root["id"])) == 1 and len(requests_for(stack, "fix_verdicts")) == 1
    page = stack.client.get(f"{stack.url}/runs/{run['id']}").text
    assert "Addressed rate in this repository: 100%" in page
