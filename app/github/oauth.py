"""Sign-in with GitHub (the App's OAuth flow) and what a user token may read.

https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
A GitHub App user token reaches only what both the user and the App can reach, so the repositories
listed under the user's installations are exactly the ones the dashboard may show them.

Plain httpx rather than githubkit: these are five unauthenticated-or-bearer calls whose failures all mean
"sign-in did not work"; the App client's retry and pacing machinery is for installation work.
Errors never carry a token or code: messages are built here from status codes only.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, Field, ValidationError

from app.errors import MiniReviewError

API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 30  # 3,000 repositories per installation is more than any dashboard user needs listed
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


class OAuthError(MiniReviewError):
    """Sign-in failed (bad code, GitHub unreachable, unexpected answer); safe to show."""


class GitHubUser(BaseModel):
    id: int
    login: str


class UserToken(BaseModel):
    access_token: str
    expires_in: int | None = None  # seconds; absent when the App does not expire user tokens


class RepoPermissions(BaseModel):
    admin: bool = False
    maintain: bool = False
    push: bool = False
    triage: bool = False
    pull: bool = False


class UserRepo(BaseModel):
    """A repository the user can reach through one of the App's installations."""

    full_name: str
    private: bool = True
    installation_id: int = 0
    permissions: RepoPermissions = Field(default_factory=RepoPermissions)

    @property
    def can_write(self) -> bool:
        p = self.permissions
        return p.admin or p.maintain or p.push


class OAuthApp:
    """The App's OAuth side: where to send the browser, and how to turn a code into a user token."""

    def __init__(
        self, client_id: str, client_secret: str, *, web_url: str, api_url: str, timeout: float = 15.0
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.web_url = web_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        query = urlencode({"client_id": self.client_id, "redirect_uri": redirect_uri, "state": state})
        return f"{self.web_url}/login/oauth/authorize?{query}"

    async def exchange_code(self, code: str, *, redirect_uri: str) -> UserToken:
        form = {
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
        }
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            try:
                reply = await http.post(
                    f"{self.web_url}/login/oauth/access_token",
                    data=form,
                    headers={"Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise OAuthError(f"GitHub sign-in is unreachable ({type(exc).__name__})") from None
        if reply.status_code != 200:
            raise OAuthError(f"GitHub refused the sign-in code (HTTP {reply.status_code})")
        data = _json_object(reply)
        if "error" in data or "access_token" not in data:
            # GitHub answers 200 with {"error": "bad_verification_code"} for a used or expired code.
            raise OAuthError(f"GitHub refused the sign-in code ({str(data.get('error', 'no token'))[:64]})")
        try:
            return UserToken.model_validate(data)
        except ValidationError:
            raise OAuthError("GitHub's token answer had an unexpected shape") from None

    def user_api(self, token: str) -> UserAPI:
        return UserAPI(self.api_url, token, timeout=self.timeout)


class UserAPI:
    """REST calls made with one user's token."""

    def __init__(self, api_url: str, token: str, *, timeout: float = 15.0) -> None:
        self.api_url = api_url
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }
        self.timeout = timeout

    async def user(self) -> GitHubUser:
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            reply = await self._get(http, f"{self.api_url}/user")
        try:
            return GitHubUser.model_validate(_json_object(reply))
        except ValidationError:
            raise OAuthError("GitHub's /user answer had an unexpected shape") from None

    async def repositories(self) -> list[UserRepo]:
        """Every repository the user reaches through the App's installations, with their permissions."""
        found: list[UserRepo] = []
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            installations = await self._pages(http, "/user/installations", "installations")
            for installation in installations:
                iid = int(str(installation["id"]))
                repos = await self._pages(http, f"/user/installations/{iid}/repositories", "repositories")
                for raw in repos:
                    try:
                        repo = UserRepo.model_validate(raw)
                    except ValidationError:
                        continue
                    found.append(repo.model_copy(update={"installation_id": iid}))
        return found

    async def _pages(self, http: httpx.AsyncClient, path: str, key: str) -> list[dict[str, object]]:
        url: str | None = f"{self.api_url}{path}?per_page={PER_PAGE}"
        items: list[dict[str, object]] = []
        for _ in range(MAX_PAGES):
            if url is None:
                break
            reply = await self._get(http, url)
            page = _json_object(reply).get(key)
            if not isinstance(page, list):
                raise OAuthError(f"GitHub's {path} answer had an unexpected shape")
            items += [item for item in page if isinstance(item, dict)]
            match = _NEXT_LINK.search(reply.headers.get("link", ""))
            url = match.group(1) if match else None
        return items

    async def _get(self, http: httpx.AsyncClient, url: str) -> httpx.Response:
        try:
            reply = await http.get(url, headers=self._headers)
        except httpx.HTTPError as exc:
            raise OAuthError(f"GitHub is unreachable ({type(exc).__name__})") from None
        if reply.status_code == 401:
            raise ExpiredToken("the GitHub sign-in expired or was revoked")
        if reply.status_code != 200:
            raise OAuthError(f"GitHub answered HTTP {reply.status_code} to a dashboard request")
        return reply


class ExpiredToken(OAuthError):
    """The user token no longer works: the user must sign in again."""


def _json_object(reply: httpx.Response) -> dict[str, object]:
    try:
        data = reply.json()
    except ValueError:
        raise OAuthError("GitHub answered with something other than JSON") from None
    if not isinstance(data, dict):
        raise OAuthError("GitHub answered with an unexpected JSON shape")
    return data
