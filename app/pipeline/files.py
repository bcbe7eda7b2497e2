"""Fetch what a review looks at: the PR's current diff (for placement) and the part to review."""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.config.repo_config import RepoConfig
from app.diff.filters import FilterRules
from app.diff.interdiff import pr_interdiff
from app.diff.model import FileDiff, FileStatus
from app.diff.parse import DiffParseError, parse_file_patch
from app.diff.plan import PathKind, classify_path
from app.errors import GitHubPermanentError
from app.github.models import PullFile, PullRequestInfo, RepoRef
from app.pipeline.ports import GitHubPort
from app.storage.models import ReviewMode

MAX_REBUILT_FILES = 20
MAX_REBUILT_BYTES = 2_000_000
MAX_CONTEXT_FILES = 60  # head versions fetched for context, per run
MAX_CONTEXT_BYTES = 300_000  # bigger files give no context (the contents API caps at 1 MB anyway)
CONTEXT_FETCHES = 8  # contents calls in flight at once


@dataclass
class PullDiff:
    pr_files: dict[str, FileDiff]  # the PR's whole current diff: where comments may go
    review_files: list[FileDiff]  # what is sent for review (all of it, or what changed since last time)
    mode: ReviewMode = ReviewMode.FULL
    since: str = ""
    gitattributes: str = ""
    notices: list[str] = field(default_factory=list)

    def filter_rules(self, cfg: RepoConfig) -> FilterRules:
        return FilterRules.from_config(
            tuple(cfg.paths.include), tuple(cfg.paths.exclude), gitattributes=self.gitattributes
        )


def to_file_diff(entry: PullFile) -> FileDiff:
    try:
        return parse_file_patch(
            entry.filename,
            entry.patch,
            status=entry.status,
            old_path=entry.previous_filename,
            additions=entry.additions,
            deletions=entry.deletions,
        )
    except DiffParseError:
        # One unreadable patch must not sink the review: treat it like a patch GitHub omitted.
        return FileDiff(
            path=entry.filename,
            status=_status(entry.status),
            old_path=entry.previous_filename,
            patch_missing=True,
            additions=entry.additions,
            deletions=entry.deletions,
        )


def _status(value: str) -> FileStatus:
    try:
        return FileStatus(value)
    except ValueError:
        return FileStatus.MODIFIED


async def load_pull_diff(
    api: GitHubPort, repo: RepoRef, pr: PullRequestInfo, *, last_reviewed_head: str | None
) -> PullDiff:
    entries = await api.list_pull_files(repo, pr.number)
    # Parsing up to 3,000 patches is CPU work: in a thread, so the event loop stays responsive.
    pr_files = await asyncio.to_thread(lambda: {f.path: f for f in map(to_file_diff, entries)})
    diff = PullDiff(pr_files=pr_files, review_files=list(pr_files.values()))
    try:
        attributes = await api.get_file(repo, ".gitattributes", pr.base_sha)
    except GitHubPermanentError:
        attributes = None  # too large, or a symlink: review without its linguist-generated marks
    if attributes:
        diff.gitattributes = attributes.decode("utf-8", errors="replace")
    if last_reviewed_head and last_reviewed_head != pr.head_sha:
        await _narrow_to_interdiff(api, repo, pr, diff, last_reviewed_head)
    await _rebuild_missing(api, repo, pr, diff)
    return diff


async def _narrow_to_interdiff(
    api: GitHubPort, repo: RepoRef, pr: PullRequestInfo, diff: PullDiff, last_head: str
) -> None:
    """Review only what the PR's own diff gained since `last_head` (see app/diff/interdiff.py).

    The PR's diff at `last_head` is `base...last_head`: three dots diff from the merge base, so the
    base branch's own progress (merged in or rebased onto) is in neither diff and never reviewed.
    """
    before = await api.compare_diff(repo, pr.base_sha, last_head)
    short = last_head[:7]
    if before.status == "missing":
        diff.notices.append(
            f"The last reviewed commit {short} is no longer in the branch (force-push): full review."
        )
        return
    if before.status == "truncated":
        diff.notices.append(
            f"GitHub's comparison for the last reviewed commit {short} stops at 300 files, so what changed "
            "since cannot be told exactly: full review."
        )
        return
    old = {f.path: f for f in map(to_file_diff, before.files)}
    # Aligning two diffs is CPU work on attacker-sized input: keep it off the event loop.
    result = await asyncio.to_thread(pr_interdiff, old, list(diff.pr_files.values()))
    diff.review_files, diff.mode, diff.since = result.files, ReviewMode.INCREMENTAL, last_head
    if not result.files:
        diff.notices.append(
            f"The pull request's own changes are the same as at {short} (the base branch moved or the "
            "branch was rebased): nothing new to review."
        )


