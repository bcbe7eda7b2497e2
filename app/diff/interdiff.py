"""The interdiff of two PR diffs: the changed lines the PR shows now that it did not show before.

An incremental review must look at what the PR's *own* diff gained since the last reviewed head,
whatever happened to the base branch meanwhile ("Update branch" merges, rebases). Comparing the two
heads directly would bring in everything the base gained; comparing the two PR diffs does not.

Lines are matched by content, not number: a base change above a PR hunk shifts its numbers without
making it new. Each file's changed lines (mark + text, in order) from the old diff are aligned with
the new diff's by `difflib.SequenceMatcher` (a longest-matching-block alignment with no regular
expressions, so attacker-chosen text cannot make it backtrack); a new changed line that is not part
of a matching block is fresh. The result keeps the real line numbers of the current diff, so every
finding on it is placed against the PR's current diff as usual.

Hand-written because no maintained library computes an interdiff of two parsed unified diffs
(`interdiff` of patchutils works on patch files and is not a Python library).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.diff.model import DiffLine, FileDiff, Hunk, LineKind

__all__ = ["InterdiffResult", "file_interdiff", "pr_interdiff"]

DEFAULT_CONTEXT_LINES = 3


@dataclass(frozen=True)
class InterdiffResult:
    files: list[FileDiff]  # only the fresh part of each file that has one
    unchanged: list[str]  # paths still in the PR whose own diff did not change


def _changed(file: FileDiff) -> list[tuple[str, str]]:
    return [(line.kind.value, line.text) for hunk in file.hunks for line in hunk.lines if _is_change(line)]


def _is_change(line: DiffLine) -> bool:
    return line.kind is not LineKind.CONTEXT


def _fresh_flags(old: FileDiff, new: FileDiff) -> list[bool]:
    """Return, per changed line of `new` (in order), whether `old` lacked it."""
    before, after = _changed(old), _changed(new)
    fresh = [True] * len(after)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for block in matcher.get_matching_blocks():
        for index in range(block.b, block.b + block.size):
            fresh[index] = False
    return fresh


def _cursors(hunk: Hunk) -> list[tuple[int, int]]:
    """Return the (old, new) numbers at which each line of `hunk` starts."""
    at: list[tuple[int, int]] = []
    old_cur = hunk.old_start if hunk.old_len else hunk.old_start + 1
    new_cur = hunk.new_start if hunk.new_len else hunk.new_start + 1
    for line in hunk.lines:
        at.append((old_cur, new_cur))
        if line.old_no is not None:
            old_cur = line.old_no + 1
        if line.new_no is not None:
            new_cur = line.new_no + 1
    return at


def _window(hunk: Hunk, start: int, end: int, at: list[tuple[int, int]]) -> Hunk:
    lines = hunk.lines[start:end]
    old_len = sum(1 for line in lines if line.old_no is not None)
    new_len = sum(1 for line in lines if line.new_no is not None)
    old_cur, new_cur = at[start]
    # Unified-diff convention: an empty range names the line before it.
    return Hunk(
        old_cur if old_len else old_cur - 1,
        old_len,
        new_cur if new_len else new_cur - 1,
        new_len,
        hunk.section,
        lines,
    )


def _keep_mask(hunk: Hunk, fresh: list[bool], context: int) -> list[bool]:
    """Fresh changed lines, plus up to `context` context lines around them (never old changes)."""
    keep = list(fresh)
    for index, is_fresh in enumerate(fresh):
        if not is_fresh:
            continue
        for step in (-1, 1):
            pos = index + step
            taken = 0
            while 0 <= pos < len(hunk.lines) and taken < context:
                if _is_change(hunk.lines[pos]):
                    break
                keep[pos] = True
                taken += 1
                pos += step
    return keep


def _fresh_hunks(hunk: Hunk, fresh: list[bool], context: int) -> list[Hunk]:
    keep = _keep_mask(hunk, fresh, context)
    at = _cursors(hunk)
    out: list[Hunk] = []
    index = 0
    while index < len(hunk.lines):
        if not keep[index]:
            index += 1
            continue
        end = index
        while end < len(hunk.lines) and keep[end]:
            end += 1
        out.append(_window(hunk, index, end, at))
        index = end
    return out


def file_interdiff(
    old: FileDiff | None, new: FileDiff, *, context: int = DEFAULT_CONTEXT_LINES
) -> FileDiff | None:
    """Return the part of `new` that `old` did not show, or None when there is none.

    `old` is None when the file was not in the PR's diff before: all of it is fresh. When either side
    has no readable patch the file is returned whole (nothing can prove it unchanged).
    """
    if old is None or old.patch_missing or new.patch_missing or old.is_binary or new.is_binary:
        if old is not None and old.is_binary and new.is_binary and old.changed_lines() == new.changed_lines():
            return None
        return new
    flags = iter(_fresh_flags(old, new))
    hunks: list[Hunk] = []
    additions = deletions = 0
    for hunk in new.hunks:
        fresh = [next(flags) if _is_change(line) else False for line in hunk.lines]
        additions += sum(
            1 for f, line in zip(fresh, hunk.lines, strict=True) if f and line.kind is LineKind.ADDED
        )
        deletions += sum(
            1 for f, line in zip(fresh, hunk.lines, strict=True) if f and line.kind is LineKind.REMOVED
        )
        hunks.extend(_fresh_hunks(hunk, fresh, context))
    if not additions and not deletions:
        return None
    return FileDiff(
        path=new.path,
        status=new.status,
        hunks=hunks,
        old_path=new.old_path,
        additions=additions,
        deletions=deletions,
    )


def pr_interdiff(
    before: Mapping[str, FileDiff], now: Iterable[FileDiff], *, context: int = DEFAULT_CONTEXT_LINES
) -> InterdiffResult:
    """Return the fresh part of each file of the PR's diff `now`, given its diff `before`."""
    files: list[FileDiff] = []
    unchanged: list[str] = []
    for file in now:
        old = before.get(file.path)
        if old is None and file.old_path is not None:
            old = before.get(file.old_path)
        fresh = file_interdiff(old, file, context=context)
        if fresh is None:
            unchanged.append(file.path)
        else:
            files.append(fresh)
    return InterdiffResult(files=files, unchanged=unchanged)
