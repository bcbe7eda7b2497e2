"""What the pipeline needs from the outside, as small Protocols: GitHub, the store, the reviewer.

The real adapters (`GitHubApi`, `Store`, `ModelReviewer`) and the in-memory fakes in
`tests/fakes/ports.py` both fit; `app.wiring` passes the real ones in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from app.diff.model import Chunk
from app.github.models import (
    CheckRunConclusion,
    CheckRunStatus,
    Comparison,
    PostedText,
    PullFile,
    PullRequestInfo,
    ReactionContent,
    RepoRef,
    ReviewComment,
)
from app.review.prompts import PrContext
from app.review.reuse import CallResults
from app.review.reviewer import ChunkDone, ReviewOutcome
from app.storage.models import ChunkResultRow, PullState, Run, RunUpdate


class GitHubPort(Protocol):
    async def get_pull(self, repo: RepoRef, number: int) -> PullRequestInfo: ...

    async def list_pull_files(self, repo: RepoRef, number: int) -> list[PullFile]: ...

    async def compare_files(self, repo: RepoRef, base_sha: str, head_sha: str) -> list[PullFile] | None: ...

    async def compare_diff(self, repo: RepoRef, base: str, head: str) -> Comparison: ...

    async def update_issue_comment(self, repo: RepoRef, comment_id: int, body: str) -> bool: ...

    async def get_file(self, repo: RepoRef, path: str, ref: str | None) -> bytes | None: ...

    async def repo_is_private(self, repo: RepoRef) -> bool: ...

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

    async def list_check_runs(self, repo: RepoRef, head_sha: str, name: str) -> list[tuple[int, str]]:
        """(id, status) of this App's own check runs called `name` on a commit, never another App's."""
        ...

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


class InstallationClients(Protocol):
    """Hands out a GitHub client acting as one installation of the App."""

    async def for_installation(self, installation_id: int) -> GitHubPort: ...

    async def bot_login(self) -> str:
        """The login the App's own comments carry (only those may hold markers we trust)."""
        ...


class FingerprintStore(Protocol):
    """What was already posted on a PR, so nothing is said twice."""

    async def posted_fingerprints(self, repo: str, pr_number: int) -> set[str]: ...

    async def remember_fingerprints(
        self, repo: str, pr_number: int, run_id: str, items: Iterable[tuple[str, str]]
    ) -> None: ...


class PullStateStore(Protocol):
    async def pull_state(self, repo: str, pr_number: int) -> PullState: ...

    async def set_reviewed_head(self, repo: str, pr_number: int, head_sha: str) -> None: ...

    async def set_paused(self, repo: str, pr_number: int, paused: bool) -> None: ...


class SpendStore(Protocol):
    async def spent_since(self, owner: str, since: datetime) -> float:
        """USD spent by the runs of one account's repositories since `since`."""
        ...


class ChunkResultStore(Protocol):
    """Review call results kept across the attempts of one review job (see `app.review.reuse`)."""

    async def chunk_results(self, job_run_id: str, head_sha: str) -> dict[str, dict[str, Any]]: ...

    async def save_chunk_result(self, row: ChunkResultRow) -> None: ...


class RunStore(FingerprintStore, PullStateStore, SpendStore, ChunkResultStore, Protocol):
    """The run record and the per-PR memory a review reads and writes."""

    async def start_run(
        self, run_id: str, *, repo: str, pr_number: int, trigger: str, head_sha: str | None
    ) -> None: ...

    async def update_run(self, run_id: str, changes: RunUpdate) -> None: ...

    async def get_run(self, run_id: str) -> Run | None: ...


PathInstructions = Callable[[str], Sequence[str]]


class ReviewerPort(Protocol):
    """Reviews chunks with the model (redaction, budget and retries are the adapter's business)."""

    async def review(
        self,
        chunks: Sequence[Chunk],
        context: PrContext,
        *,
        instructions_for_path: PathInstructions,
        on_chunk_done: ChunkDone | None = None,
        head_texts: Mapping[str, str] | None = None,
        cache_key: str | None = None,
        results: CallResults | None = None,
    ) -> ReviewOutcome: ...