async def _rebuild_missing(api: GitHubPort, repo: RepoRef, pr: PullRequestInfo, diff: PullDiff) -> None:
    """GitHub omits the patch of very large files: rebuild it from both sides' contents when we can."""
    rebuilt: list[FileDiff] = []
    budget = MAX_REBUILT_FILES
    for index, file in enumerate(diff.review_files):
        if not file.patch_missing or file.is_binary or budget == 0:
            continue
        budget -= 1
        try:
            old = (
                b""
                if file.status is FileStatus.ADDED
                else await api.get_file(repo, file.old_path or file.path, pr.base_sha)
            )
            new = (
                b"" if file.status is FileStatus.REMOVED else await api.get_file(repo, file.path, pr.head_sha)
            )
        except GitHubPermanentError:
            continue  # e.g. over 1 MB: the contents API answers `encoding: none`; it stays patch_missing
        if old is None or new is None:
            continue  # a side we cannot read would turn the diff into "everything added/removed"
        if len(old) > MAX_REBUILT_BYTES or len(new) > MAX_REBUILT_BYTES or b"\0" in old[:8000] + new[:8000]:
            continue
        # unified_diff yields exactly two file-header lines first; filtering by a "---"/"+++" prefix
        # would also drop a removed "-- comment" or an added "++i" and leave the hunk short.
        patch = "\n".join(list(difflib.unified_diff(_lines(old), _lines(new), lineterm="", n=3))[2:])
        if not patch:
            continue
        try:
            fresh = parse_file_patch(
                file.path,
                patch,
                status=file.status.value,
                old_path=file.old_path,
                additions=file.additions,
                deletions=file.deletions,
            )
        except DiffParseError:
            continue  # never let one rebuilt file sink the review
        diff.review_files[index] = fresh
        rebuilt.append(fresh)
    if rebuilt:
        diff.notices.append(
            f"GitHub omitted the diff of {len(rebuilt)} large file(s); mini-review rebuilt it from the file "
            "contents. Findings there are listed in this summary, not inline."
        )


def _lines(data: bytes) -> list[str]:
    """Split file contents at "\\n" only, as git does (splitlines also splits at FF, VT, U+2028...)."""
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


async def load_head_texts(
    api: GitHubPort, repo: RepoRef, head_sha: str, files: Sequence[FileDiff]
) -> dict[str, str]:
    """Fetch the head version of reviewed files once each (bounded), for the model's context.

    A file that cannot be read (removed, binary, too big, API refusal) simply has no context; docs and
    config files get none (they have no functions to show, and the PR's own config is never read).
    """
    wanted = [
        f.path
        for f in files
        if f.status is not FileStatus.REMOVED
        and not f.is_binary
        and classify_path(f.path) is not PathKind.DOCS_CONFIG
    ]
    wanted = list(dict.fromkeys(wanted))[:MAX_CONTEXT_FILES]
    limit = asyncio.Semaphore(CONTEXT_FETCHES)

    async def one(path: str) -> tuple[str, str | None]:
        async with limit:
            try:
                data = await api.get_file(repo, path, head_sha)
            except GitHubPermanentError:
                return path, None
        if data is None or len(data) > MAX_CONTEXT_BYTES or b"\0" in data[:8000]:
            return path, None
        return path, data.decode("utf-8", errors="replace")

    found = await asyncio.gather(*(one(path) for path in wanted))
    return {path: text for path, text in found if text is not None}
