"""`pull_request_review_comment` deliveries: which become a thread-reply job, and why the rest do not."""

from __future__ import annotations

from typing import Any

import pytest

from app.jobs.models import JobKind, ThreadReplyJob
from app.webhooks.intents import BadPayloadError, decide


def event(
    action: str = "created", *, reply_to: int | None = 10, login: str = "dev", kind: str = "User"
) -> dict[str, Any]:
    comment: dict[str, Any] = {
        "id": 11,
        "body": "why?",
        "user": {"login": login, "type": kind},
        "author_association": "MEMBER",
        "path": "a.py",
    }
    if reply_to is not None:
        comment["in_reply_to_id"] = reply_to
    return {
        "action": action,
        "comment": comment,
        "pull_request": {
            "number": 3,
            "user": {"login": "author", "type": "User"},
            "head": {"sha": "h" * 40, "ref": "f"},
            "base": {"sha": "b" * 40, "ref": "main"},
        },
        "repository": {"name": "r", "owner": {"login": "o"}},
        "installation": {"id": 5},
    }


def test_a_reply_in_a_thread_queues_one_thread_reply_job() -> None:
    intent = decide("pull_request_review_comment", event())
    [work] = intent.work
    assert work.kind is JobKind.THREAD_REPLY and work.key == "o/r#3"
    job = ThreadReplyJob.model_validate(work.payload)
    assert (job.comment_id, job.in_reply_to_id, job.author, job.pr_author) == (11, 10, "dev", "author")
    assert job.author_association == "MEMBER" and intent.outcome == "thread reply queued"


@pytest.mark.parametrize(
    ("payload", "outcome"),
    [
        (event("edited"), "ignored: pull_request_review_comment action edited"),
        (event("deleted"), "ignored: pull_request_review_comment action deleted"),
        (event(reply_to=None), "ignored: not a reply in a thread"),
        (event(login="mini-review[bot]", kind="Bot"), "ignored: comment by a bot"),
        (event(login="renovate[bot]"), "ignored: comment by a bot"),
    ],
)
def test_edits_new_threads_and_bots_queue_nothing(payload: dict[str, Any], outcome: str) -> None:
    intent = decide("pull_request_review_comment", payload)
    assert intent.work == [] and intent.outcome == outcome


def test_a_payload_without_its_pull_request_is_refused() -> None:
    payload = event()
    del payload["pull_request"]
    with pytest.raises(BadPayloadError, match="pull_request"):
        decide("pull_request_review_comment", payload)
