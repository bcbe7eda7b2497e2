"""The GitHub calls the pipeline makes, as a Protocol: the real adapter and test doubles both fit."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from app.github.models import (
    CheckRunConclusion,
    CheckRunStatus,
    PostedText,
    PullFile,
    PullRequestInfo,
    ReactionContent,
    RepoRef,
    ReviewComment,
)


class GitHubPort(Protocol):
    async def get_pull(self, repo: RepoRef, number: int) -> PullRequestInfo: ...

    async def list_pull_files(self, repo: RepoRef, number: int) -> list[PullFile]: ...

    async def compare_files(self, repo: RepoRef, base_sha: str, head_sha: str) -> list[PullFile] | None: ...

    async def get_file(self, repo: RepoRef, path: str, ref: str | None) -> bytes | None: ...

    async def list_review_comments(self, repo: RepoRef, number: int) -> list[ReviewComment]: ...

    async def list_review_texts(self, repo: RepoRef, number: int) -> list[PostedText]: ...

    async def list_issue_comment_texts(self, repo: RepoRef, number: int) -> list[PostedText]: ...

    async def create_review(
        self, repo: RepoRef, number: int, *, commit_id: str, body: str, comments: list[dict[str, object]]
    ) -> int: ...

    async def create_issue_comment(self, repo: RepoRef, number: int, body: str) -> int: ...

    async def add_reaction(
        self, repo: RepoRef, comment_id: int, content: ReactionContent = "eyes"
    ) -> None: ...

    async def get_permission(self, repo: RepoRef, username: str) -> str: ...

    async def create_check_run(
        self,
        repo: RepoRef,
        *,
        head_sha: str,
        name: str,
        status: CheckRunStatus,
        details_url: str,
        external_id: str,
        started_at: datetime | None = None,
    ) -> int: ...

    async def update_check_run(
        self,
        repo: RepoRef,
        check_run_id: int,
        *,
        status: CheckRunStatus | None = None,
        conclusion: CheckRunConclusion | None = None,
        details_url: str | None = None,
        started_at: datetime | None = None,
        completed_at: datetime | None = None,
        title: str | None = None,
        summary: str | None = None,
        text: str | None = None,
    ) -> None: ...
