"""Context: the enclosing function from the head version is sent, read-only, and never commented on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.harness import running_stack
from tests.e2e.test_living_on_pr import (
    H1,
    NAME,
    OWNER,
    comments,
    open_pr,
    pr_event,
    summary_of,
    wait_runs_done,
)
from tests.fakes.openai_server import ChunkView, FakeOpenAI, ViewLine, finding

HEAD_VERSION = """import os


def load(path, default):
    if not os.path.exists(path):
        return default
    with open(path) as fh:
        value = fh.read()
    if not value:
        return default
    return value.strip()
"""
# The PR changed only the `if not value:` pair (lines 9-10 of the head version).
PATCH = "\n".join(
    [
        "@@ -7,5 +7,5 @@ def load(path, default):",
        "     with open(path) as fh:",
        "         value = fh.read()",
        "-    if value is None:",
        "+    if not value:",
        "         return default",
        "     return value.strip()",
    ]
)
LOADER = {"filename": "app/loader.py", "status": "modified", "patch": PATCH}


def context_citing_brain(view: ChunkView) -> list[dict[str, Any]]:
    """Cite line 6 (`return default`, shown only as context) and line 9 (a real added line)."""
    context_line = ViewLine(6, " ", "        return default")
    added = next(line for line in view.lines if line.mark == "+")
    return [
        finding(view, context_line, title="Context-only citation", severity="major"),
        finding(view, added, title="Empty string is falsy too", severity="major"),
    ]


def test_the_enclosing_function_is_sent_as_context_and_never_commented_on(tmp_path: Path) -> None:
    with running_stack(tmp_path, model=FakeOpenAI(brain=context_citing_brain)) as stack:
        open_pr(stack, files=[LOADER])
        stack.github.set_file(OWNER, NAME, H1, "app/loader.py", HEAD_VERSION)
        stack.deliver("pull_request", pr_event("opened", H1))
        wait_runs_done(stack, 1)

        [request] = stack.model.requests
        user = request.user
        assert '<context path="app/loader.py" version="head" use="read-only">' in user
        assert "4| def load(path, default):" in user  # the enclosing definition, from the head version
        assert user.index("<context ") < user.index("<chunk ")
        assert "never cite" in request.system
        # Line 6 reads like the diff's line 10 ("return default"): placement alone could have moved the
        # finding there. It cites context, so it is a note in the summary, never an inline comment.
        assert [(c["path"], c["line"]) for c in comments(stack)] == [("app/loader.py", 9)]
        summary = summary_of(stack, H1[:12])
        assert "Context-only citation" in summary and "context" in summary
