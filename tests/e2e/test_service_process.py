"""The service as a user runs it: the `mini-review` command, its settings errors, and crash recovery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import webhook_payload
from tests.e2e.harness import OPENAI_KEY, Stack, settings_for, wait_for
from tests.e2e.test_backbone import NAME, NUMBER, OWNER, open_pr
from tests.fakes.github import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.server import free_port, serve_in_thread

CLI = str(Path(sys.executable).with_name("mini-review"))


def _env(values: dict[str, object]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "OPENAI_", "MINI_"))}
    env.update({k: str(v) for k, v in values.items()})
    return env


@contextmanager
def service(env: dict[str, str], cwd: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    proc = subprocess.Popen(
        [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise AssertionError(f"mini-review exited early:\n{out}")
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=30, what="mini-review serve to answer /healthz")
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()


def test_missing_setting_fails_with_one_clear_line(tmp_path: Path) -> None:
    env = _env(
        {
            "GITHUB_APP_ID": "1",
            "GITHUB_APP_PRIVATE_KEY": "-----BEGIN SECRET-----",
            "OPENAI_API_KEY": OPENAI_KEY,
        }
    )
    result = subprocess.run([CLI, "serve"], env=env, cwd=tmp_path, capture_output=True, timeout=60)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "GITHUB_WEBHOOK_SECRET" in err and len(err.strip().splitlines()) == 1
    assert OPENAI_KEY not in err and "BEGIN SECRET" not in err and not result.stdout


def test_invalid_value_is_named_without_echoing_it(tmp_path: Path) -> None:
    env = _env(
        {
            "GITHUB_APP_ID": "not-a-number",
            "GITHUB_APP_PRIVATE_KEY_PATH": str(tmp_path / "key.pem"),
            "GITHUB_WEBHOOK_SECRET": "topsecretvalue",
            "OPENAI_API_KEY": OPENAI_KEY,
        }
    )
    result = subprocess.run([CLI, "serve"], env=env, cwd=tmp_path, capture_output=True, timeout=60)
    err = result.stderr.decode()
    assert result.returncode == 2 and "GITHUB_APP_ID" in err and "topsecretvalue" not in err


@pytest.mark.slow
def test_a_review_survives_the_process_being_killed(tmp_path: Path) -> None:
    """A webhook that got a 2xx is reviewed even if the process dies mid-review (kill -9)."""
    github = FakeGitHub()
    model = FakeOpenAI(latency=5)  # the first process is killed while the model "thinks"
    with serve_in_thread(github.app) as gh_url, serve_in_thread(model.app) as model_url:
        values = settings_for(gh_url, model_url, tmp_path / "svc.db", MINI_JOB_LEASE_SECONDS=1)
        values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
        env = _env(values)
        stack = Stack(github=github, model=model, url="", client=httpx.Client(timeout=10))
        open_pr(stack)
        with service(env, tmp_path) as (proc, url):
            stack.url = url
            assert (
                stack.deliver("pull_request", webhook_payload("pull_request.opened.payload.json")).status_code
                == 202
            )
            wait_for(lambda: model.requests, timeout=30, what="the first process to call the model")
            proc.kill()  # no graceful shutdown: the job is left "running" with a lease
            proc.wait()
        assert github.reviews(OWNER, NAME, NUMBER) == []
        model.latency = 0
        with service(env, tmp_path) as (_proc, url):
            reviews = wait_for(
                lambda: github.reviews(OWNER, NAME, NUMBER), timeout=60, what="the review after restart"
            )
        stack.client.close()
    assert len(reviews) == 1
    assert (tmp_path / "svc.db").exists()


def test_graceful_shutdown_hands_the_job_back(tmp_path: Path) -> None:
    """Stopping the service mid-review requeues the job at once; the next start reviews it."""
    from app.main import create_app
    from app.settings import load_settings

    github = FakeGitHub()
    model = FakeOpenAI(latency=3)  # long enough to stop the service mid-call
    with serve_in_thread(github.app) as gh_url, serve_in_thread(model.app) as model_url:
        # A long lease: only the explicit hand-back can make the job claimable again quickly.
        values = settings_for(gh_url, model_url, tmp_path / "g.db", MINI_JOB_LEASE_SECONDS=600)
        values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
        with httpx.Client(timeout=10) as client:
            stack = Stack(github=github, model=model, url="", client=client)
            open_pr(stack)
            with serve_in_thread(create_app(load_settings(**values))) as url:
                stack.url = url
                payload = webhook_payload("pull_request.opened.payload.json")
                assert stack.deliver("pull_request", payload).status_code == 202
                wait_for(lambda: model.requests, what="the model call")
            model.latency = 0
            with serve_in_thread(create_app(load_settings(**values))):
                reviews = wait_for(lambda: github.reviews(OWNER, NAME, NUMBER), timeout=20, what="the review")
    assert len(reviews) == 1


def test_unreadable_or_invalid_key_is_one_line(tmp_path: Path) -> None:
    base = {"GITHUB_APP_ID": "1", "GITHUB_WEBHOOK_SECRET": "s3cr3t-value", "OPENAI_API_KEY": OPENAI_KEY}
    missing = _env({**base, "GITHUB_APP_PRIVATE_KEY_PATH": str(tmp_path / "nope.pem")})
    result = subprocess.run([CLI, "serve"], env=missing, cwd=tmp_path, capture_output=True, timeout=60)
    assert result.returncode == 2 and "GITHUB_APP_PRIVATE_KEY_PATH" in result.stderr.decode()
    garbage = _env({**base, "GITHUB_APP_PRIVATE_KEY": "not a key at all"})
    result = subprocess.run([CLI, "serve"], env=garbage, cwd=tmp_path, capture_output=True, timeout=60)
    err = result.stderr.decode()
    assert result.returncode == 2 and "GITHUB_APP_PRIVATE_KEY " in err and "not a key at all" not in err
    assert len(err.strip().splitlines()) == 1
