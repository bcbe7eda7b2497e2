"""A review GitHub refuses (422) still lands: offending comments move to the body, the rest stay inline."""

from __future__ import annotations

from app.diff.model import Side
from app.github.client import GitHubAppClient
from app.github.models import RepoRef
from app.pipeline.files import to_file_diff
from app.pipeline.posting import comment_fits, post_review
from tests.fakes.github import FakeGitHub
from tests.fakes.server import serve_in_thread

HEAD = "c" * 40
REPO = RepoRef(owner="octo", name="repo", installation_id=9)
PATCH = "@@ -1,3 +1,4 @@\n import os\n-import sys\n+import re\n+import json\n def main():"


def _fake() -> FakeGitHub:
    fake = FakeGitHub(app_id=777)
    fake.add_repo("octo", "repo", installation_id=9)
    fake.add_pull(
        "octo", "repo", 3, head_sha=HEAD, base_sha="d" * 40, files=[{"filename": "app.py", "patch": PATCH}]
    )
    return fake


def test_comment_fits_follows_github_rules() -> None:
    from app.github.models import PullFile

    file = to_file_diff(
        PullFile(filename="app.py", status="modified", additions=2, deletions=1, changes=3, patch=PATCH)
    )
    files = {"app.py": file}
    assert comment_fits(files, {"path": "app.py", "line": 3, "side": "RIGHT"})
    assert comment_fits(files, {"path": "app.py", "line": 2, "side": "LEFT"})
    assert not comment_fits(files, {"path": "app.py", "line": 9, "side": "RIGHT"})
    assert not comment_fits(files, {"path": "other.py", "line": 1, "side": "RIGHT"})
    ranged = {"path": "app.py", "line": 3, "side": "RIGHT", "start_line": 2, "start_side": "RIGHT"}
    assert comment_fits(files, ranged)
    assert not comment_fits(files, {**ranged, "start_line": 3})
    assert file.commentable()[(Side.RIGHT, 1)] == 0


async def test_rejected_review_moves_only_the_offending_comment() -> None:
    fake = _fake()
    with serve_in_thread(fake.app) as url:
        client = GitHubAppClient(777, fake.private_key_pem, url, write_interval=0)
        api = await client.for_installation(9)

        async def revalidate(comments: list[dict[str, object]]) -> list[bool]:
            files = {f.path: f for f in map(to_file_diff, await api.list_pull_files(REPO, 3))}
            return [comment_fits(files, c) for c in comments]

        good = {"path": "app.py", "line": 3, "side": "RIGHT", "body": "fine"}
        bad = {"path": "app.py", "line": 40, "side": "RIGHT", "body": "off the diff"}
        review_id, moved = await post_review(
            api, REPO, 3, commit_id=HEAD, body="summary", comments=[good, bad], revalidate=revalidate
        )
    assert moved == 1 and fake.rejected_reviews == 1
    (review,) = fake.reviews("octo", "repo", 3)
    assert review["id"] == review_id and "off the diff" in review["body"]
    assert [c["line"] for c in fake.review_comments("octo", "repo", 3)] == [3]


async def test_without_a_validator_every_comment_moves_and_the_review_still_lands() -> None:
    fake = _fake()
    with serve_in_thread(fake.app) as url:
        client = GitHubAppClient(777, fake.private_key_pem, url, write_interval=0)
        api = await client.for_installation(9)
        bad = {"path": "app.py", "line": 40, "side": "RIGHT", "body": "off the diff"}
        _, moved = await post_review(api, REPO, 3, commit_id=HEAD, body="summary", comments=[bad])
    assert moved == 1
    (review,) = fake.reviews("octo", "repo", 3)
    assert "off the diff" in review["body"] and fake.review_comments("octo", "repo", 3) == []
