"""`mini-review migrate` as an operator runs it: a release-v1 SQLite file upgraded in place."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from app.storage.migrations.runner import head_revision
from tests.fakes.github import app_keys

CLI = str(Path(sys.executable).with_name("mini-review"))
RELEASE_V1 = Path(__file__).resolve().parents[1] / "fixtures" / "release_v1" / "release-v1.sqlite3"


def run_migrate(db: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "OPENAI_", "MINI_"))}
    env.update(
        GITHUB_APP_ID="4242",
        GITHUB_APP_PRIVATE_KEY=app_keys()[0],
        GITHUB_WEBHOOK_SECRET="not-used-here",
        OPENAI_API_KEY="not-used-here",
        DATABASE_URL=f"sqlite:///{db}",
    )
    return subprocess.run(
        [CLI, "migrate"], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_migrate_upgrades_a_release_v1_file_and_is_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "mini-review.db"
    shutil.copyfile(RELEASE_V1, db)
    for _ in range(2):
        done = run_migrate(db, tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"database at schema revision {head_revision()} (head)" in done.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "schema_version" not in tables
