import copy

import pytest

from app.webhooks.intents import BadPayloadError, decide
from tests.conftest import webhook_payload


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("pull_request.opened.payload.json", "review queued"),
        ("pull_request.opened.with-null-body.json", "review queued"),
        ("pull_request.synchronize.payload.json", "review queued"),
        ("pull_request.reopened.payload.json", "review queued"),
        ("pull_request.ready_for_review.with-installation.payload.json", "review queued"),
        ("pull_request.labeled.payload.json", "ignored: pull_request action labeled"),
        (
            "pull_request.converted_to_draft.with-installation.payload.json",
            "ignored: pull_request action converted_to_draft",
        ),
    ],
)
def test_pull_request_actions(name: str, outcome: str) -> None:
    intent = decide("pull_request", webhook_payload(name), debounce_s=2.0)
    assert intent.outcome == outcome
    assert intent.repo == "Codertocat/Hello-World"
    assert intent.pr_number == 2
    assert intent.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    if outcome == "review queued":
        check, work = intent.work
        # The check run is created (queued) first; the review may wait for more pushes.
        assert check.kind == "check" and check.delay_s == 0.0 and check.payload["head_sha"] == intent.head_sha
        assert work.kind == "review" and work.key == "Codertocat/Hello-World#2"
        assert work.payload["head_sha"] == intent.head_sha
        assert work.delay_s == (2.0 if "synchronize" in name else 0.0)
    else:
        assert intent.work == []


def test_closed_cancels() -> None:
    intent = decide("pull_request", webhook_payload("pull_request.closed.payload.json"))
    assert intent.cancel_key == "Codertocat/Hello-World#2" and intent.work == []


@pytest.mark.parametrize(
    "name",
    [
        "issue_comment.created.payload.json",
        "issue_comment.created.1.payload.json",
        "issue_comment.created.with-installation.payload.json",
        "issue_comment.created.with-organization.payload.json",
        "issue_comment.edited.payload.json",
        "issue_comment.edited.with-organization.payload.json",
    ],
)
def test_comments_on_plain_issues_are_ignored(name: str) -> None:
    payload = webhook_payload(name)
    payload["comment"]["body"] = "/mini review"
    assert decide("issue_comment", payload).work == []


def _pr_comment(body: str, **user: str) -> dict:
    # Modified corpus payload: GitHub adds issue.pull_request for comments on PRs.
    payload = copy.deepcopy(webhook_payload("issue_comment.created.with-installation.payload.json"))
    payload["issue"]["pull_request"] = {"url": "https://api.github.com/repos/o/r/pulls/1"}
    payload["comment"]["body"] = body
    payload["comment"]["user"].update(user)
    return payload


def test_pr_comment_with_command_is_queued() -> None:
    intent = decide("issue_comment", _pr_comment("please\n/mini review --only risk"))
    (work,) = intent.work
    assert work.kind == "command" and work.payload["body"].endswith("--only risk")


def test_pr_comment_without_command_or_by_bot_is_ignored() -> None:
    assert decide("issue_comment", _pr_comment("LGTM")).work == []
    assert decide("issue_comment", _pr_comment("```\n/mini review\n```")).work == []
    assert (
        decide("issue_comment", _pr_comment("/mini review", login="mini-review[bot]", type="Bot")).work == []
    )


def test_check_run_rerequested_needs_our_check_and_a_pr() -> None:
    payload = webhook_payload("check_run.rerequested.payload.json")
    assert decide("check_run", payload).work == []  # not our check name, no PR
    payload["check_run"]["name"] = "mini-review"
    payload["check_run"]["external_id"] = "Codertocat/Hello-World#7"
    _check, work = decide("check_run", payload).work
    assert work.payload["number"] == 7 and work.payload["full"] is True


def test_installation_events_are_recorded() -> None:
    intent = decide(
        "installation_repositories", webhook_payload("installation_repositories.added.payload.json")
    )
    assert intent.installation is not None and intent.installation_id == 957387


def test_missing_fields_raise_bad_payload() -> None:
    with pytest.raises(BadPayloadError, match="pull_request"):
        decide("pull_request", {"action": "opened"})


def test_unknown_events_are_ignored() -> None:
    assert decide("star", {"action": "created"}).outcome == "ignored: event star"
