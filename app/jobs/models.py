"""What a job asks for: validated payloads stored in the queue."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class RepoTarget(BaseModel):
    model_config = ConfigDict(frozen=True)

    owner: str
    name: str
    installation_id: int

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class ReviewJob(BaseModel):
    """Review a PR at its newest head (the head seen at enqueue time is only a hint)."""

    kind: Literal["review"] = "review"
    repo: RepoTarget
    number: int
    head_sha: str
    trigger: str  # e.g. "pull_request.opened", "command:review", "check_run.rerequested"
    full: bool = False  # ignore history: review everything again
    only: list[str] | None = None  # categories to keep; None = all enabled
    requested_by: str | None = None
    check_run_id: int | None = None

    def merged_with(self, newer: ReviewJob) -> ReviewJob:
        """Coalesce a queued job with a newer request for the same PR: newest head, widest scope."""
        only = None if self.only is None or newer.only is None else sorted(set(self.only) | set(newer.only))
        return newer.model_copy(
            update={
                "full": self.full or newer.full,
                "only": only,
                "check_run_id": newer.check_run_id
                or (self.check_run_id if self.head_sha == newer.head_sha else None),
            }
        )


class CommandJob(BaseModel):
    """A slash command from a PR conversation comment, checked and acted on by the worker."""

    kind: Literal["command"] = "command"
    repo: RepoTarget
    number: int
    comment_id: int
    body: str
    author: str
    author_type: str | None = None
    author_association: str = "NONE"


def pr_key(repo: RepoTarget, number: int) -> str:
    return f"{repo.full_name}#{number}"
