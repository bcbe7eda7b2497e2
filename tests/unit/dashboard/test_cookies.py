"""Session cookies carry HttpOnly and SameSite=Lax always, Secure when the dashboard is served over https."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.responses import Response

from app.dashboard.auth import _set_cookie
from app.dashboard.context import Dashboard, template_environment
from app.dashboard.sessions import SessionKeys
from app.settings import load_settings


def dashboard(public_url: str) -> Dashboard:
    settings = load_settings(
        GITHUB_APP_ID=1,
        GITHUB_APP_PRIVATE_KEY="x",
        GITHUB_WEBHOOK_SECRET="w",
        OPENAI_API_KEY="k",
        PUBLIC_URL=public_url,
        GITHUB_CLIENT_ID="Iv1.x",
        GITHUB_CLIENT_SECRET="s",
    )
    unused: Any = None
    keys = SessionKeys("k" * 32)
    return Dashboard(settings, unused, unused, keys, unused, None, unused, template_environment())


@pytest.mark.parametrize(
    ("url", "secure"), [("https://review.example", True), ("http://localhost:8000", False)]
)
def test_cookie_flags(url: str, secure: bool) -> None:
    dash = dashboard(url)
    response = Response()
    _set_cookie(dash, response, "session-id", dt.timedelta(hours=1))
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert ("; secure" in cookie) is secure
    assert dash.callback_url == f"{url}/auth/callback"


def test_a_client_id_needs_its_secret() -> None:
    from app.errors import ConfigError

    with pytest.raises(ConfigError, match="GITHUB_CLIENT_SECRET"):
        load_settings(
            GITHUB_APP_ID=1, GITHUB_APP_PRIVATE_KEY="x", GITHUB_WEBHOOK_SECRET="w", OPENAI_API_KEY="k",
            GITHUB_CLIENT_ID="Iv1.x",
        )  # fmt: skip
