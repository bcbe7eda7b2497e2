"""The GitHub calls mini-review makes, as one installation; raw JSON is read into our small models."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from app.errors import GitHubPermanentError, ReviewRejectedError
from app.github.models import (
    CheckRunConclusion,
    CheckRunStatus,
    Comparison,
    PostedText,
    PullFile,
    PullRequestInfo,
    Reaction,
    ReactionContent,
    RepoRef,
    ReviewComment,
    ReviewThread,
)

PER_PAGE = 100
MAX_FILES = 3000  # the files API never returns more
COMPARE_FILE_CAP = 300  # the compare API lists at most this many files
MAX_COMMENT_PAGES = 50
MAX_THREAD_PAGES = 20
MAX_REACTIONS = 300

# https://docs.github.com/graphql/reference/objects#pullrequestreviewthread
_THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved comments(first: 1) { nodes { databaseId } } }
      }
    }
  }
}
"""
# https://docs.github.com/graphql/reference/mutations#resolvereviewthread
_RESOLVE_MUTATION = """
mutation($id: ID!) {
  resolveReviewThread(input: {threadId: $id}) { thread { id isResolved } }
}
"""


class GitHubTransport(Protocol):
    """What `InstallationAPI` needs from the client: one authenticated, retried call."""

    async def request(
        self,
        installation_id: int,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        idempotent: bool | None = None,
    ) -> httpx.Response: ...


def _seg(value: str) -> str:
    return quote(value, safe="")


def _repo_path(repo: RepoRef) -> str:
    return f"/repos/{_seg(repo.owner)}/{_seg(repo.name)}"


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("check-run timestamps must be timezone-aware")
    return value.isoformat()


