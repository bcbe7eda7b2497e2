"""The whole service on the fake GitHub: a `/mini review` never leaves a check run queued or in progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.harness import running_stack, wait_for
from tests.e2e.test_chaos_postgres import BASE_SHA, INSTALLATION, NAME, OWNER, _comment_event, _files, _head
from tests.fakes.github import FakeGitHub

OTHER_APP = 777


def our_check_runs(github: FakeGitHub) -> dict[int, dict[str, Any]]:
    runs = github.check_runs(OWNER, NAME).items()
    return {i: h[-1] for i, h in runs if h[-1].get("app_id", github.app_id) == github.app_id}


def all_completed(github: FakeGitHub) -> bool:
    runs = our_check_runs(github)
    return bool(runs) and all(state["status"] == "completed" for state in runs.values())


def test_a_mini_review_whose_check_run_could_not_start_still_completes_it(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        github = stack.github
        github.add_repo(OWNER, NAME, INSTALLATION)
        github.add_pull(OWNER, NAME, 4, head_sha=_head(4, 0), base_sha=BASE_SHA, files=_files(4, 0))
        # The command's check run is created, then moving it to in_progress is refused.
        github.fail_next("PATCH", r"/check-runs/\d+$", 422)
        comment = github.add_issue_comment(OWNER, NAME, 4, "/mini review")
        assert stack.deliver("issue_comment", _comment_event(4, comment, "/mini review")).status_code == 202
        wait_for(lambda: all_completed(github), what="the review's check run to complete")
        [check] = our_check_runs(github).values()
        assert check["conclusion"] == "success" and check["output"]["title"] == "No findings"


def test_another_apps_check_run_with_our_name_is_left_alone(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        github = stack.github
        github.add_repo(OWNER, NAME, INSTALLATION)
        github.add_pull(OWNER, NAME, 4, head_sha=_head(4, 0), base_sha=BASE_SHA, files=_files(4, 0))
        foreign = github.add_check_run(
            OWNER, NAME, head_sha=_head(4, 0), check_name="mini-review", app_id=OTHER_APP
        )
        comment = github.add_issue_comment(OWNER, NAME, 4, "/mini review")
        assert stack.deliver("issue_comment", _comment_event(4, comment, "/mini review")).status_code == 202
        wait_for(lambda: all_completed(github), what="our own check run to complete")
        assert len(our_check_runs(github)) == 1
        assert len(github.check_runs(OWNER, NAME)[foreign]) == 1  # never adopted, never changed
