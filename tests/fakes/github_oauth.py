"""The fake GitHub's sign-in side: OAuth web flow, user tokens, and what a user can read.

Mounted into `FakeGitHub` (as `fake.oauth`). Rules it enforces, as GitHub does:
- `/login/oauth/authorize` needs the App's client id and a `redirect_uri` under the registered callback
  URL; it redirects back with a one-time `code` and the caller's `state`.
- `POST /login/oauth/access_token` needs the client id and secret and a fresh, unused code issued for the
  same redirect URI; failures answer 200 with an `error` field (GitHub's way). JSON only when asked.
- User tokens (`ghu_…`, 8 hours) work on `/user` and `/user/installations…`, never on installation routes;
  they see only installations and repositories the user has a role on (`FakeGitHub.set_permission`).
- `GET /repos/{o}/{r}/installation` (App JWT) tells which installation a repository is on; whether it
  is private is the fake's own `private` flag (`add_repo(private=…)` or `set_private`).
https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import Response

USER_TOKEN_TTL = 8 * 3600
CODE_TTL = 600
ROLE_PERMISSIONS = {
    "admin": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
    "maintain": {"admin": False, "maintain": True, "push": True, "triage": True, "pull": True},
    "write": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
    "triage": {"admin": False, "maintain": False, "push": False, "triage": True, "pull": True},
    "read": {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True},
}


@dataclass
class _Code:
    login: str
    redirect_uri: str
    expires: float


@dataclass
class FakeOAuth:
    """OAuth state of one FakeGitHub; its lock is the fake's lock."""

    github: Any  # FakeGitHub (not imported: it imports this module)
    client_id: str = "Iv1.fake0client0id"
    client_secret: str = field(default_factory=lambda: "fake-client-secret-" + secrets.token_hex(8))
    callback_url: str | None = None  # the App's registered callback URL; None accepts any
    users: dict[str, int] = field(default_factory=dict)
    approving: str | None = None  # the user signed in on github.com, who approves the next authorize
    _codes: dict[str, _Code] = field(default_factory=dict)
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # every user token handed out, for leak checks

    # ---- test setup -------------------------------------------------------------------------------
    def add_user(self, login: str) -> None:
        with self.github._lock:
            self.users.setdefault(login, 5000 + len(self.users))

    def sign_in_as(self, login: str | None) -> None:
        """Who is signed in on the fake github.com and approves the next sign-in."""
        if login is not None:
            self.add_user(login)
        with self.github._lock:
            self.approving = login

    def set_private(self, owner: str, name: str, private: bool = True) -> None:
        with self.github._lock:
            self.github._repos[(owner, name)].private = private

    def revoke_user_tokens(self, login: str) -> None:
        with self.github._lock:
            self._tokens = {t: v for t, v in self._tokens.items() if v[0] != login}

    # ---- routes ------------------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, query: dict[str, str], raw: bytes, headers: dict[str, str], base: str
    ) -> Response | None:
        """Answer an OAuth or user-token request, or None when the path is not one of them."""
        if method == "GET" and path == "/login/oauth/authorize":
            return self._authorize(query)
        if method == "POST" and path == "/login/oauth/access_token":
            return self._access_token(raw, headers)
        if method == "GET" and (path == "/user" or path.startswith("/user/installations")):
            return self._user_api(path, query, headers, base)
        return None

    def repo_routes(self, repo_pattern: str) -> list[tuple[str, Any, Any, bool]]:
        """Routes added to FakeGitHub's own table (its JWT and installation-token checks apply)."""
        import re

        return [("GET", re.compile(repo_pattern + r"/installation"), self._repo_installation, False)]

    def _repo_installation(self, ctx: Any) -> tuple[int, Any, dict[str, str]]:
        repo = self.github._repos.get((ctx.params["owner"], ctx.params["repo"]))
        if repo is None:
            return 404, {"message": "Not Found"}, {}
        return 200, {"id": repo.installation_id, "app_id": self.github.app_id}, {}

    @staticmethod
    def _page_html(status: int, text: str) -> Response:
        return Response(f"<!doctype html><title>GitHub</title><p>{text}</p>", status, media_type="text/html")

    def _authorize(self, query: dict[str, str]) -> Response:
        redirect_uri = query.get("redirect_uri", "")
        with self.github._lock:
            if query.get("client_id") != self.client_id:
                return self._page_html(404, "Not Found")
            if self.callback_url is not None and not redirect_uri.startswith(self.callback_url):
                return self._page_html(400, "The redirect_uri is not associated with this application.")
            if self.approving is None:
                return self._page_html(200, "Sign in to GitHub")
            code = secrets.token_hex(10)
            self._codes[code] = _Code(self.approving, redirect_uri, time.time() + CODE_TTL)
        target = redirect_uri + ("&" if "?" in redirect_uri else "?")
        target += urlencode({"code": code, "state": query.get("state", "")})
        return Response(status_code=302, headers={"location": target})

    def _access_token(self, raw: bytes, headers: dict[str, str]) -> Response:
        content_type = headers.get("content-type", "")
        form = json.loads(raw) if "json" in content_type else dict(parse_qsl(raw.decode()))
        with self.github._lock:
            answer = self._exchange(form)
        if "json" in headers.get("accept", ""):
            return Response(json.dumps(answer), 200, media_type="application/json")
        return Response(urlencode(answer), 200, media_type="application/x-www-form-urlencoded")

    def _exchange(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return {"error": "incorrect_client_credentials"}
        code = self._codes.pop(str(form.get("code", "")), None)
        if code is None or code.expires < time.time():
            return {"error": "bad_verification_code"}
        if form.get("redirect_uri") not in (None, code.redirect_uri):
            return {"error": "redirect_uri_mismatch"}
        token = "ghu_" + secrets.token_hex(18)
        self._tokens[token] = (code.login, time.time() + USER_TOKEN_TTL)
        self.issued.append(token)
        return {
            "access_token": token,
            "expires_in": USER_TOKEN_TTL,
            "refresh_token": "ghr_" + secrets.token_hex(30),
            "refresh_token_expires_in": 15_811_200,
            "token_type": "bearer",
            "scope": "",
        }

    def _user_api(self, path: str, query: dict[str, str], headers: dict[str, str], base: str) -> Response:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self.github._lock:
            owner = self._tokens.get(token.strip()) if scheme.lower() in ("bearer", "token") else None
            if owner is None or owner[1] <= time.time():
                return _json(401, {"message": "Bad credentials"})
            login = owner[0]
            if path == "/user":
                return _json(200, {"login": login, "id": self.users.get(login, 1), "type": "User"})
            readable = self._readable(login)
            if path == "/user/installations":
                ids = sorted({repo.installation_id for repo in readable})
                items = [{"id": i, "app_id": self.github.app_id, "account": {"login": "org"}} for i in ids]
                return _paged(base + path, query, items, "installations")
            parts = path.split("/")
            if len(parts) == 5 and parts[3].isdigit() and parts[4] == "repositories":
                iid = int(parts[3])
                repos = [r for r in readable if r.installation_id == iid]
                if not repos:
                    return _json(404, {"message": "Not Found"})
                items = [self._repo_entry(r, login) for r in repos]
                return _paged(base + path, query, items, "repositories")
        return _json(404, {"message": "Not Found"})

    def _readable(self, login: str) -> list[Any]:
        repos = self.github._repos.values()
        return [r for r in repos if r.permissions.get(login, "none") in ROLE_PERMISSIONS]

    def _repo_entry(self, repo: Any, login: str) -> dict[str, Any]:
        private = bool(repo.private)
        return {
            "full_name": repo.full_name,
            "name": repo.name,
            "owner": {"login": repo.owner},
            "private": private,
            "permissions": ROLE_PERMISSIONS[repo.permissions[login]],
        }


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload), status, headers=headers, media_type="application/json")


def _paged(url: str, query: dict[str, str], items: list[Any], key: str) -> Response:
    per_page = min(max(int(query.get("per_page", "30")), 1), 100)
    page = max(int(query.get("page", "1")), 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    headers = {}
    if page * per_page < len(items):
        headers["link"] = f'<{url}?{urlencode({"per_page": per_page, "page": page + 1})}>; rel="next"'
    return _json(200, {"total_count": len(items), key: chunk}, headers)
