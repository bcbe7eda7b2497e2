"""An automatic review never posts (nor pays for) a head twice; an explicit `/mini review` still can."""

from __future__ import annotations

from pathlib import Path

from app.publish.living import history_in
from tests.e2e.harness import running_stack, summary_comments, wait_for
from tests.e2e.test_chaos_postgres import (
    BASE_SHA,
    INSTALLATION,
    NAME,
    OWNER,
    _comment_event,
    _files,
    _head,
    _pull_event,
)


def test_a_head_already_reviewed_is_not_reviewed_again(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        github = stack.github
        github.add_repo(OWNER, NAME, INSTALLATION)
        github.set_permission(OWNER, NAME, "octocat", "write")
        github.add_pull(OWNER, NAME, 5, head_sha=_head(5, 0), base_sha=BASE_SHA, files=_files(5, 0))
        calls_before = len(stack.model.requests)
        assert stack.deliver("pull_request", _pull_event("opened", 5, _head(5, 0))).status_code == 202

        def runs_in_summary() -> int:
            found = summary_comments(github, OWNER, NAME, 5)
            return len(history_in(found[0]["body"])) if found else 0

        # A PR with nothing to say inline gets no review, only the living summary that records the run.
        wait_for(runs_in_summary, what="the first review")
        paid = len(stack.model.requests) - calls_before
        # GitHub sends another automatic event for the same head (e.g. ready_for_review, or a queue
        # that lags GitHub's head): no second review, no second model call, its check run completes.
        assert stack.deliver("pull_request", _pull_event("reopened", 5, _head(5, 0))).status_code == 202

        def settled() -> bool:
            runs = github.check_runs(OWNER, NAME).values()
            return len(runs) >= 2 and all(h[-1]["status"] == "completed" for h in runs)

        wait_for(settled, what="both check runs to complete")
        assert runs_in_summary() == 1 and github.reviews(OWNER, NAME, 5) == []
        assert len(stack.model.requests) - calls_before == paid
        # Someone asks explicitly: that is reviewed again.
        comment = github.add_issue_comment(OWNER, NAME, 5, "/mini review")
        assert stack.deliver("issue_comment", _comment_event(5, comment, "/mini review")).status_code == 202
        wait_for(lambda: runs_in_summary() == 2, what="the requested review")
