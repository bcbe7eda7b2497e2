"""Real git repositories made in a test, and a runner for the `mini-review review` command."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class Repo:
    path: Path
    home: Path

    def git(self, *args: str) -> str:
        env = {**os.environ, **GIT_ENV, "HOME": str(self.home)}
        done = subprocess.run(
            ["git", "-C", str(self.path), *args], env=env, capture_output=True, check=True, timeout=60
        )
        return done.stdout.decode().strip()

    def write(self, path: str, content: bytes | str) -> None:
        target = self.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")


def new_repo(root: Path) -> Repo:
    repo = Repo(root / "repo", root / "home")
    repo.path.mkdir(parents=True)
    repo.home.mkdir(parents=True, exist_ok=True)
    repo.git("init", "-q", "-b", "main")
    return repo


def line_of(text: str, needle: str) -> int:
    """Return the 1-based number of the first line containing `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not found")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_review(
    args: list[str], *, cwd: Path, env: dict[str, str], stdin: bytes | None = None, timeout: float = 120
) -> Result:
    """Run `mini-review review ARGS` as a separate process, the way a user's shell would."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MINI_", "GITHUB_"))}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "review", *args],
        cwd=cwd,
        env={**clean, **GIT_ENV, **env},
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )
    return Result(
        done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    )
