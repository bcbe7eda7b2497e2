"""A fake GitHub REST API: a real HTTP server (`serve_in_thread(fake.app)`) that enforces GitHub's rules.

What it enforces, because mini-review depends on it:
- App JWTs (RS256 by the app key, `iss` = app id, at most 10 minutes long) to mint installation tokens;
  installation tokens (expiring, revocable) on every /repos call, only for that installation's repos.
- Review creation is all-or-nothing: one comment off the diff and the whole review is refused with 422
  and nothing is stored (https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request).
- Pagination with `Link` headers, files capped at 3000, check-run status/conclusion/annotation rules.
State sits behind one lock: the server runs in a thread while tests read state from the main thread.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request, Response

from tests.fakes.github_conversation import ConversationFake
from tests.fakes.github_diff import PatchError, PatchHunk, locate, parse_patch
from tests.fakes.github_manifest import ManifestFlow
from tests.fakes.github_oauth import FakeOAuth

DOCS = "https://docs.github.com/rest"
MAX_BODY = 65536
MAX_OUTPUT_TEXT = 65535
MAX_FILES = 3000
COMPARE_MAX_FILES = 300
MAX_ANNOTATIONS = 50
JWT_MAX_SECONDS = 600
CLOCK_SKEW = 60
REVIEW_EVENTS = {"COMMENT": "COMMENTED", "APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED"}
CHECK_STATUSES = {"queued", "in_progress", "completed"}
CHECK_CONCLUSIONS = {"action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out"}
ANNOTATION_LEVELS = {"notice", "warning", "failure"}
REACTIONS = {"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}
# The `permission` field keeps GitHub's legacy base roles; `role_name` has the precise one.
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
}

_KEYS: tuple[str, rsa.RSAPublicKey] | None = None
_KEYS_LOCK = threading.Lock()


def app_keys() -> tuple[str, rsa.RSAPublicKey]:
    """Return (private key PEM, public key), generated once per process because RSA keygen is slow."""
    global _KEYS
    with _KEYS_LOCK:
        if _KEYS is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,  # what GitHub hands out
                serialization.NoEncryption(),
            ).decode()
            _KEYS = (pem, key.public_key())
        return _KEYS


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _valid_iso(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    time: float  # time.monotonic() on arrival
    headers: dict[str, str]


@dataclass
class _Rule:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class _Pull:
    number: int
    title: str
    body: str | None
    draft: bool
    author: str
    author_type: str
    head_ref: str
    base_ref: str
    base_sha: str
    # every head this PR has had, oldest first, with the files GitHub showed at that head
    heads: list[tuple[str, list[dict[str, Any]]]]
    state: str = "open"
    head_repo: str | None = None  # a fork's full name; None: a branch of the base repository
    former_bases: set[str] = field(default_factory=set)  # base shas this PR had before (base moved)
    gone: set[str] = field(default_factory=set)  # heads a force-push dropped: compare no longer knows them
    reviews: list[dict[str, Any]] = field(default_factory=list)
    review_comments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def head_sha(self) -> str:
        return self.heads[-1][0]

    @property
    def files(self) -> list[dict[str, Any]]:
        return self.heads[-1][1]


@dataclass
class _Repo:
    owner: str
    name: str
    installation_id: int
    default_branch: str
    private: bool = False
    pulls: dict[int, _Pull] = field(default_factory=dict)
    contents: dict[tuple[str, str], bytes] = field(default_factory=dict)
    compares: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    check_runs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # id -> history of states
    issue_comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def known_shas(self) -> set[str]:
        shas = {sha for pull in self.pulls.values() for sha, _ in pull.heads}
        shas |= {pull.base_sha for pull in self.pulls.values()}
        shas |= {sha for pair in self.compares for sha in pair}
        return shas


class _Reply(Exception):
    """Raised by a handler to answer with an error status."""

    def __init__(self, status: int, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": DOCS}
        if errors is not None:
            self.body["errors"] = errors


def _not_found() -> _Reply:
    return _Reply(404, "Not Found")


def _unprocessable(*errors: str) -> _Reply:
    return _Reply(422, "Unprocessable Entity", list(errors))


@dataclass
class _Ctx:
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    url: str  # this request's URL without query, for Link headers
    repo: _Repo | None = None


_Handler = Callable[[_Ctx], tuple[int, Any, dict[str, str]]]
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


class AppSlot:
    """An ASGI app forwarding to a swappable target: one server per test module, a fresh fake per test.

    Starting and stopping uvicorn costs ~0.2 s; `serve_in_thread(slot)` once, then set `slot.target`.
    """

    def __init__(self) -> None:
        self.target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.target(scope, receive, send)


class FakeGitHub(ConversationFake):
    """An in-memory GitHub that answers over real HTTP; see the module docstring for its rules."""

    def __init__(self, app_id: int = 4242, *, token_ttl: float = 3600.0, bot_login: str = "mini-review[bot]"):
        self.app_id = app_id
        self.private_key_pem, self._public_key = app_keys()
        self.token_ttl = token_ttl
        self.bot_login = bot_login
        self._lock = threading.Lock()
        self._ids = itertools.count(1001)
        self._repos: dict[tuple[str, str], _Repo] = {}
        self._tokens: dict[str, tuple[int, float]] = {}  # token -> (installation id, expires at epoch)
        self._mints: dict[int, int] = {}
        self._rules: list[_Rule] = []
        self._requests: list[RecordedRequest] = []
        self._rejected_reviews = 0
        self._reactions: dict[int, list[dict[str, Any]]] = {}
        self._rate: dict[str, list[int]] = {}  # bucket -> [remaining, reset epoch]
        self._routes: list[tuple[str, re.Pattern[str], _Handler, bool]] = [
            ("POST", re.compile(r"/app/installations/(?P<iid>\d+)/access_tokens"), self._mint, False),
            ("GET", re.compile(r"/app"), self._get_app, False),
            ("GET", re.compile(_REPO), self._get_repo, True),
            ("GET", re.compile(_REPO + r"/pulls/(?P<n>\d+)"), self._get_pull, True),
            ("GET", re.compile(_REPO + r"/pulls/(?P<n>\d+)/files"), self._list_files, True),
            ("GET", re.compile(_REPO + r"/pulls/(?P<n>\d+)/comments"), self._list_review_comments, True),
            ("GET", re.compile(_REPO + r"/pulls/(?P<n>\d+)/reviews"), self._list_reviews, True),
            ("POST", re.compile(_REPO + r"/pulls/(?P<n>\d+)/reviews"), self._create_review, True),
            ("GET", re.compile(_REPO + r"/contents/(?P<path>.+)"), self._get_content, True),
            ("GET", re.compile(_REPO + r"/compare/(?P<base>.+?)\.\.\.(?P<head>.+)"), self._compare, True),
            ("POST", re.compile(_REPO + r"/check-runs"), self._create_check_run, True),
            ("GET", re.compile(_REPO + r"/check-runs/(?P<id>\d+)"), self._get_check_run, True),
            ("GET", re.compile(_REPO + r"/commits/(?P<ref>[^/]+)/check-runs"), self._list_check_runs, True),
            ("PATCH", re.compile(_REPO + r"/check-runs/(?P<id>\d+)"), self._update_check_run, True),
            ("GET", re.compile(_REPO + r"/issues/(?P<n>\d+)/comments"), self._list_issue_comments, True),
            ("POST", re.compile(_REPO + r"/issues/(?P<n>\d+)/comments"), self._create_issue_comment, True),
            ("POST", re.compile(_REPO + r"/issues/comments/(?P<cid>\d+)/reactions"), self._react, True),
            ("PATCH", re.compile(_REPO + r"/issues/comments/(?P<cid>\d+)"), self._edit_issue_comment, True),
            ("GET", re.compile(_REPO + r"/collaborators/(?P<user>[^/]+)/permission"), self._permission, True),
        ]
        self._routes += self._conversation_routes()  # replies, reactions, GraphQL: github_conversation.py
        self.oauth = FakeOAuth(self)  # sign-in, user tokens, repository visibility
        self._routes += self.oauth.repo_routes(_REPO)
        self.app = FastAPI()
        self.manifests = ManifestFlow(self)  # App-manifest registration (its own module)
        self.app.include_router(self.manifests.router)
        self.app.add_api_route(
            "/{full_path:path}", self._handle, methods=["GET", "POST", "PATCH", "PUT", "DELETE"]
        )

    # ---- test-setup API -------------------------------------------------------------------------

    def add_repo(
        self,
        owner: str,
        name: str,
        installation_id: int,
        default_branch: str = "main",
        *,
        private: bool = False,
    ) -> None:
        """Register a repository and the installation that owns it."""
        with self._lock:
            self._repos[(owner, name)] = _Repo(owner, name, installation_id, default_branch, private)
            self._mints.setdefault(installation_id, 0)

    def add_pull(
        self,
        owner: str,
        name: str,
        number: int,
        *,
        head_sha: str,
        base_sha: str,
        base_ref: str = "main",
        head_ref: str = "feature",
        title: str = "A change",
        body: str | None = "",
        draft: bool = False,
        author: str = "octocat",
        author_type: str = "User",
        files: list[dict[str, Any]],
        head_repo: str | None = None,
    ) -> None:
        """Open a pull request whose current head shows `files` (files-API entries; `filename` required);
        `head_repo` names the fork it comes from."""
        with self._lock:
            repo = self._repo_or_raise(owner, name)
            heads = [(head_sha, [self._file_entry(repo, head_sha, f) for f in files])]
            repo.pulls[number] = _Pull(
                number=number,
                title=title,
                body=body,
                draft=draft,
                author=author,
                author_type=author_type,
                head_ref=head_ref,
                base_ref=base_ref,
                base_sha=base_sha,
                heads=heads,
                head_repo=head_repo,
            )

    def push(
        self,
        owner: str,
        name: str,
        number: int,
        new_head_sha: str,
        files: list[dict[str, Any]],
        *,
        force: bool = False,
        base_sha: str | None = None,
    ) -> None:
        """Move the PR head; `files` is the PR's diff (base...head) at the new head.

        Older heads stay valid review commit_ids. Compare `base...old_head` keeps answering with the
        PR's diff at that head (as GitHub does while the commit exists) unless `force` dropped the
        older heads (a force-push whose commits are gone: 404). `base_sha` moves the PR's base, as
        when the base branch gained commits ("Update branch" merges them into the PR's head).
        """
        with self._lock:
            repo = self._repo_or_raise(owner, name)
            pull = repo.pulls[number]
            if force:
                pull.gone |= {sha for sha, _ in pull.heads}
            if base_sha is not None and base_sha != pull.base_sha:
                pull.former_bases.add(pull.base_sha)
                pull.base_sha = base_sha
            pull.heads.append((new_head_sha, [self._file_entry(repo, new_head_sha, f) for f in files]))

    def close_pull(self, owner: str, name: str, number: int) -> None:
        """Close the pull request (as its author clicking "Close")."""
        with self._lock:
            self._repo_or_raise(owner, name).pulls[number].state = "closed"

    def delete_issue_comment(self, owner: str, name: str, comment_id: int) -> None:
        """Delete a conversation comment, as a user with the rights to would."""
        with self._lock:
            repo = self._repo_or_raise(owner, name)
            for comments in repo.issue_comments.values():
                comments[:] = [c for c in comments if c["id"] != comment_id]

    def set_file(self, owner: str, name: str, ref: str, path: str, content: bytes | str) -> None:
        """Store a file's content at a ref (branch name or sha) for the contents API."""
        data = content.encode() if isinstance(content, str) else content
        with self._lock:
            self._repo_or_raise(owner, name).contents[(ref, path)] = data

    def set_compare(
        self,
        owner: str,
        name: str,
        base: str,
        head: str,
        files: list[dict[str, Any]],
        *,
        ahead_by: int = 1,
        behind_by: int = 0,
    ) -> None:
        """Register what `compare/{base}...{head}` answers; unregistered pairs answer 404."""
        with self._lock:
            repo = self._repo_or_raise(owner, name)
            repo.compares[(base, head)] = {
                "ahead_by": ahead_by,
                "behind_by": behind_by,
                "files": [self._file_entry(repo, head, f) for f in files],
            }

    def set_permission(self, owner: str, name: str, user: str, permission: str) -> None:
        """Give `user` a role: admin, maintain, write, triage, read or none."""
        with self._lock:
            self._repo_or_raise(owner, name).permissions[user] = permission

    def add_issue_comment(self, owner: str, name: str, number: int, body: str, user: str = "octocat") -> int:
        """Post an issue comment as a human (e.g. a command), returning its id."""
        with self._lock:
            repo = self._repo_or_raise(owner, name)
            comment = self._issue_comment(repo, number, body, {"login": user, "type": "User", "id": 1})
            return int(comment["id"])

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next `times` requests matching method ("*": any) and path regex with `status`."""
        rule = _Rule(method.upper(), re.compile(path_regex), status, times, dict(headers or {}), body)
        with self._lock:
            self._rules.append(rule)

    def revoke_tokens(self, installation_id: int) -> None:
        """Invalidate every token of an installation (as if revoked or expired early)."""
        with self._lock:
            self._tokens = {t: v for t, v in self._tokens.items() if v[0] != installation_id}

    # ---- recording accessors --------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def rejected_reviews(self) -> int:
        with self._lock:
            return self._rejected_reviews

    def token_mints(self, installation_id: int) -> int:
        with self._lock:
            return self._mints.get(installation_id, 0)

    def reviews(self, owner: str, name: str, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._repo_or_raise(owner, name).pulls[number].reviews)

    def review_comments(self, owner: str, name: str, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._repo_or_raise(owner, name).pulls[number].review_comments)

    def issue_comments(self, owner: str, name: str, number: int) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._repo_or_raise(owner, name).issue_comments.get(number, []))

    def reactions(self, comment_id: int) -> list[str]:
        with self._lock:
            return [r["content"] for r in self._reactions.get(comment_id, [])]

    def add_check_run(
        self, owner: str, name: str, *, head_sha: str, check_name: str, app_id: int, status: str = "queued"
    ) -> int:
        """Seed a check run made by another GitHub App (`app_id`), e.g. one with the same name as ours."""
        with self._lock:
            repo = self._repo_or_raise(owner, name)
            check_id = next(self._ids)
            state = {"id": check_id, "name": check_name, "head_sha": head_sha, "status": status}
            repo.check_runs[check_id] = [{**state, "conclusion": None, "app_id": app_id}]
            return check_id

    def check_runs(self, owner: str, name: str) -> dict[int, list[dict[str, Any]]]:
        """Return every check run as its history of states (oldest first), keyed by id."""
        with self._lock:
            return copy.deepcopy(self._repo_or_raise(owner, name).check_runs)

    def head_sha(self, owner: str, name: str, number: int) -> str:
        with self._lock:
            return self._repo_or_raise(owner, name).pulls[number].head_sha

    # ---- HTTP plumbing --------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        path = request.scope["path"]
        method = request.method.upper()
        query = dict(request.query_params)
        headers = {k.lower(): v for k, v in request.headers.items()}
        base = str(request.base_url).rstrip("/")
        if (signed_in := self.oauth.handle(method, path, query, raw, headers, base)) is not None:
            with self._lock:
                self._requests.append(RecordedRequest(method, path, query, None, time.monotonic(), headers))
                injected = self._take_rule(method, path)
            return signed_in if injected is None else self._inject(injected, headers)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self._json(400, {"message": "Problems parsing JSON", "documentation_url": DOCS}, {})
        with self._lock:
            self._requests.append(RecordedRequest(method, path, query, body, time.monotonic(), headers))
            injected = self._take_rule(method, path)
        if injected is not None:
            return self._inject(injected, headers)
        for route_method, pattern, handler, needs_token in self._routes:
            match = pattern.fullmatch(path)
            if match is None or route_method != method:
                continue
            url = str(request.base_url).rstrip("/") + path
            ctx = _Ctx(match.groupdict() or self.graphql_target(body), query, body, url)
            with self._lock:
                try:
                    bucket = self._authorize(ctx, headers, needs_token)
                    status, payload, extra = handler(ctx)
                except _Reply as reply:
                    if reply.status == 422 and handler == self._create_review:
                        self._rejected_reviews += 1
                    return self._json(reply.status, reply.body, {})
                rate = self._rate_headers(bucket)
            return self._json(status, payload, {**rate, **extra})
        return self._json(404, {"message": "Not Found", "documentation_url": DOCS}, {})

    @staticmethod
    def _json(status: int, payload: Any, headers: dict[str, str]) -> Response:
        return Response(
            json.dumps(payload), status_code=status, headers=headers, media_type="application/json"
        )

    def _take_rule(self, method: str, path: str) -> _Rule | None:
        for rule in self._rules:
            if rule.times > 0 and rule.method in ("*", method) and rule.pattern.search(path):
                rule.times -= 1
                return rule
        return None

    def _inject(self, rule: _Rule, headers: dict[str, str]) -> Response:
        body = rule.body
        if body is None:
            if rule.status in (403, 429):
                message = "You have exceeded a secondary rate limit. Please wait before you try again."
            elif rule.status >= 500:
                message = "Server Error"
            else:
                message = "Injected failure"
            body = {"message": message, "documentation_url": DOCS}
        with self._lock:
            token = self._bearer(headers)
            bucket = str(self._tokens[token][0]) if token in self._tokens else "app"
            rate = self._rate_headers(bucket, count=False)
        return self._json(rule.status, body, {**rate, **rule.headers})

    def _rate_headers(self, bucket: str, *, count: bool = True) -> dict[str, str]:
        state = self._rate.setdefault(bucket, [5000, int(time.time()) + 3600])
        if count and state[0] > 0:
            state[0] -= 1
        return {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(state[0]),
            "x-ratelimit-used": str(5000 - state[0]),
            "x-ratelimit-reset": str(state[1]),
            "x-ratelimit-resource": "core",
        }

    @staticmethod
    def _bearer(headers: dict[str, str]) -> str:
        value = headers.get("authorization", "")
        scheme, _, credential = value.partition(" ")
        return credential.strip() if scheme.lower() in ("token", "bearer") else ""

    def _authorize(self, ctx: _Ctx, headers: dict[str, str], needs_token: bool) -> str:
        """Check credentials for the route; return the rate-limit bucket."""
        if not needs_token:
            self._check_jwt(headers.get("authorization", ""))
            return "app"
        token = self._bearer(headers)
        owner_of_token = self._tokens.get(token)
        if not token.startswith("ghs_") or owner_of_token is None or owner_of_token[1] <= time.time():
            raise _Reply(401, "Bad credentials")
        repo = self._repos.get((ctx.params["owner"], ctx.params["repo"]))
        # GitHub hides repositories the installation cannot see behind a 404.
        if repo is None or repo.installation_id != owner_of_token[0]:
            raise _not_found()
        ctx.repo = repo
        return str(repo.installation_id)

    def _check_jwt(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token or token.startswith("ghs_"):
            raise _Reply(401, "A JSON web token could not be decoded")
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
                leeway=CLOCK_SKEW,
            )
        except jwt.PyJWTError as exc:
            raise _Reply(401, f"A JSON web token could not be verified: {type(exc).__name__}") from None
        now = time.time()
        iat, exp = claims["iat"], claims["exp"]
        if str(claims["iss"]) != str(self.app_id):
            raise _Reply(401, "'Issuer' claim ('iss') must be an Integer or the app's client ID")
        if exp - iat > JWT_MAX_SECONDS + CLOCK_SKEW or exp > now + JWT_MAX_SECONDS + CLOCK_SKEW:
            raise _Reply(401, "'Expiration time' claim ('exp') is too far in the future")

    def _repo_or_raise(self, owner: str, name: str) -> _Repo:
        repo = self._repos.get((owner, name))
        if repo is None:
            raise KeyError(f"unknown repo {owner}/{name}; call add_repo first")
        return repo

    def _bot(self) -> dict[str, Any]:
        return {"login": self.bot_login, "id": 99, "type": "Bot"}

    def _pull(self, ctx: _Ctx) -> _Pull:
        assert ctx.repo is not None
        pull = ctx.repo.pulls.get(int(ctx.params["n"]))
        if pull is None:
            raise _not_found()
        return pull

    def _file_entry(self, repo: _Repo, ref: str, raw: dict[str, Any]) -> dict[str, Any]:
        entry = dict(raw)
        if "filename" not in entry:
            raise ValueError("a file entry needs 'filename'")
        patch = entry.get("patch")
        if patch is None:
            entry.pop("patch", None)  # GitHub omits the key for binary and oversized files
        entry.setdefault("status", "modified")
        if patch is not None and ("additions" not in entry or "deletions" not in entry):
            hunks = parse_patch(patch)
            entry.setdefault("additions", sum(h.added for h in hunks))
            entry.setdefault("deletions", sum(h.removed for h in hunks))
        entry.setdefault("additions", 0)
        entry.setdefault("deletions", 0)
        entry.setdefault("changes", entry["additions"] + entry["deletions"])
        entry.setdefault("sha", hashlib.sha1(f"{ref}:{entry['filename']}".encode()).hexdigest())
        web = f"https://github.com/{repo.full_name}"
        entry.setdefault("blob_url", f"{web}/blob/{ref}/{entry['filename']}")
        entry.setdefault("raw_url", f"{web}/raw/{ref}/{entry['filename']}")
        return entry

    @staticmethod
    def _page(ctx: _Ctx, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        """Slice one page like GitHub (per_page default 30, max 100) with a `Link` header."""
        try:
            per_page = min(max(int(ctx.query.get("per_page", "30")), 1), 100)
            page = max(int(ctx.query.get("page", "1")), 1)
        except ValueError:
            raise _Reply(400, "Invalid pagination parameter") from None
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(target: int, rel: str) -> str:
            query = {**ctx.query, "per_page": str(per_page), "page": str(target)}
            return f'<{ctx.url}?{urlencode(query)}>; rel="{rel}"'

        rels = []
        if page > 1:
            rels += [link(min(page - 1, last), "prev"), link(1, "first")]
        if page < last:
            rels += [link(page + 1, "next"), link(last, "last")]
        return chunk, ({"link": ", ".join(rels)} if rels else {})

    # ---- endpoints ------------------------------------------------------------------------------

    def _get_app(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        """`GET /app` (JWT): the App itself; its bot posts as `{slug}[bot]`."""
        slug = self.bot_login.removesuffix("[bot]")
        return 200, {"id": self.app_id, "slug": slug, "name": slug, "owner": {"login": "owner"}}, {}

    def _mint(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        installation_id = int(ctx.params["iid"])
        if installation_id not in self._mints:
            raise _not_found()
        token = "ghs_" + secrets.token_hex(18)
        expires = time.time() + self.token_ttl
        self._tokens[token] = (installation_id, expires)
        self._mints[installation_id] += 1
        payload = {
            "token": token,
            "expires_at": _iso(expires),
            "permissions": {"pull_requests": "write", "checks": "write", "contents": "read"},
            "repository_selection": "selected",
        }
        return 201, payload, {}

    @staticmethod
    def _repo_json(full_name: str, private: bool) -> dict[str, Any]:
        owner, _, name = full_name.partition("/")
        return {
            "full_name": full_name,
            "name": name,
            "owner": {"login": owner},
            "private": private,
            "visibility": "private" if private else "public",
        }

    def _get_repo(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        repo = ctx.repo
        assert repo is not None
        return (
            200,
            {**self._repo_json(repo.full_name, repo.private), "default_branch": repo.default_branch},
            {},
        )

    def _pull_json(self, repo: _Repo, pull: _Pull) -> dict[str, Any]:
        web = f"https://github.com/{repo.full_name}"
        user = {"login": pull.author, "id": 1, "type": pull.author_type}
        return {
            "id": pull.number + 10_000,
            "number": pull.number,
            "state": pull.state,
            "title": pull.title,
            "body": pull.body,
            "draft": pull.draft,
            "user": user,
            "author_association": "CONTRIBUTOR",
            "head": {
                "sha": pull.head_sha,
                "ref": pull.head_ref,
                "label": f"{(pull.head_repo or repo.full_name).split('/')[0]}:{pull.head_ref}",
                "repo": self._repo_json(pull.head_repo or repo.full_name, repo.private),
            },
            "base": {
                "sha": pull.base_sha,
                "ref": pull.base_ref,
                "label": f"{repo.owner}:{pull.base_ref}",
                "repo": self._repo_json(repo.full_name, repo.private),
            },
            "html_url": f"{web}/pull/{pull.number}",
            "merged": False,
            "commits": len(pull.heads),
            "changed_files": len(pull.files),
            "additions": sum(int(f["additions"]) for f in pull.files),
            "deletions": sum(int(f["deletions"]) for f in pull.files),
        }

    def _get_pull(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        return 200, self._pull_json(ctx.repo, self._pull(ctx)), {}

    def _list_files(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        chunk, link = self._page(ctx, self._pull(ctx).files[:MAX_FILES])
        return 200, chunk, link

    def _list_review_comments(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        chunk, link = self._page(ctx, self._pull(ctx).review_comments)
        return 200, chunk, link

    def _list_reviews(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        chunk, link = self._page(ctx, self._pull(ctx).reviews)
        return 200, chunk, link

    def _create_review(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        pull = self._pull(ctx)
        body = ctx.body if isinstance(ctx.body, dict) else {}
        event = body.get("event")
        if event not in REVIEW_EVENTS:
            raise _unprocessable("event must be one of COMMENT, APPROVE, REQUEST_CHANGES")
        commit_id = body.get("commit_id", pull.head_sha)
        files_at = {sha: files for sha, files in pull.heads}
        if commit_id not in files_at:
            raise _unprocessable("commit_id is not part of the pull request")
        review_body = body.get("body") or ""
        if not isinstance(review_body, str) or len(review_body) > MAX_BODY:
            raise _unprocessable("Body is too long (maximum is 65536 characters)")
        raw_comments = body.get("comments") or []
        if not isinstance(raw_comments, list):
            raise _unprocessable("comments must be an array")
        if event != "APPROVE" and not review_body and not raw_comments:
            raise _unprocessable("Review body is required for this event")
        patches = {f["filename"]: f.get("patch") for f in files_at[commit_id]}
        checked = [self._check_comment(patches, c) for c in raw_comments]
        # Every comment passed: only now does anything get stored (all-or-nothing).
        review_id = next(self._ids)
        now = _iso(time.time())
        review = {
            "id": review_id,
            "user": self._bot(),
            "body": review_body,
            "state": REVIEW_EVENTS[event],
            "commit_id": commit_id,
            "submitted_at": now,
            "html_url": f"https://github.com/{ctx.repo.full_name}/pull/{pull.number}#pullrequestreview-{review_id}",
        }
        pull.reviews.append(review)
        for comment in checked:
            pull.review_comments.append(
                {
                    "id": next(self._ids),
                    "pull_request_review_id": review_id,
                    "commit_id": commit_id,
                    "original_commit_id": commit_id,
                    "user": self._bot(),
                    "created_at": now,
                    **comment,
                    "original_line": comment["line"],
                }
            )
        return 200, review, {}

    def _check_comment(self, patches: dict[str, str | None], raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise _unprocessable("comments must be objects")
        path, line, comment_body = raw.get("path"), raw.get("line"), raw.get("body")
        if not isinstance(comment_body, str) or not comment_body:
            raise _unprocessable("Comment body can't be blank")
        if len(comment_body) > MAX_BODY:
            raise _unprocessable("Comment body is too long (maximum is 65536 characters)")
        if path not in patches:
            raise _unprocessable("Path could not be resolved")
        patch = patches[path]
        if patch is None:
            raise _unprocessable("Line could not be resolved")
        side = raw.get("side", "RIGHT")
        if side not in ("RIGHT", "LEFT") or not isinstance(line, int) or isinstance(line, bool):
            raise _unprocessable("Line could not be resolved")
        try:
            hunks: list[PatchHunk] = parse_patch(patch)
        except PatchError:
            raise _unprocessable("Line could not be resolved") from None
        end = locate(hunks, side, line)
        if end is None:
            raise _unprocessable("Line could not be resolved")
        stored: dict[str, Any] = {
            "path": path,
            "line": line,
            "side": side,
            "start_line": None,
            "start_side": None,
            "body": comment_body,
            "subject_type": "line",
        }
        start_line = raw.get("start_line")
        if start_line is not None:
            start_side = raw.get("start_side", side)
            if not isinstance(start_line, int) or start_side not in ("RIGHT", "LEFT"):
                raise _unprocessable("Start line could not be resolved")
            if start_side == side and start_line >= line:
                raise _unprocessable("start_line must precede line")
            start = locate(hunks, start_side, start_line)
            if start is None or start[0] != end[0] or start[1] >= end[1]:
                raise _unprocessable("Line could not be resolved")
            stored["start_line"], stored["start_side"] = start_line, start_side
        return stored

    def _get_content(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        ref = ctx.query.get("ref") or ctx.repo.default_branch
        path = ctx.params["path"]
        data = ctx.repo.contents.get((ref, path))
        if data is None:
            raise _not_found()
        encoded = base64.b64encode(data).decode()
        # GitHub wraps the base64 at 60 characters with "\n"; decoders must cope.
        wrapped = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n"
        blob_sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        payload = {
            "type": "file",
            "encoding": "base64",
            "content": wrapped,
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": blob_sha,
        }
        return 200, payload, {}

    def _pull_diff_at(self, repo: _Repo, base: str, head: str) -> dict[str, Any] | None:
        """`base...head` for a PR's base (current or former) and one of its heads: its diff then."""
        for pull in repo.pulls.values():
            if base != pull.base_sha and base not in pull.former_bases:
                continue
            for sha, files in pull.heads:
                if sha == head and sha not in pull.gone:
                    return {"ahead_by": 1, "behind_by": 0, "files": files}
        return None

    def _compare(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        base, head = ctx.params["base"], ctx.params["head"]
        found = ctx.repo.compares.get((base, head)) or self._pull_diff_at(ctx.repo, base, head)
        if found is None:
            raise _not_found()
        ahead, behind = found["ahead_by"], found["behind_by"]
        status = (
            "identical"
            if not ahead and not behind
            else "diverged"
            if ahead and behind
            else ("ahead" if ahead else "behind")
        )
        payload = {
            "status": status,
            "ahead_by": ahead,
            "behind_by": behind,
            "total_commits": ahead,
            "merge_base_commit": {"sha": base},
            "base_commit": {"sha": base},
            "commits": [],
            "files": copy.deepcopy(found["files"][:COMPARE_MAX_FILES]),  # GitHub lists at most 300
        }
        return 200, payload, {}

    def _check_run_json(self, state: dict[str, Any]) -> dict[str, Any]:
        output = state.get("output") or {}
        return {
            **{k: v for k, v in state.items() if k not in ("output", "app_id")},
            "output": {
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": output.get("text"),
                "annotations_count": len(output.get("annotations") or []),
            },
            "app": {"id": state.get("app_id", self.app_id), "slug": "mini-review"},
        }

    def _apply_check_run(self, repo: _Repo, state: dict[str, Any], changes: Any) -> dict[str, Any]:
        """Validate `changes` against GitHub's check-run rules and return the new state."""
        if not isinstance(changes, dict):
            raise _unprocessable("body must be an object")
        new = {**state}
        for key in ("name", "head_sha", "details_url", "external_id", "started_at", "completed_at"):
            if key in changes:
                new[key] = changes[key]
        if "conclusion" in changes:
            new["conclusion"] = changes["conclusion"]
            if changes["conclusion"] is not None:
                new["status"] = "completed"  # GitHub: a conclusion implies completed
        if "status" in changes and changes.get("conclusion") is None:
            new["status"] = changes["status"]
        if "output" in changes:
            new["output"] = changes["output"]
        if not isinstance(new.get("name"), str) or not new["name"]:
            raise _unprocessable("name is required")
        if new.get("head_sha") not in repo.known_shas():
            raise _unprocessable("No commit found for SHA: " + str(new.get("head_sha")))
        if new["status"] not in CHECK_STATUSES:
            raise _unprocessable(f"status is not included in the list: {new['status']!r}")
        conclusion = new.get("conclusion")
        if conclusion is not None and conclusion not in CHECK_CONCLUSIONS:
            raise _unprocessable(f"conclusion is not included in the list: {conclusion!r}")
        if new["status"] == "completed" and conclusion is None:
            raise _unprocessable("conclusion is required when status is completed")
        if new["status"] != "completed" and conclusion is not None:
            raise _unprocessable("conclusion requires status completed")
        if conclusion == "action_required" and not new.get("details_url"):
            raise _unprocessable("details_url is required when conclusion is action_required")
        for key in ("started_at", "completed_at"):
            if new.get(key) is not None and not _valid_iso(new[key]):
                raise _unprocessable(f"{key} is not an ISO 8601 timestamp")
        if new["status"] == "completed" and new.get("completed_at") is None:
            new["completed_at"] = _iso(time.time())
        self._check_output(new.get("output"))
        return new

    @staticmethod
    def _check_output(output: Any) -> None:
        if output is None:
            return
        if not isinstance(output, dict) or not isinstance(output.get("title"), str):
            raise _unprocessable("output.title is required")
        if not isinstance(output.get("summary"), str):
            raise _unprocessable("output.summary is required")
        for key in ("summary", "text"):
            value = output.get(key)
            if value is not None and (not isinstance(value, str) or len(value) > MAX_OUTPUT_TEXT):
                raise _unprocessable(f"output.{key} is too long (maximum is 65535 characters)")
        annotations = output.get("annotations") or []
        if not isinstance(annotations, list) or len(annotations) > MAX_ANNOTATIONS:
            raise _unprocessable("Only 50 annotations are allowed per request")
        for note in annotations:
            if (
                not isinstance(note, dict)
                or not isinstance(note.get("path"), str)
                or not isinstance(note.get("start_line"), int)
                or not isinstance(note.get("end_line"), int)
                or note.get("annotation_level") not in ANNOTATION_LEVELS
                or not isinstance(note.get("message"), str)
            ):
                raise _unprocessable("annotation is invalid")

    def _create_check_run(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        check_id = next(self._ids)
        base = {
            "id": check_id,
            "status": "queued",
            "conclusion": None,
            "started_at": _iso(time.time()),
            "completed_at": None,
            "details_url": None,
            "external_id": None,
            "html_url": f"https://github.com/{ctx.repo.full_name}/runs/{check_id}",
        }
        state = self._apply_check_run(ctx.repo, base, ctx.body)
        ctx.repo.check_runs[check_id] = [state]
        return 201, self._check_run_json(state), {}

    def _get_check_run(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        history = ctx.repo.check_runs.get(int(ctx.params["id"]))
        if history is None:
            raise _not_found()
        return 200, self._check_run_json(history[-1]), {}

    def _list_check_runs(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        # https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference
        assert ctx.repo is not None
        name, status, app = ctx.query.get("check_name"), ctx.query.get("status"), ctx.query.get("app_id")
        found = [
            self._check_run_json(history[-1])
            for history in ctx.repo.check_runs.values()
            if history[-1].get("head_sha") == ctx.params["ref"]
            and (name is None or history[-1].get("name") == name)
            and (status is None or history[-1].get("status") == status)
            and (app is None or str(history[-1].get("app_id", self.app_id)) == app)
        ]
        return 200, {"total_count": len(found), "check_runs": found[:100]}, {}

    def _update_check_run(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        history = ctx.repo.check_runs.get(int(ctx.params["id"]))
        if history is None:
            raise _not_found()
        if history[-1].get("app_id", self.app_id) != self.app_id:  # only its own App may change a run
            raise _Reply(403, "Resource not accessible by integration")
        state = self._apply_check_run(ctx.repo, history[-1], ctx.body)
        history.append(state)
        return 200, self._check_run_json(state), {}

    def _issue_comment(self, repo: _Repo, number: int, body: str, user: dict[str, Any]) -> dict[str, Any]:
        comment_id = next(self._ids)
        comment = {
            "id": comment_id,
            "body": body,
            "user": user,
            "created_at": _iso(time.time()),
            "html_url": f"https://github.com/{repo.full_name}/pull/{number}#issuecomment-{comment_id}",
        }
        repo.issue_comments.setdefault(number, []).append(comment)
        return comment

    def _list_issue_comments(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        chunk, link = self._page(ctx, ctx.repo.issue_comments.get(int(ctx.params["n"]), []))
        return 200, chunk, link

    def _create_issue_comment(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        number = int(ctx.params["n"])
        if number not in ctx.repo.pulls:
            raise _not_found()
        body = ctx.body.get("body") if isinstance(ctx.body, dict) else None
        if not isinstance(body, str) or not body:
            raise _unprocessable("Body can't be blank")
        if len(body) > MAX_BODY:
            raise _unprocessable("Body is too long (maximum is 65536 characters)")
        return 201, self._issue_comment(ctx.repo, number, body, self._bot()), {}

    def _edit_issue_comment(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        comment_id = int(ctx.params["cid"])
        found = [c for cs in ctx.repo.issue_comments.values() for c in cs if c["id"] == comment_id]
        if not found:
            raise _not_found()
        comment = found[0]
        if comment["user"].get("login") != self.bot_login:
            raise _Reply(403, "Resource not accessible by integration")  # not ours to edit
        body = ctx.body.get("body") if isinstance(ctx.body, dict) else None
        if not isinstance(body, str) or not body:
            raise _unprocessable("Body can't be blank")
        if len(body) > MAX_BODY:
            raise _unprocessable("Body is too long (maximum is 65536 characters)")
        comment["body"] = body
        comment["updated_at"] = _iso(time.time())
        return 200, comment, {}

    def _react(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        comment_id = int(ctx.params["cid"])
        known = {c["id"] for comments in ctx.repo.issue_comments.values() for c in comments}
        if comment_id not in known:
            raise _not_found()
        content = ctx.body.get("content") if isinstance(ctx.body, dict) else None
        if content not in REACTIONS:
            raise _unprocessable("content is not included in the list")
        existing = self._reactions.setdefault(comment_id, [])
        for reaction in existing:
            if reaction["content"] == content:
                return 200, reaction, {}  # GitHub answers 200 for a reaction that already exists
        reaction = {"id": next(self._ids), "content": content, "user": self._bot()}
        existing.append(reaction)
        return 201, reaction, {}

    def _permission(self, ctx: _Ctx) -> tuple[int, Any, dict[str, str]]:
        assert ctx.repo is not None
        user = ctx.params["user"]
        role = ctx.repo.permissions.get(user, "none")
        payload = {
            "permission": LEGACY_PERMISSION.get(role, "none"),
            "role_name": role,
            "user": {"login": user, "id": 2, "type": "User"},
        }
        return 200, payload, {}
