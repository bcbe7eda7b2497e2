"""The sign-in client against the fake GitHub over real HTTP: code exchange, /user, repository grants."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.github.oauth import ExpiredToken, OAuthApp, OAuthError
from tests.fakes.github import FakeGitHub
from tests.fakes.server import serve_in_thread

CALLBACK = "http://dash.test/auth/callback"


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub()
    fake.oauth.callback_url = CALLBACK
    with serve_in_thread(fake.app) as url:
        yield fake, url


def oauth_app(fake: FakeGitHub, url: str, secret: str | None = None) -> OAuthApp:
    return OAuthApp(fake.oauth.client_id, secret or fake.oauth.client_secret, web_url=url, api_url=url)


def approve(app: OAuthApp, login: str, fake: FakeGitHub, state: str = "st8") -> str:
    fake.oauth.sign_in_as(login)
    reply = httpx.get(app.authorize_url(redirect_uri=CALLBACK, state=state))
    assert reply.status_code == 302
    query = parse_qs(urlsplit(reply.headers["location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


async def test_a_code_becomes_a_token_that_reads_the_user_and_their_repositories(
    github: tuple[FakeGitHub, str],
) -> None:
    fake, url = github
    for i in range(130):  # more than one page of repositories
        fake.add_repo("org", f"r{i:03d}", installation_id=1 if i < 120 else 2)
        fake.set_permission("org", f"r{i:03d}", "carol", "write" if i % 2 else "read")
    fake.add_repo("org", "hidden", installation_id=3)
    fake.oauth.set_private("org", "r000", True)
    app = oauth_app(fake, url)
    token = await app.exchange_code(approve(app, "carol", fake), redirect_uri=CALLBACK)
    assert token.access_token.startswith("ghu_") and token.expires_in == 8 * 3600
    api = app.user_api(token.access_token)
    assert (await api.user()).login == "carol"
    repos = {r.full_name: r for r in await api.repositories()}
    assert len(repos) == 130 and "org/hidden" not in repos
    assert repos["org/r000"].private and not repos["org/r001"].private
    assert repos["org/r001"].can_write and not repos["org/r000"].can_write
    assert repos["org/r125"].installation_id == 2


async def test_codes_are_single_use_and_need_the_right_secret(github: tuple[FakeGitHub, str]) -> None:
    fake, url = github
    app = oauth_app(fake, url)
    code = approve(app, "carol", fake)
    with pytest.raises(OAuthError, match="incorrect_client_credentials"):
        await oauth_app(fake, url, secret="wrong").exchange_code(code, redirect_uri=CALLBACK)
    code = approve(app, "carol", fake)
    await app.exchange_code(code, redirect_uri=CALLBACK)
    with pytest.raises(OAuthError, match="bad_verification_code") as caught:
        await app.exchange_code(code, redirect_uri=CALLBACK)
    assert code not in str(caught.value) and fake.oauth.client_secret not in str(caught.value)


async def test_a_revoked_token_asks_for_a_new_sign_in(github: tuple[FakeGitHub, str]) -> None:
    fake, url = github
    app = oauth_app(fake, url)
    token = await app.exchange_code(approve(app, "dave", fake), redirect_uri=CALLBACK)
    fake.oauth.revoke_user_tokens("dave")
    with pytest.raises(ExpiredToken) as caught:
        await app.user_api(token.access_token).repositories()
    assert token.access_token not in str(caught.value)


def test_authorize_refuses_a_foreign_redirect(github: tuple[FakeGitHub, str]) -> None:
    fake, url = github
    fake.oauth.sign_in_as("carol")
    app = oauth_app(fake, url)
    reply = httpx.get(app.authorize_url(redirect_uri="https://evil.example/cb", state="s"))
    assert reply.status_code == 400
