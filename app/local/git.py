"""Read what a local review needs from a git repository by running the `git` command.

Hand-written over `subprocess` rather than a git library (GitPython, pygit2): we need four plumbing
calls whose output git itself defines, and the `git` binary is what the user already has and trusts.
Every call pins the options that user configuration could change (prefixes, colour, external diff
drivers, text conversion), so the unified diff we parse is git's plain format on every machine.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from app.errors import PermanentError

# Options that make `git diff` output independent of the user's configuration.
_DIFF_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--find-renames",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--unified=3",
)
_DEFAULT_BRANCH_CANDIDATES = ("main", "master", "trunk", "develop")


class GitError(PermanentError):
    """A git call failed: not a repository, an unknown ref, git missing."""


class DiffScope(StrEnum):
    """Which changes a local review covers."""

    COMMITS = "commits"  # base...head: what a pull request from head into base would show
    STAGED = "staged"  # the index against HEAD
    WORKTREE = "worktree"  # the working tree (staged and unstaged) against HEAD


@dataclass(frozen=True, slots=True)
class DiffRequest:
    scope: DiffScope
    base: str = ""
    head: str = "HEAD"


class GitRepo:
    """One local repository, addressed by its path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _git(self, *args: str, missing_ok: bool = False) -> bytes | None:
        command = ["git", "-C", str(self.path), "-c", "core.quotePath=true", *args]
        try:
            done = subprocess.run(command, capture_output=True, check=False, timeout=300)
        except FileNotFoundError:
            raise GitError("git is not installed (needed unless --diff FILE is given)") from None
        if done.returncode != 0:
            if missing_ok:
                return None
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = lines[0] if lines else f"exit {done.returncode}"
            raise GitError(f"git {args[0]} failed: {reason}")
        return done.stdout

    def _text(self, *args: str) -> str:
        out = self._git(*args)
        assert out is not None
        return out.decode("utf-8", "replace").strip()

    def check(self) -> None:
        """Fail with a clear error when the path is not inside a git work tree."""
        if self._git("rev-parse", "--is-inside-work-tree", missing_ok=True) is None:
            raise GitError(f"{self.path} is not a git repository (use --diff FILE outside one)")

    def resolve(self, ref: str) -> str:
        """Return the commit id `ref` names."""
        out = self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", missing_ok=True)
        if not out:
            raise GitError(f"unknown revision {ref!r}")
        return out.decode().strip()

    def default_branch(self) -> str:
        """Return the repository's default branch: origin's HEAD, else a usual local name."""
        remote_head = self._git("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", missing_ok=True)
        if remote_head:
            return remote_head.decode().strip().removeprefix("refs/remotes/")
        for name in _DEFAULT_BRANCH_CANDIDATES:
            if self._git("rev-parse", "--verify", "--quiet", f"refs/heads/{name}", missing_ok=True):
                return name
        raise GitError("cannot tell the default branch: pass --base REF")

    def diff(self, request: DiffRequest) -> bytes:
        """Return the unified diff the request describes, in git's plain format."""
        if request.scope is DiffScope.STAGED:
            args: tuple[str, ...] = ("--cached", "HEAD")
        elif request.scope is DiffScope.WORKTREE:
            args = ("HEAD",)
        else:
            args = (f"{request.base}...{request.head}",)
        out = self._git("diff", *_DIFF_OPTIONS, *args, "--")
        assert out is not None
        return out

    def show(self, ref: str, path: str) -> bytes | None:
        """Return the file at `path` in `ref`, or None when it does not exist there."""
        return self._git("show", f"{ref}:{path}", missing_ok=True)
