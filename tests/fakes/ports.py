"""In-process recording fakes of the pipeline's ports: GitHub, the run store, the reviewer.

They let `tests/unit/pipeline/` drive a whole `ReviewRun` in milliseconds without HTTP. The HTTP fakes
(`tests/fakes/github.py`, `tests/fakes/openai_server.py`) stay the judges of the real adapters; these
enforce the same rules the pipeline depends on:
- bodies are at most 65,536 characters;
- a review is all-or-nothing: one comment GitHub cannot place (checked by the fake's OWN patch reader,
  `tests.fakes.github_diff`, never the app's parser) refuses the whole review with a 422
  (`ReviewRejectedError`) and stores nothing;
- check runs move queued → in_progress → completed, and a completed run needs a conclusion.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.diff.model import Chunk
from app.errors import GitHubPermanentError, ModelError, ReviewRejectedError
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
from app.pipeline.ports import PathInstructions
from app.review.findings import Finding
from app.review.prompts import PrContext
from app.review.redact import redact_chunk
from app.review.reuse import CallResults, SavedCall
from app.review.reviewer import BUDGET_REACHED, ChunkDone, ChunkFailure, ReviewOutcome
from app.review.usage import Usage
from app.storage.models import ChunkResultRow, PullState, Run, RunStatus, RunUpdate
from tests.fakes.github_diff import PatchError, locate, parse_patch

BOT = "mini-review[bot]"
MAX_BODY = 65_536  # GitHub's limit on a review body and on each comment body


@dataclass
class PostedReview:
    id: int
    commit_id: str
    body: str
    comments: list[dict[str, object]]


@dataclass
class FakePull:
    info: PullRequestInfo
    files: list[PullFile]
    # Later views of the PR: each `get_pull` after the first takes the next one (head moved, closed...).
    later: list[PullRequestInfo] = field(default_factory=list)
    # The diff as GitHub has it after our first fetch (e.g. a force-push): used from then on.
    files_after_fetch: list[PullFile] | None = None
    reviews: list[PostedReview] = field(default_factory=list)
    review_comments: list[ReviewComment] = field(default_factory=list)
    issue_comments: list[PostedText] = field(default_factory=list)
    get_pull_calls: int = 0
    file_fetches: int = 0


class MemoryGitHub:
    """An in-memory GitHub for one repository; records every write."""

    def __init__(self) -> None:
        self.pulls: dict[int, FakePull] = {}
        self.contents: dict[tuple[str, str | None], bytes] = {}  # (path, ref) -> bytes
        self.unreadable: dict[tuple[str, str | None], Exception] = {}  # (path, ref) -> what reading raises
        self.private_repos: set[str] = set()  # full names
        # compare/{base}...{head}: the PR's diff at a head; None (or absent) answers 404, as for a
        # head a force-push dropped; "truncated" is GitHub's 300-file cap.
        self.compares: dict[tuple[str, str], list[PullFile] | None | str] = {}
        self.check_runs: dict[int, list[dict[str, Any]]] = {}  # id -> every state it went through
        self.permissions: dict[str, str] = {}
        self.reactions: list[tuple[int, str]] = []
        self.rejected_reviews = 0
        self._ids = itertools.count(1000)

    # -- arranging -------------------------------------------------------------------------------
    def add_pull(self, pr: PullRequestInfo, files: list[PullFile]) -> FakePull:
        self.pulls[pr.number] = FakePull(info=pr, files=files)
        return self.pulls[pr.number]

    def set_file(self, path: str, ref: str | None, content: str) -> None:
        self.contents[(path, ref)] = content.encode()

    # -- reads -----------------------------------------------------------------------------------
    def _pull(self, number: int) -> FakePull:
        if number not in self.pulls:
            raise GitHubPermanentError(f"pull {number} not found", status=404)
        return self.pulls[number]

    async def get_pull(self, repo: RepoRef, number: int) -> PullRequestInfo:
        pull = self._pull(number)
        pull.get_pull_calls += 1
        if pull.get_pull_calls > 1 and pull.later:
            pull.info = pull.later.pop(0)
        return pull.info

    async def list_pull_files(self, repo: RepoRef, number: int) -> list[PullFile]:
        pull = self._pull(number)
        pull.file_fetches += 1
        files = pull.files
        if pull.files_after_fetch is not None:
            pull.files, pull.files_after_fetch = pull.files_after_fetch, None
        return list(files)

    async def compare_files(self, repo: RepoRef, base_sha: str, head_sha: str) -> list[PullFile] | None:
        found = self.compares.get((base_sha, head_sha))
        return found if isinstance(found, list) else None

    async def compare_diff(self, repo: RepoRef, base: str, head: str) -> Comparison:
        found = self.compares.get((base, head))
        if found == "truncated":
            return Comparison(status="truncated")
        if isinstance(found, list):
            return Comparison(status="ok", files=found)
        return Comparison(status="missing")

    async def update_issue_comment(self, repo: RepoRef, comment_id: int, body: str) -> bool:
        for pull in self.pulls.values():
            for index, comment in enumerate(pull.issue_comments):
                if comment.id == comment_id:
                    pull.issue_comments[index] = comment.model_copy(update={"body": body})
                    return True
        return False

    async def get_file(self, repo: RepoRef, path: str, ref: str | None) -> bytes | None:
        if (path, ref) in self.unreadable:
            raise self.unreadable[(path, ref)]
        return self.contents.get((path, ref))

    async def repo_is_private(self, repo: RepoRef) -> bool:
        return repo.full_name in self.private_repos

    async def list_review_comments(self, repo: RepoRef, number: int) -> list[ReviewComment]:
        return list(self._pull(number).review_comments)

    async def list_review_texts(self, repo: RepoRef, number: int) -> list[PostedText]:
        return [
            PostedText(body=r.body, user_login=BOT, user_type="Bot", commit_id=r.commit_id, id=r.id)
            for r in self._pull(number).reviews
        ]

    async def list_issue_comment_texts(self, repo: RepoRef, number: int) -> list[PostedText]:
        return list(self._pull(number).issue_comments)

    async def get_permission(self, repo: RepoRef, username: str) -> str:
        return self.permissions.get(username, "read")

    # -- writes ----------------------------------------------------------------------------------
    async def create_review(
        self, repo: RepoRef, number: int, *, commit_id: str, body: str, comments: list[dict[str, object]]
    ) -> int:
        pull = self._pull(number)
        patches = {f.filename: f.patch for f in pull.files}
        if len(body) > MAX_BODY:
            self.rejected_reviews += 1
            raise ReviewRejectedError(
                "422 Unprocessable Entity: Body is too long (maximum is 65536 characters)"
            )
        for comment in comments:
            problem = _refusal(patches, comment)
            if problem is not None:
                self.rejected_reviews += 1
                raise ReviewRejectedError(f"422 Unprocessable Entity: {problem}")
        review = PostedReview(next(self._ids), commit_id, body, list(comments))
        pull.reviews.append(review)
        for comment in comments:
            pull.review_comments.append(
                ReviewComment(
                    id=next(self._ids),
                    body=str(comment["body"]),
                    path=str(comment["path"]),
                    line=int(str(comment["line"])),
                    user_login=BOT,
                )
            )
        return review.id

    async def create_issue_comment(self, repo: RepoRef, number: int, body: str) -> int:
        comment_id = next(self._ids)
        self._pull(number).issue_comments.append(
            PostedText(body=body, user_login=BOT, user_type="Bot", id=comment_id)
        )
        return comment_id

    async def add_reaction(self, repo: RepoRef, comment_id: int, content: ReactionContent = "eyes") -> None:
        self.reactions.append((comment_id, content))

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
    ) -> int:
        check_id = next(self._ids)
        state = {"name": name, "head_sha": head_sha, "status": status, "details_url": details_url}
        self.check_runs[check_id] = [state]
        return check_id

    def add_foreign_check_run(self, *, head_sha: str, name: str, status: str = "queued") -> int:
        """A check run another GitHub App made (maybe with our name): never ours to list or change."""
        check_id = next(self._ids)
        self.check_runs[check_id] = [{"name": name, "head_sha": head_sha, "status": status, "foreign": True}]
        return check_id

    async def list_check_runs(self, repo: RepoRef, head_sha: str, name: str) -> list[tuple[int, str]]:
        return [
            (check_id, states[-1]["status"])
            for check_id, states in self.check_runs.items()
            if states[-1]["head_sha"] == head_sha
            and states[-1]["name"] == name
            and not states[-1].get("foreign")
        ]

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
    ) -> None:
        if check_run_id not in self.check_runs:
            raise GitHubPermanentError(f"check run {check_run_id} not found", status=404)
        if self.check_runs[check_run_id][-1].get("foreign"):
            raise GitHubPermanentError("Resource not accessible by integration", status=403)
        if status == "completed" and conclusion is None:
            raise GitHubPermanentError("a completed check run needs a conclusion", status=422)
        changes = {"status": status, "conclusion": conclusion, "title": title, "summary": summary}
        state = {**self.check_runs[check_run_id][-1], **{k: v for k, v in changes.items() if v is not None}}
        self.check_runs[check_run_id].append(state)

    # -- reading results -------------------------------------------------------------------------
    def final_check(self, check_run_id: int | None = None) -> dict[str, Any]:
        """The last state of the given (or the only) check run."""
        if check_run_id is None:
            assert len(self.check_runs) == 1, f"expected one check run, got {len(self.check_runs)}"
            check_run_id = next(iter(self.check_runs))
        return self.check_runs[check_run_id][-1]


def _refusal(patches: dict[str, str | None], comment: dict[str, object]) -> str | None:
    """Why GitHub would refuse this review comment, or None when it would accept it."""
    path, line, side = comment.get("path"), comment.get("line"), str(comment.get("side", "RIGHT"))
    if not comment.get("body") or len(str(comment["body"])) > MAX_BODY:
        return "Comment body is blank or too long"
    if path not in patches or patches[path] is None:
        return "Path could not be resolved"
    try:
        hunks = parse_patch(str(patches[path]))
    except PatchError:
        return "Line could not be resolved"
    end = locate(hunks, side, int(str(line)))
    if end is None:
        return "Line could not be resolved"
    start_line = comment.get("start_line")
    if start_line is not None:
        start = locate(hunks, str(comment.get("start_side", side)), int(str(start_line)))
        if start is None or start[0] != end[0] or start[1] >= end[1]:
            return "Start line could not be resolved"
    return None


class MemoryStore:
    """The run store in memory: runs, per-PR state and posted fingerprints."""

    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}
        self.states: dict[tuple[str, int], PullState] = {}
        self.fingerprints: dict[tuple[str, int], dict[str, str]] = {}
        self.updates: list[tuple[str, RunUpdate]] = []
        # Kept review call results, as the table holds them: (job run id, head, call key) -> row.
        self.chunk_rows: dict[tuple[str, str, str], ChunkResultRow] = {}

    async def start_run(
        self, run_id: str, *, repo: str, pr_number: int, trigger: str, head_sha: str | None
    ) -> None:
        assert run_id not in self.runs, "a run id is used once"
        self.runs[run_id] = Run(
            id=run_id,
            repo=repo,
            pr_number=pr_number,
            trigger=trigger,
            head_sha=head_sha,
            status=RunStatus.RUNNING,
            started_at=datetime.now().astimezone(),
        )

    async def update_run(self, run_id: str, changes: RunUpdate) -> None:
        self.updates.append((run_id, changes))
        run = self.runs[run_id]
        self.runs[run_id] = Run.model_validate(run.model_dump() | changes.model_dump(exclude_unset=True))

    async def get_run(self, run_id: str) -> Run | None:
        return self.runs.get(run_id)

    async def pull_state(self, repo: str, pr_number: int) -> PullState:
        return self.states.get((repo, pr_number), PullState(repo=repo, pr_number=pr_number))

    async def set_reviewed_head(self, repo: str, pr_number: int, head_sha: str) -> None:
        state = await self.pull_state(repo, pr_number)
        self.states[(repo, pr_number)] = state.model_copy(update={"last_reviewed_head": head_sha})

    async def set_paused(self, repo: str, pr_number: int, paused: bool) -> None:
        state = await self.pull_state(repo, pr_number)
        self.states[(repo, pr_number)] = state.model_copy(update={"paused": paused})

    async def spent_since(self, owner: str, since: datetime) -> float:
        return sum(
            r.cost_usd or 0.0
            for r in self.runs.values()
            if r.repo.startswith(f"{owner}/") and r.started_at >= since
        )

    async def posted_fingerprints(self, repo: str, pr_number: int) -> set[str]:
        return set(self.fingerprints.get((repo, pr_number), {}))

    async def remember_fingerprints(
        self, repo: str, pr_number: int, run_id: str, items: Iterable[tuple[str, str]]
    ) -> None:
        known = self.fingerprints.setdefault((repo, pr_number), {})
        for fp, path in items:
            known.setdefault(fp, path)

    async def chunk_results(self, job_run_id: str, head_sha: str) -> dict[str, dict[str, Any]]:
        return {
            key: copy.deepcopy(row.result)
            for (job, head, key), row in self.chunk_rows.items()
            if (job, head) == (job_run_id, head_sha)
        }

    async def save_chunk_result(self, row: ChunkResultRow) -> None:
        # Rows go through JSON, as the database column does: nothing shared with the caller survives.
        stored = row.model_copy(update={"result": json.loads(json.dumps(row.result))})
        self.chunk_rows.setdefault((row.job_run_id, row.head_sha, row.call_key), stored)

    def only_run(self) -> Run:
        assert len(self.runs) == 1, f"expected one run, got {len(self.runs)}"
        return next(iter(self.runs.values()))


Answer = list[Finding] | ModelError
Script = Callable[[Chunk], Answer]


@dataclass
class ScriptedReviewer:
    """The reviewer port, answering from a script: findings (or a model error) per chunk.

    Like the real adapter, it finds secrets in each chunk first (they stand even when the model fails)
    and stops sending once `budget_chunks` chunks went out.
    """

    script: Script = lambda chunk: []  # noqa: E731
    budget_chunks: int | None = None
    usage_per_call: Usage = field(
        default_factory=lambda: Usage(prompt_tokens=1000, completion_tokens=100, calls=1)
    )
    cost_per_call: float = 0.001
    calls: list[tuple[Chunk, PrContext, list[str]]] = field(default_factory=list)

    async def review(
        self,
        chunks: Sequence[Chunk],
        context: PrContext,
        *,
        instructions_for_path: PathInstructions,
        on_chunk_done: ChunkDone | None = None,
        head_texts: Mapping[str, str] | None = None,
        cache_key: str | None = None,
        results: CallResults | None = None,  # scripted answers cost nothing: nothing is kept
    ) -> ReviewOutcome:
        outcome = ReviewOutcome()
        for chunk in chunks:
            _, secrets = redact_chunk(chunk)
            outcome.findings.extend(secrets)
            outcome.secrets_found += len(secrets)
            failure = ChunkFailure(chunk.path, chunk.part, chunk.parts, BUDGET_REACHED)
            if self.budget_chunks is not None and len(self.calls) >= self.budget_chunks:
                outcome.not_sent.append(failure)
                continue
            self.calls.append((chunk, context, list(instructions_for_path(chunk.path))))
            outcome.usage = outcome.usage + self.usage_per_call
            outcome.cost_usd += self.cost_per_call
            answer = self.script(chunk)
            if isinstance(answer, ModelError):
                outcome.failed.append(ChunkFailure(chunk.path, chunk.part, chunk.parts, str(answer)))
            else:
                outcome.findings.extend(answer)
        if on_chunk_done is not None:
            for _ in chunks:  # scripted answers come at once: every chunk is done
                await on_chunk_done()
        return outcome


@dataclass
class MemoryCallResults:
    """The reviewer's kept call results (`app.review.reuse.CallResults`) in memory.

    Results go through JSON, as they do in the database; `broken` makes reading and keeping fail.
    """

    kept: dict[str, SavedCall] = field(default_factory=dict)
    broken: bool = False

    async def load(self) -> dict[str, SavedCall]:
        if self.broken:
            raise ConnectionError("the database went away")
        return dict(self.kept)

    async def save(self, key: str, call: SavedCall) -> None:
        if self.broken:
            raise ConnectionError("the database went away")
        self.kept.setdefault(key, SavedCall.model_validate_json(call.model_dump_json()))
