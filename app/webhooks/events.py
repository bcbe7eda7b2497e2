"""Minimal models of the webhook payloads we act on: only the fields we use are required."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Account(_Lenient):
    login: str
    type: str | None = None


class Repository(_Lenient):
    name: str
    owner: Account
    full_name: str | None = None


class InstallationRef(_Lenient):
    id: int


class GitRef(_Lenient):
    sha: str
    ref: str | None = None


class PullRequest(_Lenient):
    number: int
    title: str = ""
    draft: bool = False
    state: str = "open"
    head: GitRef
    base: GitRef
    user: Account


class PullRequestEvent(_Lenient):
    action: str
    number: int | None = None
    pull_request: PullRequest
    repository: Repository
    installation: InstallationRef | None = None
    before: str | None = None
    after: str | None = None


class Issue(_Lenient):
    number: int
    pull_request: dict[str, Any] | None = None  # present only when the issue is a PR


class Comment(_Lenient):
    id: int
    body: str | None = ""
    user: Account
    author_association: str = "NONE"


class IssueCommentEvent(_Lenient):
    action: str
    issue: Issue
    comment: Comment
    repository: Repository
    installation: InstallationRef | None = None


class ReviewCommentBody(_Lenient):
    id: int
    body: str | None = ""
    user: Account
    author_association: str = "NONE"
    in_reply_to_id: int | None = None  # set when the comment answers another one in its thread


class ReviewCommentEvent(_Lenient):
    action: str
    comment: ReviewCommentBody
    pull_request: PullRequest
    repository: Repository
    installation: InstallationRef | None = None


class CheckRunPull(_Lenient):
    number: int


class CheckRun(_Lenient):
    id: int
    name: str = ""
    head_sha: str
    external_id: str | None = None
    pull_requests: list[CheckRunPull] = Field(default_factory=list)


class CheckRunEvent(_Lenient):
    action: str
    check_run: CheckRun
    repository: Repository
    installation: InstallationRef | None = None


class InstalledRepo(_Lenient):
    full_name: str


class InstallationFull(_Lenient):
    id: int
    account: Account | None = None


class InstallationEvent(_Lenient):
    action: str
    installation: InstallationFull
    repositories: list[InstalledRepo] | None = None
    repositories_added: list[InstalledRepo] | None = None
    repositories_removed: list[InstalledRepo] | None = None
