"""`/readyz` tells when the database or the in-process worker is gone; `worker` refuses SQLite in one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from app.main import create_app
from app.settings import load_settings
from tests.e2e.harness import settings_for
from tests.e2e.test_service_process import CLI, _env
from tests.fakes.github import FakeGitHub
from tests.fakes.server import serve_in_thread


def test_worker_on_sqlite_stops_with_one_clear_line(tmp_path: Path) -> None:
    github = FakeGitHub()
    values = settings_for("http://127.0.0.1:9", "http://127.0.0.1:9", tmp_path / "w.db")
    values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
    result = subprocess.run([CLI, "worker"], env=_env(values), cwd=tmp_path, capture_output=True, timeout=60)
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2
    assert len(lines) == 1 and "scale-out needs PostgreSQL" in lines[0]


def test_readyz_follows_the_database_and_the_worker_loops(tmp_path: Path) -> None:
    github = FakeGitHub()
    values = settings_for("http://127.0.0.1:9", "http://127.0.0.1:9", tmp_path / "r.db")
    values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
    app = create_app(load_settings(**values))
    with serve_in_thread(app) as url, httpx.Client(timeout=10) as client:
        ready = client.get(f"{url}/readyz")
        assert ready.status_code == 200 and ready.json()["worker"] == "ok"
        # A worker loop that died (whatever killed it) makes the instance not ready; /healthz stays cheap.
        worker = app.state.readiness.worker
        worker._tasks[0].cancel()
        not_ready = client.get(f"{url}/readyz")
        assert not_ready.status_code == 503 and not_ready.json()["worker"] == "failing"
        assert client.get(f"{url}/healthz").status_code == 200


def test_readyz_without_a_worker_checks_only_the_database(tmp_path: Path) -> None:
    github = FakeGitHub()
    values = settings_for("http://127.0.0.1:9", "http://127.0.0.1:9", tmp_path / "off.db", MINI_WORKER="off")
    values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
    app = create_app(load_settings(**values))
    with serve_in_thread(app) as url, httpx.Client(timeout=10) as client:
        assert client.get(f"{url}/readyz").json() == {
            "status": "ok",
            "database": "ok",
            "worker": "ok",
            "intake": "ok",
        }
