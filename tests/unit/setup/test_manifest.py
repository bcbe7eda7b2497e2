"""The manifest we post and the URLs around it."""

from __future__ import annotations

from app.setup.manifest import AppCredentials, build_manifest, default_api_url, new_app_url


def test_manifest_points_github_at_public_url() -> None:
    manifest = build_manifest(
        name="mr", public_url="https://x.test/", redirect_url="http://localhost:3000/callback"
    )
    assert manifest["hook_attributes"]["url"] == "https://x.test/webhooks/github"
    assert manifest["callback_urls"] == ["https://x.test/auth/callback"]
    assert manifest["redirect_url"] == "http://localhost:3000/callback"
    assert manifest["public"] is False
    assert manifest["default_permissions"]["pull_requests"] == "write"
    assert manifest["default_permissions"]["contents"] == "read"
    assert "pull_request" in manifest["default_events"]


def test_new_app_page_for_user_or_org_and_api_for_ghes() -> None:
    assert new_app_url("https://github.com/", None) == "https://github.com/settings/apps/new"
    assert new_app_url("https://ghe.test", "acme") == "https://ghe.test/organizations/acme/settings/apps/new"
    assert default_api_url("https://github.com") == "https://api.github.com"
    assert default_api_url("https://ghe.test/") == "https://ghe.test/api/v3"


def test_credentials_hide_secrets_and_name_the_install_page() -> None:
    creds = AppCredentials.model_validate(
        {
            "id": 5,
            "slug": "mr",
            "pem": "PEM",
            "webhook_secret": "whs",
            "client_id": "Iv1.a",
            "client_secret": "cs",
            "owner": {"login": "x"},
        }
    )
    assert "whs" not in repr(creds) and "PEM" not in str(creds) and "cs" not in repr(creds.client_secret)
    assert creds.install_url("https://github.com") == "https://github.com/apps/mr/installations/new"
    assert creds.env_entries()["GITHUB_APP_ID"] == "5"
