"""Fetch what a review looks at: the PR's current diff (for placement) and the part to review."""

from __future__ import annotations

import asyncio
import difflib
from dataclasses import dataclass, field

from app.config.repo_config import RepoConfig
from app.diff.filters import FilterRules
from app.diff.model import FileDiff, FileStatus
from app.diff.parse import DiffParseError, parse_file_patch
from app.errors import GitHubPermanentError
from app.github.models import PullFile, PullRequestInfo, RepoRef
from app.pipeline.ports import GitHubPort
from app.storage.models import ReviewMode

MAX_REBUILT_FILES = 20
MAX_REBUILT_BYTES = 2_000_000


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
        changed = await api.compare_files(repo, last_reviewed_head, pr.head_sha)
        if changed is None:
            diff.notices.append(
                f"The last reviewed commit {last_reviewed_head[:7]} is no longer in the branch (force-push): "
                "full review."
            )
        else:
            # Only files still in the PR count; a change reverted since last time has nothing to review.
            diff.review_files = [to_file_diff(e) for e in changed if e.filename in pr_files]
            diff.mode, diff.since = ReviewMode.INCREMENTAL, last_reviewed_head
    await _rebuild_missing(api, repo, pr, diff)
    return diff


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
