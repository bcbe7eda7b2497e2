"""The in-process GitHub fake refuses what GitHub refuses, so pipeline unit tests can trust it."""

from __future__ import annotations

import pytest

from app.errors import GitHubPermanentError, ReviewRejectedError
from app.github.models import PullFile
from tests.fakes.ports import MemoryGitHub
from tests.unit.pipeline.builders import REPO, added_file, pull, source

MODIFIED = PullFile(
    filename="m.py",
    status="modified",
    patch="@@ -1,3 +1,3 @@\n keep\n-old\n+new\n tail\n@@ -10,2 +10,3 @@\n ten\n+eleven\n twelve",
)


def _github() -> MemoryGitHub:
    github = MemoryGitHub()
    github.add_pull(pull(), [added_file("a.py", source(5)), MODIFIED])
    return github


def _comment(path: str, line: int, side: str = "RIGHT", **extra: object) -> dict[str, object]:
    return {"path": path, "line": line, "side": side, "body": "note", **extra}


@pytest.mark.parametrize(
    "comment",
    [
        _comment("a.py", 5),
        _comment("m.py", 2, "LEFT"),
        _comment("m.py", 2),
        _comment("m.py", 12),
        _comment("m.py", 11, start_line=10),
    ],
)
async def test_comments_on_the_diff_are_accepted(comment: dict[str, object]) -> None:
    github = _github()
    await github.create_review(REPO, 7, commit_id="c", body="b", comments=[comment])
    assert len(github.pulls[7].reviews) == 1 and len(github.pulls[7].review_comments) == 1


@pytest.mark.parametrize(
    "comment",
    [
        _comment("a.py", 6),  # past the end of the hunk
        _comment("m.py", 5),  # between hunks
        _comment("m.py", 4, "LEFT"),  # the old side shows lines 1-3 and 10-11 only
        _comment("gone.py", 1),  # not in the diff
        _comment("m.py", 11, start_line=2),  # a range across two hunks
        _comment("a.py", 2, start_line=4),  # start after the end
        _comment("a.py", 2) | {"body": ""},
        _comment("a.py", 2) | {"body": "x" * 65_537},
    ],
)
async def test_one_bad_comment_refuses_the_whole_review(comment: dict[str, object]) -> None:
    github = _github()
    with pytest.raises(ReviewRejectedError):
        await github.create_review(REPO, 7, commit_id="c", body="b", comments=[_comment("a.py", 1), comment])
    assert github.pulls[7].reviews == [] and github.pulls[7].review_comments == []
    assert github.rejected_reviews == 1


async def test_an_overlong_review_body_is_refused() -> None:
    github = _github()
    with pytest.raises(ReviewRejectedError):
        await github.create_review(REPO, 7, commit_id="c", body="x" * 65_537, comments=[])


async def test_a_completed_check_run_needs_a_conclusion() -> None:
    github = _github()
    check = await github.create_check_run(
        REPO, head_sha="h", name="mini-review", status="queued", details_url="u", external_id="e"
    )
    with pytest.raises(GitHubPermanentError):
        await github.update_check_run(REPO, check, status="completed")
    await github.update_check_run(REPO, check, status="completed", conclusion="neutral", title="t")
    assert github.final_check(check)["status"] == "completed"
