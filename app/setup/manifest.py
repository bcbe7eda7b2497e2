"""The App manifest we ask GitHub to register, and the credentials GitHub converts it into (pure).

Manifest flow: https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

# What the pipeline needs (README "Registering the GitHub App"): keep both lists in step with it.
PERMISSIONS = {
    "pull_requests": "write",
    "contents": "read",
    "checks": "write",
    "issues": "write",
    "metadata": "read",
}
EVENTS = ["pull_request", "issue_comment", "pull_request_review_comment", "check_run"]


def build_manifest(*, name: str, public_url: str, redirect_url: str) -> dict[str, Any]:
    """Describe our App: webhook and sign-in callback under PUBLIC_URL, GitHub back to `redirect_url`."""
    base = public_url.rstrip("/")
    return {
        "name": name,
        "url": base,
        "hook_attributes": {"url": f"{base}/webhooks/github", "active": True},
        "redirect_url": redirect_url,
        "callback_urls": [f"{base}/auth/callback"],
        "setup_url": f"{base}/",
        "public": False,
        "default_permissions": dict(PERMISSIONS),
        "default_events": list(EVENTS),
    }


def new_app_url(github_url: str, org: str | None) -> str:
    """Where the manifest form is posted: the user's or the organisation's new-App page."""
    base = github_url.rstrip("/")
    if org:
        return f"{base}/organizations/{org}/settings/apps/new"
    return f"{base}/settings/apps/new"


def default_api_url(github_url: str) -> str:
    """REST base for a GitHub web URL: api.github.com for github.com, `/api/v3` on GHES."""
    base = github_url.rstrip("/")
    if base in ("https://github.com", "http://github.com"):
        return "https://api.github.com"
    return f"{base}/api/v3"


class AppCredentials(BaseModel):
    """The part of `POST /app-manifests/{code}/conversions` we keep; secrets stay wrapped."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int
    slug: str
    html_url: str | None = None
    pem: SecretStr
    webhook_secret: SecretStr
    client_id: str
    client_secret: SecretStr

    def install_url(self, github_url: str) -> str:
        """The App's page for installing it on accounts and repositories."""
        page = self.html_url or f"{github_url.rstrip('/')}/apps/{self.slug}"
        return f"{page.rstrip('/')}/installations/new"

    def env_entries(self) -> dict[str, str]:
        """The `.env` lines that configure `mini-review serve` for this App."""
        return {
            "GITHUB_APP_ID": str(self.id),
            "GITHUB_APP_PRIVATE_KEY": self.pem.get_secret_value(),
            "GITHUB_WEBHOOK_SECRET": self.webhook_secret.get_secret_value(),
            "GITHUB_CLIENT_ID": self.client_id,
            "GITHUB_CLIENT_SECRET": self.client_secret.get_secret_value(),
        }
