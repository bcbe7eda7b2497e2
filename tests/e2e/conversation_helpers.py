"""Payloads and helpers for the conversation journeys: built here (shapes as in GitHub's webhook docs)."""

from __future__ import annotations

from typing import Any

from tests.e2e.harness import Stack, wait_for

OWNER, NAME, NUMBER, INSTALLATION = "acme", "shop", 7, 11
AUTHOR, WRITER, STRANGER = "pr-author", "maintainer", "drive-by"
BASE, H1, H2 = "b" * 40, "1" * 40, "2" * 40

RUN_PATCH = "\n".join(
    [
        "@@ -1,4 +1,6 @@",
        " import os",
        " ",
        " def run(cmd):",
        "-    return os.system(cmd)",
        "+    # BUG: shell injection through cmd",
        "+    return os.system(cmd)",
        "+",
    ]
)
RUN_AT_H1 = (
    "import os\n\ndef run(cmd):\n    # BUG: shell injection through cmd\n    return os.system(cmd)\n\n"
)
# The push that fixes the flagged line: the marker is gone and the call is safe.
RUN_FIXED_PATCH = "\n".join(
    [
        "@@ -1,4 +1,6 @@",
        " import os",
        "+import shlex",
        " ",
        " def run(cmd):",
        "-    return os.system(cmd)",
        "+    return os.system(shlex.quote(cmd))",
        "+",
    ]
)
RUN_AT_H2 = "import os\nimport shlex\n\ndef run(cmd):\n    return os.system(shlex.quote(cmd))\n\n"
EXTRA_PATCH = "\n".join(
    ["@@ -0,0 +1,3 @@", "+def extra():", "+    # BUG: returns the wrong value", "+    return 2"]
)
RUN = {"filename": "app/run.py", "status": "modified", "patch": RUN_PATCH}
RUN_FIXED = {"filename": "app/run.py", "status": "modified", "patch": RUN_FIXED_PATCH}
EXTRA = {"filename": "app/extra.py", "status": "added", "patch": EXTRA_PATCH}


def repository() -> dict[str, Any]:
    return {
        "id": 501,
        "name": NAME,
        "full_name": f"{OWNER}/{NAME}",
        "private": False,
        "owner": {"login": OWNER, "id": 9, "type": "Organization"},
    }


def pull_request(head: str) -> dict[str, Any]:
    return {
        "number": NUMBER,
        "title": "Run commands",
        "state": "open",
        "draft": False,
        "user": {"login": AUTHOR, "id": 3, "type": "User"},
        "head": {"sha": head, "ref": "feature"},
        "base": {"sha": BASE, "ref": "main"},
    }


def pr_event(action: str, head: str) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "action": action,
        "number": NUMBER,
        "pull_request": pull_request(head),
        "repository": repository(),
        "installation": {"id": INSTALLATION},
        "sender": {"login": AUTHOR, "type": "User"},
    }
    if action == "synchronize":
        payload["before"], payload["after"] = H1, head
    return payload


def review_comment_event(
    comment: dict[str, Any], *, association: str, head: str = H1, action: str = "created"
) -> dict[str, Any]:
    """A `pull_request_review_comment` webhook for a comment stored on the fake."""
    return {
        "action": action,
        "comment": {**comment, "author_association": association},
        "pull_request": pull_request(head),
        "repository": repository(),
        "installation": {"id": INSTALLATION},
        "sender": comment["user"],
    }


def issue_comment_event(comment_id: int, body: str, login: str, association: str) -> dict[str, Any]:
    return {
        "action": "created",
        "issue": {
            "number": NUMBER,
            "pull_request": {"url": f"https://api.github.com/repos/{OWNER}/{NAME}/pulls/{NUMBER}"},
        },
        "comment": {
            "id": comment_id,
            "body": body,
            "user": {"login": login, "type": "User"},
            "author_association": association,
        },
        "repository": repository(),
        "installation": {"id": INSTALLATION},
    }


def open_pr(stack: Stack, files: list[dict[str, Any]] | None = None) -> None:
    gh = stack.github
    gh.add_repo(OWNER, NAME, INSTALLATION)
    gh.add_pull(
        OWNER,
        NAME,
        NUMBER,
        head_sha=H1,
        base_sha=BASE,
        author=AUTHOR,
        title="Run commands",
        files=files or [RUN],
    )
    gh.set_file(OWNER, NAME, H1, "app/run.py", RUN_AT_H1)
    gh.set_permission(OWNER, NAME, WRITER, "write")
    gh.set_permission(OWNER, NAME, STRANGER, "read")


def review_comments(stack: Stack) -> list[dict[str, Any]]:
    return stack.github.review_comments(OWNER, NAME, NUMBER)


def bot_roots(stack: Stack) -> list[dict[str, Any]]:
    return [
        c for c in review_comments(stack) if c["user"]["type"] == "Bot" and c.get("in_reply_to_id") is None
    ]


def bot_replies(stack: Stack, root_id: int) -> list[dict[str, Any]]:
    ours = stack.github.bot_login
    return [
        c for c in review_comments(stack) if c["user"]["login"] == ours and c.get("in_reply_to_id") == root_id
    ]


def wait_reviews(stack: Stack, n: int) -> list[dict[str, Any]]:
    return wait_for(
        lambda: r if len(r := stack.github.reviews(OWNER, NAME, NUMBER)) >= n else None, what=f"{n} review(s)"
    )


def wait_bot_replies(stack: Stack, root_id: int, n: int) -> list[dict[str, Any]]:
    return wait_for(
        lambda: r if len(r := bot_replies(stack, root_id)) >= n else None, what=f"{n} bot repl(ies)"
    )


def reply(stack: Stack, root_id: int, body: str, *, login: str, association: str) -> dict[str, Any]:
    """A person replies in the thread of `root_id`; the webhook is delivered."""
    comment = stack.github.add_review_reply(OWNER, NAME, NUMBER, root_id, body, user=login)
    response = stack.deliver(
        "pull_request_review_comment", review_comment_event(comment, association=association)
    )
    assert response.status_code in (200, 202), response.text
    return comment


def requests_for(stack: Stack, schema: str) -> list[Any]:
    out = []
    for r in stack.model.requests:
        fmt = r.response_format or {}
        name = fmt.get("json_schema", {}).get("name") if fmt.get("type") == "json_schema" else None
        if name == schema:
            out.append(r)
    return out
