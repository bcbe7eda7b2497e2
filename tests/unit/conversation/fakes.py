"""In-process fakes of conversation's ports: a recording GitHub and a scripted structured model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from app.errors import ModelError
from app.github.models import PullRequestInfo, Reaction, RepoRef, ReviewComment, ReviewThread
from app.review.prompts import Message
from app.review.usage import Usage

REPO = RepoRef(owner="o", name="r", installation_id=1)
HEAD = "h" * 40
OURS = (
    "**\U0001f7e0 risk \u00b7 major: Bug marker left in code**\n\nShell injection.\n\n"
    "<!-- mini-review:fp={fp} -->"
)


@dataclass
class MemoryGitHub:
    comments: list[ReviewComment] = field(default_factory=list)
    reactions: dict[int, list[Reaction]] = field(default_factory=dict)
    threads: list[ReviewThread] = field(default_factory=list)
    files: dict[tuple[str, str], bytes] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    replies: list[tuple[int, str]] = field(default_factory=list)
    issue_comments: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    head: str = HEAD

    def ours(self, comment_id: int, fp: str, *, path: str = "app/run.py", line: int = 4) -> ReviewComment:
        comment = ReviewComment(
            id=comment_id,
            body=OURS.format(fp=fp),
            path=path,
            line=line,
            user_login="mini-review[bot]",
            user_type="Bot",
            original_line=line,
            commit_id="c0",
            original_commit_id="c0",
        )
        self.comments.append(comment)
        self.threads.append(ReviewThread(id=f"T{comment_id}", is_resolved=False, root_comment_id=comment_id))
        return comment

    def person_reply(self, comment_id: int, root: int, body: str, login: str) -> ReviewComment:
        comment = ReviewComment(
            id=comment_id,
            body=body,
            path="app/run.py",
            line=4,
            user_login=login,
            user_type="User",
            in_reply_to_id=root,
        )
        self.comments.append(comment)
        return comment

    async def get_pull(self, repo: RepoRef, number: int) -> PullRequestInfo:
        return PullRequestInfo(
            number=number,
            title="T",
            body="B",
            draft=False,
            state="open",
            head_sha=self.head,
            head_ref="f",
            base_sha="b" * 40,
            base_ref="main",
            author_login="author",
            author_type="User",
            html_url="u",
        )

    async def get_file(self, repo: RepoRef, path: str, ref: str | None) -> bytes | None:
        return self.files.get((ref or "", path))

    async def get_permission(self, repo: RepoRef, username: str) -> str:
        return self.permissions.get(username, "none")

    async def list_review_comments(self, repo: RepoRef, number: int) -> list[ReviewComment]:
        return list(self.comments)

    async def list_review_comment_reactions(self, repo: RepoRef, comment_id: int) -> list[Reaction]:
        return list(self.reactions.get(comment_id, []))

    async def reply_to_review_comment(self, repo: RepoRef, number: int, comment_id: int, body: str) -> int:
        self.replies.append((comment_id, body))
        return 10_000 + len(self.replies)

    async def create_issue_comment(self, repo: RepoRef, number: int, body: str) -> int:
        self.issue_comments.append(body)
        return 20_000 + len(self.issue_comments)

    async def list_review_threads(self, repo: RepoRef, number: int) -> list[ReviewThread]:
        return list(self.threads)

    async def resolve_review_thread(self, repo: RepoRef, thread_id: str) -> None:
        self.resolved.append(thread_id)


@dataclass
class ScriptedModel:
    """Answers each call with the next scripted value (a dict) or raises it (an exception)."""

    script: list[dict[str, Any] | Exception] = field(default_factory=list)
    calls: list[tuple[str, list[Message]]] = field(default_factory=list)

    async def complete(
        self,
        messages: list[Message],
        *,
        name: str,
        schema: dict[str, Any],
        output: type[Any],
        model: str,
        max_completion_tokens: int | None = None,
    ) -> tuple[Any, Usage]:
        self.calls.append((name, messages))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        value: BaseModel = output.model_validate(step)
        return value, Usage(prompt_tokens=100, completion_tokens=10, calls=1)


__all__ = ["HEAD", "REPO", "MemoryGitHub", "ModelError", "ScriptedModel"]
