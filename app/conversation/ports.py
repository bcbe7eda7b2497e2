"""What conversation needs from GitHub and the model, as Protocols (the real adapters fit both)."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from app.github.models import PullRequestInfo, Reaction, RepoRef, ReviewComment, ReviewThread
from app.review.prompts import Message
from app.review.usage import Usage

M = TypeVar("M", bound=BaseModel)


class IssueCommenter(Protocol):
    async def create_issue_comment(self, repo: RepoRef, number: int, body: str) -> int: ...


@runtime_checkable
class ConversationGitHub(Protocol):
    async def get_pull(self, repo: RepoRef, number: int) -> PullRequestInfo: ...

    async def get_file(self, repo: RepoRef, path: str, ref: str | None) -> bytes | None: ...

    async def get_permission(self, repo: RepoRef, username: str) -> str: ...

    async def list_review_comments(self, repo: RepoRef, number: int) -> list[ReviewComment]: ...

    async def list_review_comment_reactions(self, repo: RepoRef, comment_id: int) -> list[Reaction]: ...

    async def reply_to_review_comment(
        self, repo: RepoRef, number: int, comment_id: int, body: str
    ) -> int: ...

    async def create_issue_comment(self, repo: RepoRef, number: int, body: str) -> int: ...

    async def list_review_threads(self, repo: RepoRef, number: int) -> list[ReviewThread]: ...

    async def resolve_review_thread(self, repo: RepoRef, thread_id: str) -> None: ...


class StructuredModel(Protocol):
    async def complete(
        self,
        messages: list[Message],
        *,
        name: str,
        schema: dict[str, Any],
        output: type[M],
        model: str,
        max_completion_tokens: int | None = None,
    ) -> tuple[M, Usage]: ...
