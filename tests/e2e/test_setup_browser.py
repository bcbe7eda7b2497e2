"""`mini-review setup` in a real browser: the page auto-posts the manifest, the fake GitHub redirects back,
and the browser lands on the App's install page while `.env` is written (mode 0600)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from dotenv import dotenv_values

from tests.e2e.harness import wait_for
from tests.e2e.test_setup_flow import setup_command
from tests.fakes.github import FakeGitHub
from tests.fakes.server import serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
def test_browser_goes_from_setup_page_to_install_page(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    github = FakeGitHub()
    with serve_in_thread(github.app) as gh_url, setup_command(tmp_path, gh_url) as setup:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            try:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{setup.port}/")  # the address the page listens on
                page.wait_for_url(f"{gh_url}/apps/mini-review/installations/new", timeout=30_000)
            finally:
                browser.close()
        wait_for(lambda: setup.proc.poll() is not None, what="setup to exit")
        assert setup.proc.returncode == 0
    env_file = tmp_path / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    issued = github.manifests.conversions[0].credentials
    assert dotenv_values(env_file)["GITHUB_WEBHOOK_SECRET"] == issued["webhook_secret"]
