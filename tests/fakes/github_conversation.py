"""The fake GitHub's conversation surface: thread replies, reactions on review comments, and GraphQL.

Mixed into `FakeGitHub` (tests/fakes/github.py) so its rules stay beside the REST rules they extend:
- `POST /repos/{o}/{r}/pulls/{n}/comments/{id}/replies` answers in the thread of a FIRST comment
  (GitHub does not support replies to replies: 422 here, so the app must reply to the root);
- `GET /repos/{o}/{r}/pulls/comments/{id}/reactions` lists reactions (people add them through the
  test API: reactions send no webhook on GitHub either);
- `POST /graphql` answers the two operations the app uses: `reviewThreads` (with `isResolved` and
  each thread's first comment's `databaseId`) and `resolveReviewThread(input: {threadId})`; any other
  query gets a GraphQL error. Thread ids are opaque strings; installation tokens only see their repos.
"""

from __future__ import annotations

import base64
import copy
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.github import FakeGitHub, _Ctx, _Pull

MAX_BODY = 65536
REACTIONS = {"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


def thread_id(owner: str, name: str, number: int, root_id: int) -> str:
    raw = f"{owner}/{name}/{number}/{root_id}".encode()
    return "PRRT_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_thread_id(value: object) -> tuple[str, str, int, int] | None:
    if not isinstance(value, str) or not value.startswith("PRRT_"):
        return None
    encoded = value[5:]
    try:
        owner, name, number, root = (
            base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode().split("/")
        )
        return owner, name, int(number), int(root)
    except (ValueError, UnicodeDecodeError):
        return None


class ConversationFake:
    """State and endpoints for threads; `FakeGitHub` calls `_conversation_routes()` in its constructor."""

    def _conversation_state(self: FakeGitHub) -> None:
        self._comment_reactions: dict[int, list[dict[str, Any]]] = {}
        self._resolved_threads: set[tuple[str, str, int, int]] = set()

    def _conversation_routes(self: FakeGitHub) -> list[tuple[str, Any, Any, bool]]:
        import re

        self._conversation_state()
        return [
            (
                "POST",
                re.compile(_REPO + r"/pulls/(?P<n>\d+)/comments/(?P<cid>\d+)/replies"),
                self._reply,
                True,
            ),
            (
                "GET",
                re.compile(_REPO + r"/pulls/comments/(?P<cid>\d+)/reactions"),
                self._list_comment_reactions,
                True,
            ),
            ("POST", re.compile(r"/graphql"), self._graphql, True),
        ]

    # ---- test-setup API ---------------------------------------------------------------------------

    def add_review_reply(
        self: FakeGitHub,
        owner: str,
        name: str,
        number: int,
        in_reply_to: int,
        body: str,
        *,
        user: str = "octocat",
        user_type: str = "User",
    ) -> dict[str, Any]:
        """Post a reply in a review thread as a person; return the stored comment (for the webhook)."""
        with self._lock:
            pull = self._repo_or_raise(owner, name).pulls[number]
            root = self._find_comment(pull, in_reply_to)
            if root is None:
                raise KeyError(f"no review comment {in_reply_to} on #{number}")
            return copy.deepcopy(
                self._store_reply(pull, root, body, {"login": user, "type": user_type, "id": 7})
            )

    def react_to_review_comment(
        self: FakeGitHub, owner: str, name: str, comment_id: int, content: str, *, user: str = "octocat"
    ) -> None:
        """Add a person's reaction to an inline review comment (no webhook, as on GitHub)."""
        assert content in REACTIONS
        with self._lock:
            self._repo_or_raise(owner, name)
            reactions = self._comment_reactions.setdefault(comment_id, [])
            reactions.append(
                {"id": next(self._ids), "content": content, "user": {"login": user, "type": "User", "id": 8}}
            )

    def resolve_thread_by_hand(self: FakeGitHub, owner: str, name: str, number: int, root_id: int) -> None:
        with self._lock:
            self._resolved_threads.add((owner, name, number, root_id))

    def thread_resolved(self: FakeGitHub, owner: str, name: str, number: int, root_id: int) -> bool:
        with self._lock:
            return (owner, name, number, root_id) in self._resolved_threads

    # ---- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _find_comment(pull: _Pull, comment_id: int) -> dict[str, Any] | None:
        return next((c for c in pull.review_comments if c["id"] == comment_id), None)

    def _store_reply(
        self: FakeGitHub, pull: _Pull, root: dict[str, Any], body: str, user: dict[str, Any]
    ) -> dict[str, Any]:
        keep = ("path", "line", "side", "start_line", "start_side", "commit_id", "original_commit_id")
        comment = {key: root.get(key) for key in keep}
        comment.update(
            id=next(self._ids),
            pull_request_review_id=next(self._ids),
            in_reply_to_id=root["id"],
            body=body,
            user=user,
            created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            original_line=root.get("original_line"),
            diff_hunk=root.get("diff_hunk", ""),
            subject_type="line",
        )
        pull.review_comments.append(comment)
        return comment

    # ---- endpoints --------------------------------------------------------------------------------

    def _reply(self: FakeGitHub, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        from tests.fakes.github import _not_found, _unprocessable

        pull = self._pull(ctx)
        root = self._find_comment(pull, int(ctx.params["cid"]))
        if root is None:
            raise _not_found()
        if root.get("in_reply_to_id") is not None:
            raise _unprocessable("Replies to replies are not supported")
        body = ctx.body.get("body") if isinstance(ctx.body, dict) else None
        if not isinstance(body, str) or not body:
            raise _unprocessable("Body can't be blank")
        if len(body) > MAX_BODY:
            raise _unprocessable("Body is too long (maximum is 65536 characters)")
        return 201, copy.deepcopy(self._store_reply(pull, root, body, self._bot())), {}

    def _list_comment_reactions(self: FakeGitHub, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        from tests.fakes.github import _not_found

        assert ctx.repo is not None
        comment_id = int(ctx.params["cid"])
        known = {c["id"] for pull in ctx.repo.pulls.values() for c in pull.review_comments}
        if comment_id not in known:
            raise _not_found()
        chunk, link = self._page(ctx, self._comment_reactions.get(comment_id, []))
        return 200, copy.deepcopy(chunk), link

    @staticmethod
    def graphql_target(body: Any) -> dict[str, str]:
        """Return the owner/repo a GraphQL request is about, so the token check applies to it."""
        variables = body.get("variables") if isinstance(body, dict) else None
        variables = variables if isinstance(variables, dict) else {}
        decoded = _decode_thread_id(variables.get("id"))
        if decoded is not None:
            return {"owner": decoded[0], "repo": decoded[1]}
        return {"owner": str(variables.get("owner", "")), "repo": str(variables.get("name", ""))}

    def _graphql(self: FakeGitHub, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        query = ctx.body.get("query") if isinstance(ctx.body, dict) else None
        variables = ctx.body.get("variables") or {} if isinstance(ctx.body, dict) else {}
        if not isinstance(query, str):
            return 200, {"errors": [{"message": "A query attribute must be specified"}]}, {}
        if "resolveReviewThread" in query:
            return 200, self._resolve(ctx, variables.get("id")), {}
        if "reviewThreads" in query:
            return 200, self._threads(ctx, variables), {}
        return 200, {"errors": [{"message": "the fake GitHub does not know this query"}]}, {}

    def _resolve(self: FakeGitHub, ctx: _Ctx, value: object) -> dict[str, Any]:
        assert ctx.repo is not None
        decoded = _decode_thread_id(value)
        pull = ctx.repo.pulls.get(decoded[2]) if decoded else None
        if decoded is None or pull is None or self._find_comment(pull, decoded[3]) is None:
            return {
                "errors": [
                    {
                        "type": "NOT_FOUND",
                        "message": f"Could not resolve to a node with the global id of '{value}'",
                    }
                ]
            }
        self._resolved_threads.add(decoded)
        return {"data": {"resolveReviewThread": {"thread": {"id": value, "isResolved": True}}}}

    def _threads(self: FakeGitHub, ctx: _Ctx, variables: dict[str, Any]) -> dict[str, Any]:
        assert ctx.repo is not None
        number = variables.get("number")
        pull = ctx.repo.pulls.get(number) if isinstance(number, int) else None
        if pull is None:
            return {"data": {"repository": {"pullRequest": None}}}
        roots = [c for c in pull.review_comments if c.get("in_reply_to_id") is None]
        start = int(variables.get("cursor") or 0)
        page = roots[start : start + 100]
        key = (ctx.repo.owner, ctx.repo.name, pull.number)
        nodes = [
            {
                "id": thread_id(*key, c["id"]),
                "isResolved": (*key, c["id"]) in self._resolved_threads,
                "comments": {"nodes": [{"databaseId": c["id"]}]},
            }
            for c in page
        ]
        more = start + 100 < len(roots)
        info = {"hasNextPage": more, "endCursor": str(start + 100) if more else None}
        threads = {"pageInfo": info, "nodes": nodes}
        return {"data": {"repository": {"pullRequest": {"reviewThreads": threads}}}}
