"""The few GitHub objects the app reads, parsed from raw REST JSON (only the fields we use are required)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

CheckRunStatus = Literal["queued", "in_progress", "completed"]
CheckRunConclusion = Literal[
    "action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out"
]
ReactionContent = Literal["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class RepoRef(_Frozen):
    """A repository and the installation whose token may act on it."""

    owner: str
    name: str
    installation_id: int

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class PullRequestInfo(_Frozen):
    number: int
    title: str
    body: str | None
    draft: bool
    state: str
    head_sha: str
    head_ref: str
    base_sha: str
    base_ref: str
    author_login: str
    author_type: str
    html_url: str
    changed_files: int | None = None  # beyond 3000 the files API cannot list them all
    from_fork: bool = False  # the head branch lives in another repository (a fork, maybe deleted)
    repo_private: bool = False  # the base repository's visibility

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> PullRequestInfo:
        """Build from a `GET /repos/{o}/{r}/pulls/{n}` body."""
        user = data.get("user") or {}
        head_repo = data["head"].get("repo") or {}
        base_repo = data["base"].get("repo") or {}
        return cls(
            number=data["number"],
            title=data["title"],
            body=data.get("body"),
            draft=bool(data.get("draft", False)),
            state=data["state"],
            head_sha=data["head"]["sha"],
            head_ref=data["head"]["ref"],
            base_sha=data["base"]["sha"],
            base_ref=data["base"]["ref"],
            author_login=user.get("login", "ghost"),  # deleted accounts come back as null
            author_type=user.get("type", "User"),
            html_url=data["html_url"],
            changed_files=data.get("changed_files"),
            from_fork=bool(base_repo) and head_repo.get("full_name") != base_repo.get("full_name"),
            repo_private=bool(base_repo.get("private", False)),
        )


class PullFile(_Frozen):
    """One entry of the PR files (or compare) API; `patch` is None for binary or oversized files."""

    filename: str
    status: str  # added|removed|modified|renamed|copied|changed|unchanged (see app.diff.model.FileStatus)
    previous_filename: str | None = None
    additions: int = 0
    deletions: int = 0
    changes: int = 0
    patch: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> PullFile:
        return cls(
            filename=data["filename"],
            status=data["status"],
            previous_filename=data.get("previous_filename"),
            additions=data.get("additions", 0),
            deletions=data.get("deletions", 0),
            changes=data.get("changes", 0),
            patch=data.get("patch"),
        )


class ReviewComment(_Frozen):
    """A posted inline review comment; `line` is None once the comment is outdated."""

    id: int
    body: str
    path: str
    line: int | None
    user_login: str
    user_type: str | None = None
    in_reply_to_id: int | None = None  # set on replies: the id of the thread's first comment
    original_line: int | None = None
    commit_id: str | None = None
    original_commit_id: str | None = None
    diff_hunk: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ReviewComment:
        user = data.get("user") or {}
        return cls(
            id=data["id"],
            body=data.get("body") or "",
            path=data["path"],
            line=data.get("line"),
            user_login=user.get("login", "ghost"),
            user_type=user.get("type"),
            in_reply_to_id=data.get("in_reply_to_id"),
            original_line=data.get("original_line"),
            commit_id=data.get("commit_id"),
            original_commit_id=data.get("original_commit_id"),
            diff_hunk=data.get("diff_hunk") or "",
        )

    @property
    def by_bot(self) -> bool:
        return self.user_type == "Bot" or self.user_login.endswith("[bot]")


class Reaction(_Frozen):
    """One reaction on a comment: its content (`+1`, `-1`, ...) and who gave it."""

    content: str
    user_login: str
    user_type: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Reaction:
        user = data.get("user") or {}
        return cls(
            content=str(data.get("content", "")),
            user_login=user.get("login", "ghost"),
            user_type=user.get("type"),
        )


class ReviewThread(_Frozen):
    """A review thread as GraphQL shows it: its node id, whether it is resolved, its first comment's id."""

    id: str
    is_resolved: bool
    root_comment_id: int | None


class PostedText(_Frozen):
    """The body and author of a review or PR conversation comment (where our markers may sit)."""

    body: str
    user_login: str
    user_type: str | None = None
    commit_id: str | None = None  # reviews only: the head it was posted on
    id: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> PostedText:
        user = data.get("user") or {}
        raw_id = data.get("id")
        return cls(
            body=data.get("body") or "",
            user_login=user.get("login", "ghost"),
            user_type=user.get("type"),
            commit_id=data.get("commit_id"),
            id=raw_id if isinstance(raw_id, int) else None,
        )

    @property
    def by_bot(self) -> bool:
        return self.user_type == "Bot" or self.user_login.endswith("[bot]")


class Comparison(_Frozen):
    """What `compare/{base}...{head}` told: the files, or why they cannot be trusted."""

    status: Literal["ok", "missing", "truncated"]
    files: list[PullFile] = []
