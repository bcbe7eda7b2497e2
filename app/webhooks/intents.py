"""Turn a verified webhook into an intent: what to persist and enqueue. Pure: no I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.commands.parse import parse_commands
from app.github.models import RepoRef
from app.jobs.models import CheckJob, CommandJob, JobKind, ReviewJob, ThreadReplyJob, pr_key
from app.product import CHECK_RUN_NAME, COMMAND_PREFIX
from app.webhooks.events import (
    CheckRunEvent,
    InstallationEvent,
    InstallationRef,
    IssueCommentEvent,
    PullRequestEvent,
    Repository,
    ReviewCommentEvent,
)

REVIEW_ACTIONS = frozenset({"opened", "reopened", "synchronize", "ready_for_review"})


class BadPayloadError(ValueError):
    """The body is JSON but lacks fields this event needs."""


@dataclass(frozen=True, slots=True)
class QueuedWork:
    kind: JobKind
    key: str
    payload: dict[str, Any]
    delay_s: float = 0.0


@dataclass(slots=True)
class Intent:
    outcome: str  # short, human: shown in logs and the deliveries table
    repo: str | None = None
    pr_number: int | None = None
    head_sha: str | None = None
    installation_id: int | None = None
    work: list[QueuedWork] = field(default_factory=list)
    cancel_key: str | None = None
    cancel_repo: RepoRef | None = None
    installation: InstallationEvent | None = None


def _target(repository: Repository, installation: InstallationRef | None) -> RepoRef | None:
    if installation is None:
        return None
    return RepoRef(owner=repository.owner.login, name=repository.name, installation_id=installation.id)


def _looks_like_bot(login: str, user_type: str | None) -> bool:
    return user_type == "Bot" or login.endswith("[bot]")


def _pull_request(event: PullRequestEvent, debounce_s: float) -> Intent:
    pr = event.pull_request
    target = _target(event.repository, event.installation)
    intent = Intent(
        outcome="",
        repo=f"{event.repository.owner.login}/{event.repository.name}",
        pr_number=pr.number,
        head_sha=pr.head.sha,
        installation_id=event.installation.id if event.installation else None,
    )
    if target is None:
        intent.outcome = "ignored: no installation in payload"
        return intent
    key = pr_key(target, pr.number)
    if event.action == "closed":
        intent.cancel_key, intent.cancel_repo = key, target
        intent.outcome = "cancelled queued work: PR closed"
        return intent
    if event.action not in REVIEW_ACTIONS:
        intent.outcome = f"ignored: pull_request action {event.action}"
        return intent
    job = ReviewJob(
        repo=target, number=pr.number, head_sha=pr.head.sha, trigger=f"pull_request.{event.action}"
    )
    # Pushes come in bursts: a short delay lets the next push fold into this job.
    delay = debounce_s if event.action == "synchronize" else 0.0
    check = CheckJob(repo=target, number=pr.number, head_sha=pr.head.sha)
    intent.work.append(QueuedWork(JobKind.CHECK, key, check.model_dump(mode="json")))
    intent.work.append(QueuedWork(JobKind.REVIEW, key, job.model_dump(mode="json"), delay))
    intent.outcome = "review queued"
    return intent


def _has_command(body: str) -> bool:
    # Cheap pre-check before the real parser: most PR comments are not commands.
    return COMMAND_PREFIX in body.lower() and bool(parse_commands(body))


def _issue_comment(event: IssueCommentEvent) -> Intent:
    intent = Intent(
        outcome="",
        repo=f"{event.repository.owner.login}/{event.repository.name}",
        pr_number=event.issue.number,
        installation_id=event.installation.id if event.installation else None,
    )
    target = _target(event.repository, event.installation)
    body = event.comment.body or ""
    if event.action != "created":
        intent.outcome = f"ignored: issue_comment action {event.action}"
    elif event.issue.pull_request is None:
        intent.outcome = "ignored: comment is not on a pull request"
    elif _looks_like_bot(event.comment.user.login, event.comment.user.type):
        intent.outcome = "ignored: comment by a bot"
    elif target is None:
        intent.outcome = "ignored: no installation in payload"
    elif not _has_command(body):
        intent.outcome = "ignored: no command"
    else:
        job = CommandJob(
            repo=target,
            number=event.issue.number,
            comment_id=event.comment.id,
            body=body,
            author=event.comment.user.login,
            author_type=event.comment.user.type,
            author_association=event.comment.author_association,
        )
        intent.work.append(
            QueuedWork(JobKind.COMMAND, pr_key(target, event.issue.number), job.model_dump(mode="json"))
        )
        intent.outcome = "command queued"
    return intent


def _review_comment(event: ReviewCommentEvent) -> Intent:
    """A reply in a review thread: the worker answers it when the thread is ours (edits never re-trigger)."""
    comment = event.comment
    intent = Intent(
        outcome="",
        repo=f"{event.repository.owner.login}/{event.repository.name}",
        pr_number=event.pull_request.number,
        head_sha=event.pull_request.head.sha,
        installation_id=event.installation.id if event.installation else None,
    )
    target = _target(event.repository, event.installation)
    if event.action != "created":
        intent.outcome = f"ignored: pull_request_review_comment action {event.action}"
    elif comment.in_reply_to_id is None:
        intent.outcome = "ignored: not a reply in a thread"
    elif _looks_like_bot(comment.user.login, comment.user.type):
        intent.outcome = "ignored: comment by a bot"
    elif target is None:
        intent.outcome = "ignored: no installation in payload"
    else:
        job = ThreadReplyJob(
            repo=target,
            number=event.pull_request.number,
            comment_id=comment.id,
            in_reply_to_id=comment.in_reply_to_id,
            body=comment.body or "",
            author=comment.user.login,
            author_type=comment.user.type,
            author_association=comment.author_association,
            pr_author=event.pull_request.user.login,
        )
        key = pr_key(target, event.pull_request.number)
        intent.work.append(QueuedWork(JobKind.THREAD_REPLY, key, job.model_dump(mode="json")))
        intent.outcome = "thread reply queued"
    return intent


def _check_run(event: CheckRunEvent) -> Intent:
    run = event.check_run
    intent = Intent(
        outcome="",
        repo=f"{event.repository.owner.login}/{event.repository.name}",
        head_sha=run.head_sha,
        installation_id=event.installation.id if event.installation else None,
    )
    target = _target(event.repository, event.installation)
    number = run.pull_requests[0].number if run.pull_requests else _number_from_external_id(run.external_id)
    intent.pr_number = number
    if event.action != "rerequested" or run.name != CHECK_RUN_NAME:
        intent.outcome = f"ignored: check_run action {event.action}"
    elif target is None or number is None:
        intent.outcome = "ignored: check run not tied to a pull request"
    else:
        job = ReviewJob(
            repo=target, number=number, head_sha=run.head_sha, trigger="check_run.rerequested", full=True
        )
        check = CheckJob(repo=target, number=number, head_sha=run.head_sha)
        key = pr_key(target, number)
        intent.work.append(QueuedWork(JobKind.CHECK, key, check.model_dump(mode="json")))
        intent.work.append(QueuedWork(JobKind.REVIEW, key, job.model_dump(mode="json")))
        intent.outcome = "review queued (re-run)"
    return intent


def _number_from_external_id(external_id: str | None) -> int | None:
    # We set external_id to "owner/name#number" on the check runs we create.
    if external_id and "#" in external_id:
        tail = external_id.rsplit("#", 1)[1]
        if tail.isdigit():
            return int(tail)
    return None


def decide(event_name: str, payload: dict[str, Any], *, debounce_s: float = 0.0) -> Intent:
    """Map one delivery to its intent; raise BadPayloadError when a handled event lacks fields."""
    try:
        if event_name == "pull_request":
            return _pull_request(PullRequestEvent.model_validate(payload), debounce_s)
        if event_name == "issue_comment":
            return _issue_comment(IssueCommentEvent.model_validate(payload))
        if event_name == "check_run":
            return _check_run(CheckRunEvent.model_validate(payload))
        if event_name == "pull_request_review_comment":
            return _review_comment(ReviewCommentEvent.model_validate(payload))
        if event_name in ("installation", "installation_repositories"):
            event = InstallationEvent.model_validate(payload)
            return Intent(
                outcome=f"installation {event.action} recorded",
                installation_id=event.installation.id,
                installation=event,
            )
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise BadPayloadError(f"{event_name} payload missing or invalid: {', '.join(fields[:5])}") from None
    return Intent(outcome=f"ignored: event {event_name}")
