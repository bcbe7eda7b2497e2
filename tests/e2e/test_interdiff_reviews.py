"""Incremental reviews cover the PR's own new changes only: base merges and rebases send nothing new.

The fake GitHub answers `compare/{base}...{head}` for a PR head with the PR's diff at that head, as
GitHub does (three dots: from the merge base). A direct `last...head` comparison, which would carry
the base branch's changes, is registered too, so a regression to comparing heads would be caught.
"""

from __future__ import annotations

from tests.e2e.harness import Stack
from tests.e2e.test_living_on_pr import (
    EXTRA,
    H1,
    H2,
    H3,
    NAME,
    NUMBER,
    OWNER,
    UTIL,
    model_paths,
    open_pr,
    pr_event,
    wait_runs_done,
)

NEW_BASE = "b" * 40
# app/run.py after main gained 10 lines at the top: the PR's own change is the same, numbers moved.
RUN_AFTER_BASE_MERGE = {
    "filename": "app/run.py",
    "status": "modified",
    "patch": "\n".join(
        [
            "@@ -11,4 +11,7 @@",
            " import os",
            "+import subprocess",
            " ",
            " def run(cmd):",
            "-    return os.system(cmd)",
            "+    # BUG: shell injection through cmd",
            "+    return subprocess.call(cmd, shell=True)",
            "+",
        ]
    ),
}
# What main brought in: never part of the PR's diff, but part of a head-to-head comparison.
BASE_ONLY = {
    "filename": "app/from_main.py",
    "status": "added",
    "patch": "@@ -0,0 +1,2 @@\n+def from_main():\n+    # BUG: only on main\n",
}
BASE_LINES_IN_RUN = {
    "filename": "app/run.py",
    "status": "modified",
    "patch": "@@ -0,0 +1,10 @@\n" + "\n".join(f"+# main line {i}" for i in range(10)),
}


def _prompts(stack: Stack, since: int) -> str:
    """The diff chunks the model was sent (the PR's file list and description left out)."""
    users = [
        str(m["content"]) for r in stack.model.requests[since:] for m in r.messages if m["role"] == "user"
    ]
    return "\n".join(text[text.find("<chunk ") :] for text in users)


def test_after_update_branch_the_incremental_review_sends_nothing_from_the_base(stack: Stack) -> None:
    open_pr(stack)
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_runs_done(stack, 1)

    # "Update branch": main (with a new file and 10 lines atop app/run.py) merged into the PR.
    stack.github.push(OWNER, NAME, NUMBER, H2, files=[RUN_AFTER_BASE_MERGE, UTIL], base_sha=NEW_BASE)
    stack.github.set_compare(OWNER, NAME, H1, H2, files=[BASE_ONLY, BASE_LINES_IN_RUN])
    seen = len(stack.model.requests)
    stack.deliver("pull_request", pr_event("synchronize", H2))
    runs = wait_runs_done(stack, 2)
    assert len(stack.model.requests) == seen  # nothing new in the PR's own diff: no model call
    assert (runs[1]["mode"], runs[1]["status"]) == ("incremental", "posted")

    # A later push adds a file: only it is reviewed, still nothing from main.
    stack.github.push(OWNER, NAME, NUMBER, H3, files=[RUN_AFTER_BASE_MERGE, UTIL, EXTRA])
    stack.deliver("pull_request", pr_event("synchronize", H3))
    runs = wait_runs_done(stack, 3)
    assert model_paths(stack, seen) == ["app/extra.py"]
    prompts = _prompts(stack, seen)
    assert "from_main" not in prompts and "main line" not in prompts
    assert runs[2]["mode"] == "incremental"


def test_a_rebase_that_changes_the_pr_reviews_only_the_changed_lines(stack: Stack) -> None:
    open_pr(stack)
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_runs_done(stack, 1)
    edited = dict(RUN_AFTER_BASE_MERGE)
    edited["patch"] = str(edited["patch"]).replace(
        "+    return subprocess.call(cmd, shell=True)", "+    return 0"
    )
    stack.github.push(OWNER, NAME, NUMBER, H2, files=[edited, UTIL], force=False, base_sha=NEW_BASE)
    seen = len(stack.model.requests)
    stack.deliver("pull_request", pr_event("synchronize", H2))
    wait_runs_done(stack, 2)
    assert model_paths(stack, seen) == ["app/run.py"]
    sent = _prompts(stack, seen)
    assert "+     return 0" in sent and "import subprocess" not in sent and "b = 2" not in sent


# ---- one living summary, no empty reviews ------------------------------------------------------------


def summaries(stack: Stack) -> list[dict[str, object]]:
    return [
        c
        for c in stack.github.issue_comments(OWNER, NAME, NUMBER)
        if str(c["body"]).startswith("<!-- mini-review:summary -->")
    ]


def test_ten_pushes_with_nothing_new_leave_one_summary_and_no_new_reviews(stack: Stack) -> None:
    open_pr(stack)
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_runs_done(stack, 1)
    assert len(stack.github.reviews(OWNER, NAME, NUMBER)) == 1  # the first review has inline comments
    first_review = stack.github.reviews(OWNER, NAME, NUMBER)[0]
    assert "summary comment" in str(first_review["body"]) and "http://mini-review.test/runs/" in str(
        first_review["body"]
    )
    [summary] = summaries(stack)
    assert "Run history (1)" in str(summary["body"]) and "app/util.py" in str(summary["body"])

    for n in range(10):
        head = f"{n + 10:040x}"
        base = f"{n + 100:040x}"  # the base branch moves and is merged in: the PR's own diff stays
        stack.github.push(OWNER, NAME, NUMBER, head, files=[RUN_AFTER_BASE_MERGE, UTIL], base_sha=base)
        stack.deliver("pull_request", pr_event("synchronize", head))
        wait_runs_done(stack, n + 2)

    assert len(stack.github.reviews(OWNER, NAME, NUMBER)) == 1  # no review for nothing new
    [summary] = summaries(stack)  # still one comment, edited in place
    body = str(summary["body"])
    assert "Run history (11)" in body and "nothing new" in body
    assert "nothing new to review" in body
    # The note from the first run stays findable (its marker is carried) and is not repeated as new.
    assert "<!-- mini-review:fp=" in body


def test_a_deleted_summary_comment_is_made_again(stack: Stack) -> None:
    open_pr(stack)
    stack.deliver("pull_request", pr_event("opened", H1))
    wait_runs_done(stack, 1)
    [summary] = summaries(stack)
    stack.github.delete_issue_comment(OWNER, NAME, int(str(summary["id"])))
    stack.github.push(OWNER, NAME, NUMBER, H2, files=[RUN_AFTER_BASE_MERGE, UTIL, EXTRA])
    stack.deliver("pull_request", pr_event("synchronize", H2))
    wait_runs_done(stack, 2)
    [again] = summaries(stack)
    assert again["id"] != summary["id"] and H2[:12] in str(again["body"])
