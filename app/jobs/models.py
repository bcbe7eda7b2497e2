"""What a job asks for: validated payloads stored in the queue."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from app.github.models import RepoRef


class JobKind(StrEnum):
    """What a queued job does; the worker has one handler per kind."""

    REVIEW = "review"
    COMMAND = "command"
    CHECK = "check"
    CLOSE_CHECKS = "close_checks"
    THREAD_REPLY = "thread_reply"


class JobStatus(StrEnum):
    """Where a job is in the queue; stored in `jobs.status`."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class ReviewJob(BaseModel):
    """Review a PR at its newest head (the head seen at enqueue time is only a hint)."""

    kind: Literal["review"] = "review"
    repo: RepoRef
    number: int
    head_sha: str
    trigger: str  # e.g. "pull_request.opened", "command:review", "check_run.rerequested"
    full: bool = False  # ignore history: review everything again
    only: list[str] | None = None  # categories to keep; None = all enabled
    requested_by: str | None = None
    check_run_id: int | None = None  # the queued check run created for this head, if any
    run_id: str | None = None  # planned run id: the queued check run already links to its page
    stale_check_run_ids: list[int] = Field(default_factory=list)  # queued for heads since replaced

    def merged_with(self, newer: ReviewJob) -> ReviewJob:
        """Coalesce a queued job with a newer request for the same PR: newest head, widest scope."""
        only = None if self.only is None or newer.only is None else sorted(set(self.only) | set(newer.only))
        keep = newer.check_run_id or (self.check_run_id if self.head_sha == newer.head_sha else None)
        run_id = newer.run_id if newer.check_run_id else (self.run_id if keep == self.check_run_id else None)
        stale = [*self.stale_check_run_ids, *newer.stale_check_run_ids]
        if self.check_run_id is not None and self.check_run_id != keep:
            stale.append(self.check_run_id)
        # An explicit request (a command, a re-run) outranks a later automatic push: a paused or
        # draft PR must still get the review someone asked for.
        asked = self.is_explicit() and not newer.is_explicit()
        return newer.model_copy(
            update={
                "trigger": self.trigger if asked else newer.trigger,
                "requested_by": self.requested_by if asked else newer.requested_by,
                "full": self.full or newer.full,
                "only": only,
                "check_run_id": keep,
                "run_id": run_id,
                "stale_check_run_ids": sorted(set(stale)),
            }
        )

    def is_explicit(self) -> bool:
        """Asked for by someone (a command or a re-run), not started by a push or an opened PR."""
        return not self.trigger.startswith("pull_request.")

    def all_check_run_ids(self) -> list[int]:
        ids = list(self.stale_check_run_ids)
        if self.check_run_id is not None:
            ids.append(self.check_run_id)
        return ids


class CheckJob(BaseModel):
    """Create the PR head's check run in state `queued` as soon as its review is queued."""

    kind: Literal["check"] = "check"
    repo: RepoRef
    number: int
    head_sha: str


class CloseChecksJob(BaseModel):
    """Complete check runs whose queued reviews were cancelled (the PR was closed)."""

    kind: Literal["close_checks"] = "close_checks"
    repo: RepoRef
    check_run_ids: list[int]


class CommandJob(BaseModel):
    """A slash command from a PR conversation comment, checked and acted on by the worker."""

    kind: Literal["command"] = "command"
    repo: RepoRef
    number: int
    comment_id: int
    body: str
    author: str
    author_type: str | None = None
    author_association: str = "NONE"


def pr_key(repo: RepoRef, number: int) -> str:
    return f"{repo.full_name}#{number}"


class ThreadReplyJob(BaseModel):
    """A reply in a review thread (`pull_request_review_comment`), answered by the worker if it is ours."""

    kind: Literal["thread_reply"] = "thread_reply"
    repo: RepoRef
    number: int
    comment_id: int
    in_reply_to_id: int
    body: str
    author: str
    author_type: str | None = None
    author_association: str = "NONE"
    pr_author: str
