"""`mini-review setup` end to end: the real command, a browser's requests, the fake GitHub's manifest flow."""

from __future__ import annotations

import html
import json
import re
import signal
import stat
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from dotenv import dotenv_values

from tests.e2e.harness import OPENAI_KEY, wait_for
from tests.e2e.test_service_process import CLI, _env, service
from tests.fakes.github import FakeGitHub
from tests.fakes.server import free_port, serve_in_thread

PUBLIC_URL = "https://review.example.test"


@dataclass
class SetupProcess:
    proc: subprocess.Popen[bytes]
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def token(self) -> str:
        found = wait_for(lambda: re.search(r"token=([\w-]+)", self.output), what="the printed token")
        return found.group(1)


@contextmanager
def setup_command(tmp_path: Path, github_url: str, *args: str) -> Iterator[SetupProcess]:
    port = free_port()
    env = _env({"GITHUB_API_URL": github_url, "PUBLIC_URL": PUBLIC_URL})
    proc = subprocess.Popen(
        [CLI, "setup", "--github-url", github_url, "--port", str(port), *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    running = SetupProcess(proc, port)

    def pump() -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            running.lines.append(raw.decode())

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()

    def answering() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"setup exited early:\n{running.output}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
        except httpx.HTTPError:
            return False
        return True

    try:
        wait_for(answering, timeout=30, what="the setup page")
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        reader.join(timeout=5)
        if proc.stdout:
            proc.stdout.close()


def read_form(page: str) -> tuple[str, dict[str, Any]]:
    """What a browser would submit: the form's action and its manifest field."""
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    manifest = re.search(r'name="manifest" value="([^"]+)"', page)
    assert action and manifest, page
    return html.unescape(action.group(1)), json.loads(html.unescape(manifest.group(1)))


def test_setup_registers_the_app_and_writes_env(tmp_path: Path) -> None:
    github = FakeGitHub()
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"# mine\nOPENAI_API_KEY={OPENAI_KEY}\nGITHUB_APP_PRIVATE_KEY_PATH=/old/key.pem\n"
        f"DATABASE_URL=sqlite+aiosqlite:///{tmp_path / 'svc.db'}\n"
    )
    env_file.chmod(0o644)
    with serve_in_thread(github.app) as gh_url:
        with setup_command(tmp_path, gh_url) as setup:
            page = httpx.get(f"http://localhost:{setup.port}/", timeout=10)
            assert page.status_code == 200
            action, manifest = read_form(page.text)
            assert action.startswith(f"{gh_url}/settings/apps/new?state=")
            assert manifest["hook_attributes"] == {"url": f"{PUBLIC_URL}/webhooks/github", "active": True}
            assert manifest["callback_urls"] == [f"{PUBLIC_URL}/auth/callback"]
            assert manifest["redirect_url"] == f"http://localhost:{setup.port}/callback"
            assert {"pull_request", "issue_comment", "check_run"} <= set(manifest["default_events"])

            created = httpx.post(action, data={"manifest": json.dumps(manifest)}, timeout=10)
            assert created.status_code == 302
            back = created.headers["location"]
            query = parse_qs(urlsplit(back).query)
            assert query["state"] == parse_qs(urlsplit(action).query)["state"] and query["code"]

            done = httpx.get(back, timeout=10)
            assert done.status_code == 303
            assert done.headers["location"] == f"{gh_url}/apps/mini-review/installations/new"
            wait_for(lambda: setup.proc.poll() is not None, what="setup to exit")
            assert setup.proc.returncode == 0

        issued = github.manifests.conversions[0].credentials
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        values = dotenv_values(env_file)
        assert values["GITHUB_APP_ID"] == str(github.app_id)
        assert values["GITHUB_APP_PRIVATE_KEY"] == issued["pem"]
        assert values["GITHUB_WEBHOOK_SECRET"] == issued["webhook_secret"]
        assert values["GITHUB_CLIENT_ID"] == issued["client_id"]
        assert values["GITHUB_CLIENT_SECRET"] == issued["client_secret"]
        assert values["OPENAI_API_KEY"] == OPENAI_KEY and "GITHUB_APP_PRIVATE_KEY_PATH" not in values
        assert env_file.read_text().startswith("# mine\n")
        for secret in (issued["webhook_secret"], issued["client_secret"], "PRIVATE KEY"):
            assert secret not in setup.output
        assert "installations/new" in setup.output

        # The written file is a working configuration: the service starts from it alone.
        plain_env = {k: v for k, v in _env({}).items() if k not in ("DATABASE_URL", "PUBLIC_URL")}
        with service(plain_env, tmp_path) as (_proc, url):
            assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200


def test_setup_page_refuses_strangers_and_unknown_states(tmp_path: Path) -> None:
    github = FakeGitHub()
    with serve_in_thread(github.app) as gh_url, setup_command(tmp_path, gh_url, "--org", "acme") as setup:
        base = f"http://127.0.0.1:{setup.port}"
        # A loopback client with a foreign Host header (DNS rebinding) is a stranger.
        stranger = {"Host": "evil.example"}
        assert httpx.get(f"{base}/", headers=stranger, timeout=5).status_code == 403
        assert httpx.get(f"{base}/?token=guess", headers=stranger, timeout=5).status_code == 403
        with httpx.Client(base_url=base, headers=stranger, timeout=5) as browser:
            first = browser.get(f"/?token={setup.token()}")
            assert first.status_code == 200
            action, manifest = read_form(first.text)
            assert action.startswith(f"{gh_url}/organizations/acme/settings/apps/new?state=")
            assert browser.get("/").status_code == 200  # the cookie the token was exchanged for
        again = httpx.get(f"{base}/?token={setup.token()}", headers=stranger, timeout=5)
        assert again.status_code == 403  # the token works once

        created = httpx.post(action, data={"manifest": json.dumps(manifest)}, timeout=10)
        back = urlsplit(created.headers["location"])
        assert back.netloc == "evil.example"  # GitHub sends the browser back to the name it used
        code = parse_qs(back.query)["code"][0]
        back_here = f"{base}{back.path}?{back.query}"
        forged = httpx.get(f"{base}/callback", params={"code": code, "state": "forged"}, timeout=5)
        assert forged.status_code == 400
        github.manifests.expire_codes()
        late = httpx.get(back_here, headers=stranger, timeout=5)
        assert late.status_code == 502  # GitHub refuses a code older than an hour
        replay = httpx.get(back_here, headers=stranger, timeout=5)
        assert replay.status_code == 400  # each state works once
        assert setup.proc.poll() is None
        assert github.manifests.registered[0].org == "acme"
    assert setup.proc.returncode != 0  # stopped by the signal, not finished
    assert not (tmp_path / ".env").exists()


def test_serve_without_an_app_points_to_setup(tmp_path: Path) -> None:
    env = _env({"OPENAI_API_KEY": OPENAI_KEY})
    result = subprocess.run([CLI, "serve"], env=env, cwd=tmp_path, capture_output=True, timeout=60)
    err = result.stderr.decode()
    assert result.returncode == 2 and len(err.strip().splitlines()) == 1
    assert "GITHUB_APP_ID" in err and "run `mini-review setup`" in err
    assert OPENAI_KEY not in err
