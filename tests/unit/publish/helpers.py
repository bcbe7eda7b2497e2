"""Build diffs and findings compactly for the publish tests, and check comments as GitHub would."""

from __future__ import annotations

from typing import Any

from app.diff.model import DiffLine, FileDiff, FileStatus, Hunk, LineKind, Side
from app.publish.placement import PlacedComment
from app.review.findings import Category, Finding, Severity


def hunk(old_start: int, new_start: int, *lines: str) -> Hunk:
    """Build a hunk from lines written as in a patch: "+added", "-removed", " context"."""
    built: list[DiffLine] = []
    old_no, new_no = old_start, new_start
    for raw in lines:
        mark, text = raw[:1], raw[1:]
        if mark == "+":
            built.append(DiffLine(LineKind.ADDED, None, new_no, text))
            new_no += 1
        elif mark == "-":
            built.append(DiffLine(LineKind.REMOVED, old_no, None, text))
            old_no += 1
        else:
            assert mark == " ", raw
            built.append(DiffLine(LineKind.CONTEXT, old_no, new_no, text))
            old_no += 1
            new_no += 1
    return Hunk(old_start, old_no - old_start, new_start, new_no - new_start, "", built)


def file_diff(path: str, *hunks: Hunk, old_path: str | None = None, **extra: Any) -> FileDiff:
    status = FileStatus.RENAMED if old_path else FileStatus.MODIFIED
    adds = sum(1 for h in hunks for line in h.lines if line.kind is LineKind.ADDED)
    dels = sum(1 for h in hunks for line in h.lines if line.kind is LineKind.REMOVED)
    return FileDiff(path, status, list(hunks), old_path=old_path, additions=adds, deletions=dels, **extra)


def finding(path: str, line: int, quote: str = "", **extra: Any) -> Finding:
    values: dict[str, Any] = {
        "category": Category.RISK,
        "severity": Severity.MAJOR,
        "confidence": 0.9,
        "path": path,
        "line": line,
        "quote": quote,
        "title": "A problem",
        "body": "Explained.",
    }
    values.update(extra)
    return Finding(**values)


def shown_positions(diff: FileDiff) -> list[set[tuple[Side, int]]]:
    """Per hunk, the (side, line) anchors GitHub accepts, derived straight from the lines."""
    spots: list[set[tuple[Side, int]]] = []
    for h in diff.hunks:
        here: set[tuple[Side, int]] = set()
        for line in h.lines:
            if line.kind is not LineKind.ADDED:
                assert line.old_no is not None
                here.add((Side.LEFT, line.old_no))
            if line.kind is not LineKind.REMOVED:
                assert line.new_no is not None
                here.add((Side.RIGHT, line.new_no))
        spots.append(here)
    return spots


def github_rejects(
    files: dict[str, FileDiff],
    placed: PlacedComment,
    cache: dict[str, list[set[tuple[Side, int]]]] | None = None,
) -> str | None:
    """Return why GitHub would answer 422 to this comment, or None when it is acceptable."""
    diff = files.get(placed.path)
    if diff is None:
        return "path not in the pull request"
    if cache is None:
        hunks = shown_positions(diff)
    else:
        hunks = cache.get(placed.path) or cache.setdefault(placed.path, shown_positions(diff))
    end = [i for i, spots in enumerate(hunks) if (placed.side, placed.line) in spots]
    if not end:
        return "line not shown in any hunk"
    if placed.start_line is None:
        return None if placed.start_side is None else "start_side without start_line"
    if placed.start_side is None:
        return "start_line without start_side"
    if placed.start_line >= placed.line:
        return "start_line must precede line"
    if (placed.start_side, placed.start_line) not in hunks[end[0]]:
        return "start_line not in the same hunk"
    return None