class InstallationAPI:
    """GitHub as one installation sees it. Get one from `GitHubAppClient.for_installation`."""

    def __init__(
        self,
        transport: GitHubTransport,
        installation_id: int,
        graphql_path: str = "/graphql",
        *,
        app_id: int | None = None,
    ) -> None:
        self._transport = transport
        self.installation_id = installation_id
        self._graphql_path = graphql_path
        self.app_id = app_id  # our GitHub App: only its check runs are ours to adopt or close

    async def _call(
        self,
        repo: RepoRef,
        method: str,
        suffix: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        if repo.installation_id != self.installation_id:
            raise ValueError(f"{repo.full_name} belongs to installation {repo.installation_id}")
        return await self._transport.request(
            self.installation_id,
            method,
            _repo_path(repo) + suffix,
            params=params,
            json=json,
            idempotent=idempotent,
        )

    async def _pages(self, repo: RepoRef, suffix: str, limit: int) -> list[dict[str, Any]]:
        """Fetch every page (per_page=100) until GitHub stops linking a next one or `limit` items."""
        items: list[dict[str, Any]] = []
        page = 1
        while len(items) < limit:
            response = await self._call(repo, "GET", suffix, params={"per_page": PER_PAGE, "page": page})
            batch = response.json()
            items.extend(batch)
            if not batch or "next" not in response.links:
                break
            page += 1
        return items[:limit]

    async def get_pull(self, repo: RepoRef, number: int) -> PullRequestInfo:
        response = await self._call(repo, "GET", f"/pulls/{number}")
        return PullRequestInfo.from_api(response.json())

    async def list_pull_files(self, repo: RepoRef, number: int) -> list[PullFile]:
        """Return the PR's files with their patches (all pages; GitHub stops at 3000 files)."""
        raw = await self._pages(repo, f"/pulls/{number}/files", MAX_FILES)
        return [PullFile.from_api(entry) for entry in raw]

    async def compare_files(self, repo: RepoRef, base_sha: str, head_sha: str) -> list[PullFile] | None:
        """Return the files changed from base to head, or None when the comparison cannot be trusted.

        None means: a sha is unknown (404, e.g. force-pushed away) or GitHub's 300-file compare cap may
        have cut the list; either way the caller should review the whole PR instead.
        """
        suffix = f"/compare/{quote(base_sha, safe='')}...{quote(head_sha, safe='')}"
        try:
            response = await self._call(repo, "GET", suffix)
        except GitHubPermanentError as exc:
            if exc.status == 404:
                return None
            raise
        files = [PullFile.from_api(entry) for entry in response.json().get("files") or []]
        return None if len(files) >= COMPARE_FILE_CAP else files

    async def compare_diff(self, repo: RepoRef, base: str, head: str) -> Comparison:
        """Return the diff of `base...head` (from their merge base), saying when it cannot be had.

        `missing`: GitHub does not know a sha (404: e.g. force-pushed away and gone); `truncated`: the
        comparison lists GitHub's maximum of 300 files, so files may be missing from it.
        """
        suffix = f"/compare/{quote(base, safe='')}...{quote(head, safe='')}"
        try:
            response = await self._call(repo, "GET", suffix)
        except GitHubPermanentError as exc:
            if exc.status == 404:
                return Comparison(status="missing")
            raise
        files = [PullFile.from_api(entry) for entry in response.json().get("files") or []]
        if len(files) >= COMPARE_FILE_CAP:
            return Comparison(status="truncated")
        return Comparison(status="ok", files=files)

    async def update_issue_comment(self, repo: RepoRef, comment_id: int, body: str) -> bool:
        """Replace a conversation comment's body; False when it is gone (deleted: 404)."""
        try:
            await self._call(repo, "PATCH", f"/issues/comments/{comment_id}", json={"body": body})
        except GitHubPermanentError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def get_file(self, repo: RepoRef, path: str, ref: str | None) -> bytes | None:
        """Return a file's bytes at `ref` (None: the default branch), or None when there is no such file."""
        try:
            response = await self._call(
                repo,
                "GET",
                f"/contents/{quote(path.lstrip('/'), safe='/')}",
                params={"ref": ref} if ref else None,
            )
        except GitHubPermanentError as exc:
            if exc.status == 404:
                return None
            raise
        data = response.json()
        if not isinstance(data, dict):
            return None  # a directory listing: there is no file at this path
        if data.get("type") != "file":
            # A symlink or submodule is there but unreadable as a file: callers must not take it for
            # an absent file (a config behind a symlink may say `enabled: false`).
            raise GitHubPermanentError(
                f"{path} at {ref or 'the default branch'} is a {data.get('type')}, not a file"
            )
        if data.get("encoding") != "base64":
            raise GitHubPermanentError(f"{path} at {ref} is too large for the contents API")
        try:
            return base64.b64decode(str(data.get("content", "")))  # tolerates GitHub's line wrapping
        except (binascii.Error, ValueError):
            raise GitHubPermanentError(f"{path} at {ref}: undecodable content") from None

    async def repo_is_private(self, repo: RepoRef) -> bool:
        """Return whether `repo` is private (or internal): its content must not be shown in public."""
        data = (await self._call(repo, "GET", "")).json()
        return bool(data.get("private", True)) or data.get("visibility", "public") != "public"

    async def list_review_comments(self, repo: RepoRef, number: int) -> list[ReviewComment]:
        raw = await self._pages(repo, f"/pulls/{number}/comments", PER_PAGE * MAX_COMMENT_PAGES)
        return [ReviewComment.from_api(entry) for entry in raw]

    async def list_review_texts(self, repo: RepoRef, number: int) -> list[PostedText]:
        """Bodies of the PR's reviews (our summaries carry the markers of their notes)."""
        raw = await self._pages(repo, f"/pulls/{number}/reviews", PER_PAGE * MAX_COMMENT_PAGES)
        return [PostedText.from_api(entry) for entry in raw]

    async def list_issue_comment_texts(self, repo: RepoRef, number: int) -> list[PostedText]:
        """Bodies of the PR's conversation comments (the tail of a split summary lands there)."""
        raw = await self._pages(repo, f"/issues/{number}/comments", PER_PAGE * MAX_COMMENT_PAGES)
        return [PostedText.from_api(entry) for entry in raw]

    async def create_review(
        self,
        repo: RepoRef,
        number: int,
        *,
        commit_id: str,
        body: str,
        comments: list[dict[str, object]],
    ) -> int:
        """Post one COMMENT review; raise `ReviewRejectedError` when GitHub refuses it (422)."""
        payload = {"commit_id": commit_id, "body": body, "event": "COMMENT", "comments": comments}
        try:
            response = await self._call(repo, "POST", f"/pulls/{number}/reviews", json=payload)
        except GitHubPermanentError as exc:
            if exc.status == 422:
                raise ReviewRejectedError(str(exc), status=422) from None
            raise
        return int(response.json()["id"])

    async def create_issue_comment(self, repo: RepoRef, number: int, body: str) -> int:
        response = await self._call(repo, "POST", f"/issues/{number}/comments", json={"body": body})
        return int(response.json()["id"])

    async def add_reaction(self, repo: RepoRef, comment_id: int, content: ReactionContent = "eyes") -> None:
        # GitHub keeps one reaction per user and content, so resending is harmless.
        await self._call(
            repo,
            "POST",
            f"/issues/comments/{comment_id}/reactions",
            json={"content": content},
            idempotent=True,
        )

    async def get_permission(self, repo: RepoRef, username: str) -> str:
        """Return the user's role: admin, maintain, write, triage, read or none."""
        try:
            response = await self._call(repo, "GET", f"/collaborators/{_seg(username)}/permission")
        except GitHubPermanentError as exc:
            if exc.status == 404:
                return "none"  # not a user GitHub knows
            raise
        data = response.json()
        # `permission` folds maintain into write and triage into read; `role_name` keeps them.
        return str(data.get("role_name") or data.get("permission") or "none")

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
        payload: dict[str, object] = {
            "name": name,
            "head_sha": head_sha,
            "status": status,
            "details_url": details_url,
            "external_id": external_id,
        }
        if started_at is not None:
            payload["started_at"] = _timestamp(started_at)
        response = await self._call(repo, "POST", "/check-runs", json=payload)
        return int(response.json()["id"])

    async def list_check_runs(self, repo: RepoRef, head_sha: str, name: str) -> list[tuple[int, str]]:
        """(id, status) of our App's check runs called `name` on a commit (the newest 100).

        Another App may name its check the same: its runs are never listed (so never adopted or
        closed). Without our App id (a plain token) nothing can be told ours, so nothing is listed.
        """
        if self.app_id is None:
            return []
        # https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference (app_id filter)
        params: dict[str, str | int] = {"check_name": name, "app_id": self.app_id, "per_page": 100}
        response = await self._call(repo, "GET", f"/commits/{_seg(head_sha)}/check-runs", params=params)
        runs = response.json().get("check_runs") or []
        # Checked here too: the filter is GitHub's, the promise is ours.
        return [
            (int(r["id"]), str(r.get("status")))
            for r in runs
            if (r.get("app") or {}).get("id") == self.app_id
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
        """Change only the given fields; `title` and `summary` go together (GitHub needs both)."""
        payload: dict[str, object] = {}
        if status is not None:
            payload["status"] = status
        if conclusion is not None:
            payload["conclusion"] = conclusion
        if details_url is not None:
            payload["details_url"] = details_url
        if started_at is not None:
            payload["started_at"] = _timestamp(started_at)
        if completed_at is not None:
            payload["completed_at"] = _timestamp(completed_at)
        if title is not None or summary is not None or text is not None:
            if title is None or summary is None:
                raise ValueError("a check-run output needs both title and summary")
            output: dict[str, str] = {"title": title, "summary": summary}
            if text is not None:
                output["text"] = text
            payload["output"] = output
        await self._call(repo, "PATCH", f"/check-runs/{check_run_id}", json=payload)

    # -- conversation: thread replies, reactions, thread state (GraphQL) ---------------------------

    async def reply_to_review_comment(self, repo: RepoRef, number: int, comment_id: int, body: str) -> int:
        """Answer in the thread of `comment_id` (the thread's first comment); return the reply's id."""
        response = await self._call(
            repo, "POST", f"/pulls/{number}/comments/{comment_id}/replies", json={"body": body}
        )
        return int(response.json()["id"])

    async def list_review_comment_reactions(self, repo: RepoRef, comment_id: int) -> list[Reaction]:
        """Return the reactions on one inline review comment (reactions send no webhook: we read them)."""
        raw = await self._pages(repo, f"/pulls/comments/{comment_id}/reactions", MAX_REACTIONS)
        return [Reaction.from_api(entry) for entry in raw]

    async def _graphql(self, repo: RepoRef, query: str, variables: dict[str, object]) -> dict[str, Any]:
        if repo.installation_id != self.installation_id:
            raise ValueError(f"{repo.full_name} belongs to installation {repo.installation_id}")
        response = await self._transport.request(
            self.installation_id,
            "POST",
            self._graphql_path,
            json={"query": query, "variables": variables},
            idempotent=True,  # reading threads and resolving one again change nothing more
        )
        data = response.json()
        if not isinstance(data, dict) or data.get("errors") or not isinstance(data.get("data"), dict):
            errors = data.get("errors") if isinstance(data, dict) else None
            messages = [str(e.get("message", ""))[:200] for e in errors or [] if isinstance(e, dict)]
            raise GitHubPermanentError(f"GraphQL error: {'; '.join(messages) or 'no data'}", status=200)
        return dict(data["data"])

    async def list_review_threads(self, repo: RepoRef, number: int) -> list[ReviewThread]:
        """Return the PR's review threads with their resolved state (GraphQL; REST cannot see it)."""
        threads: list[ReviewThread] = []
        cursor: str | None = None
        for _ in range(MAX_THREAD_PAGES):
            variables: dict[str, object] = {"owner": repo.owner, "name": repo.name, "number": number}
            variables["cursor"] = cursor
            data = await self._graphql(repo, _THREADS_QUERY, variables)
            pull = ((data.get("repository") or {}).get("pullRequest")) or {}
            page = pull.get("reviewThreads") or {}
            for node in page.get("nodes") or []:
                first = ((node.get("comments") or {}).get("nodes")) or [{}]
                root = first[0].get("databaseId") if first else None
                resolved = bool(node.get("isResolved"))
                threads.append(ReviewThread(id=str(node["id"]), is_resolved=resolved, root_comment_id=root))
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            cursor = info.get("endCursor")
        return threads

    async def resolve_review_thread(self, repo: RepoRef, thread_id: str) -> None:
        """Mark a review thread resolved (GraphQL `resolveReviewThread`; REST has no such call)."""
        await self._graphql(repo, _RESOLVE_MUTATION, {"id": thread_id})
