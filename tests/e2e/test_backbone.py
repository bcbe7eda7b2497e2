"""Issue 2's promise end to end: a signed PR webhook becomes ONE review with comments on the right lines."""

from __future__ import annotations

import logging
import re
import time

import pytest

from tests.conftest import webhook_payload
from tests.e2e.harness import OPENAI_KEY, WEBHOOK_SECRET, Stack, wait_for, wait_summary

OWNER, NAME, NUMBER, INSTALLATION = "Codertocat", "Hello-World", 2, 1
HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
BASE = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"

APP_PATCH = "\n".join(
    [
        "@@ -1,4 +1,7 @@",
        " import os",
        "+import subprocess",
        " ",
        " def run(cmd):",
        "-    return os.system(cmd)",
        "+    # BUG: shell injection through cmd",
        "+    return subprocess.call(cmd, shell=True)",
        "+",
    ]
)
UTIL_PATCH = "\n".join(
    [
        "@@ -10,3 +10,4 @@ def helper():",
        "     a = 1",
        "+    b = 2  # TODO: name this",
        "     c = 3",
        "     d = 4",
    ]
)


def open_pr(stack: Stack, **kwargs: object) -> None:
    stack.github.add_repo(OWNER, NAME, INSTALLATION)
    stack.github.add_pull(
        OWNER,
        NAME,
        NUMBER,
        head_sha=HEAD,
        base_sha=BASE,
        base_ref="master",
        files=[
            {"filename": "app/run.py", "status": "modified", "patch": APP_PATCH},
            {"filename": "app/util.py", "status": "modified", "patch": UTIL_PATCH},
        ],
        **kwargs,  # type: ignore[arg-type]
    )


def test_pull_request_opened_becomes_one_review_on_the_right_lines(stack: Stack) -> None:
    open_pr(stack)
    payload = webhook_payload("pull_request.opened.payload.json")
    started = time.monotonic()
    response = stack.deliver("pull_request", payload, delivery="delivery-opened-1")
    answered = time.monotonic() - started
    assert response.status_code == 202, response.text

    reviews = wait_for(lambda: stack.github.reviews(OWNER, NAME, NUMBER), what="a posted review")
    elapsed = time.monotonic() - started
    print(f"\nwebhook answered in {answered * 1000:.1f} ms; review posted {elapsed:.2f} s after the webhook")
    assert len(reviews) == 1
    review = reviews[0]
    assert review["commit_id"] == HEAD
    assert review["state"] == "COMMENTED"
    link = re.search(r"http://mini-review\.test/runs/([0-9a-f]{32})", review["body"])
    assert link, review["body"]

    comments = stack.github.review_comments(OWNER, NAME, NUMBER)
    where = sorted((c["path"], c["line"], c["side"]) for c in comments)
    # BUG is on new line 5 of app/run.py. The TODO is a nit, below the default inline threshold,
    # so it goes to the summary instead.
    assert where == [("app/run.py", 5, "RIGHT")]
    assert "shell injection" not in comments[0]["body"] or "Bug marker" in comments[0]["body"]
    summary = wait_summary(stack.github, OWNER, NAME, NUMBER)
    assert "app/util.py" in summary and "TODO" in summary  # the nit's note lives in the summary comment

    # The same delivery again is acknowledged and does nothing more.
    again = stack.deliver("pull_request", payload, delivery="delivery-opened-1")
    assert again.status_code == 202 and "duplicate" in again.json()["outcome"]
    run = wait_for(
        lambda: (r := stack.run_json(link.group(1))).get("status") == "posted" and r, what="run record"
    )
    assert run["files_total"] == 2 and run["prompt_tokens"] > 0 and run["cost_usd"] > 0
    assert len(stack.github.reviews(OWNER, NAME, NUMBER)) == 1
    page = stack.client.get(f"{stack.url}/runs/{link.group(1)}")
    assert page.status_code == 200 and "app/run.py" in page.text


def test_bad_signature_is_401_and_enqueues_nothing(stack: Stack) -> None:
    open_pr(stack)
    payload = webhook_payload("pull_request.opened.payload.json")
    assert stack.deliver("pull_request", payload, signature="sha256=" + "0" * 64).status_code == 401
    assert stack.deliver("pull_request", payload, signature="").status_code == 401
    assert stack.deliver("pull_request", payload, secret="not-the-secret").status_code == 401
    # Prove nothing was queued: a valid delivery afterwards yields exactly one review.
    assert stack.deliver("pull_request", payload).status_code == 202
    wait_for(lambda: stack.github.reviews(OWNER, NAME, NUMBER), what="the valid delivery's review")
    assert len(stack.github.reviews(OWNER, NAME, NUMBER)) == 1
    assert len(stack.model.requests) == 1  # two small files packed into one call, one review


def test_bad_bodies_ping_and_unhandled_events(stack: Stack) -> None:
    assert stack.deliver("pull_request", b"not json").status_code == 400
    assert stack.deliver("pull_request", {"action": "opened"}).status_code == 400
    assert stack.deliver("pull_request", b"[1, 2]").status_code == 400
    assert stack.deliver("ping", webhook_payload("ping.with-app_id.payload.json")).status_code == 200
    assert stack.deliver("star", {"action": "created"}).status_code == 200
    assert stack.client.get(f"{stack.url}/healthz").status_code == 200


def test_secrets_never_reach_the_logs(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    open_pr(stack)
    payload = webhook_payload("pull_request.opened.payload.json")
    assert stack.deliver("pull_request", payload).status_code == 202
    assert stack.deliver("pull_request", payload, secret="wrong").status_code == 401
    wait_for(lambda: stack.github.reviews(OWNER, NAME, NUMBER), what="a posted review")
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "review queued" in logged  # the capture works
    key_body = stack.github.private_key_pem.splitlines()[1]
    for secret in (WEBHOOK_SECRET, OPENAI_KEY, key_body, "ghs_"):
        assert secret not in logged
