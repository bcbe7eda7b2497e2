"""Plan a review: which files are skipped (and why), which chunks go to the model, in what order.

Order: source before tests before docs/config, then files with more changed lines first, then by
path (so equal inputs give equal plans). Limits (`max_chunks`, `max_tokens`) are applied in that
order; a chunk that does not fit is not sent, but a later, smaller one still may be. A file left
partly or wholly unsent is listed as OVER_BUDGET with the lines not reviewed.

Invariant: lines_sent + lines_skipped == lines_total == sum of every file's changed lines.
It relies on FileDiff.additions/deletions matching its hunks, which the parser guarantees.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from app.diff.chunk import DEFAULT_MAX_LINE_CHARS, chunk_file
from app.diff.filters import FilterRules, SkipReason, skip_reason
from app.diff.model import Chunk, FileDiff

__all__ = ["PathKind", "ReviewPlan", "SkippedFile", "classify_path", "plan_review"]


class PathKind(IntEnum):
    """What a path holds, in review priority order (lower first)."""

    SOURCE = 0
    TEST = 1
    DOCS_CONFIG = 2


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: SkipReason
    changed_lines: int  # lines of this file not reviewed
    detail: str = ""


@dataclass
class ReviewPlan:
    chunks: list[Chunk]
    skipped: list[SkippedFile]
    lines_total: int
    lines_sent: int
    lines_skipped: int
    tokens_planned: int


_TEST_DIRS = frozenset({"test", "tests", "spec", "specs", "__tests__", "__mocks__", "testing", "e2e"})
_TEST_NAME = re.compile(
    r"test_[^/]*|[^/]*_test\.[^./]+|[^/]*\.(?:test|spec)\.[^./]+|[^/]*_spec\.[^./]+"
    r"|[^/]*Tests?\.[^./]+|conftest\.py"
)
_DOCS_DIRS = frozenset({"docs", "doc", "documentation", ".github"})
_DOCS_CONFIG_EXT = frozenset(
    {
        "md",
        "mdx",
        "rst",
        "txt",
        "adoc",
        "yml",
        "yaml",
        "toml",
        "ini",
        "cfg",
        "conf",
        "json",
        "jsonc",
        "xml",
        "properties",
        "editorconfig",
        "gitignore",
        "gitattributes",
    }
)
_DOCS_NAMES = frozenset(
    {"LICENSE", "LICENCE", "COPYING", "CHANGELOG", "CHANGES", "AUTHORS", "NOTICE", "CODEOWNERS"}
)


def classify_path(path: str) -> PathKind:
    """Classify a repository path as source, test, or docs/config, for review priority."""
    *dirs, name = path.split("/")
    if _TEST_NAME.fullmatch(name) or any(part in _TEST_DIRS for part in dirs):
        return PathKind.TEST
    if any(part in _DOCS_DIRS for part in dirs) or name in _DOCS_NAMES:
        return PathKind.DOCS_CONFIG
    _, dot, ext = name.rpartition(".")
    if dot and ext.lower() in _DOCS_CONFIG_EXT:
        return PathKind.DOCS_CONFIG
    return PathKind.SOURCE


def _not_reviewed(unsent: int, parts: int) -> str:
    return f"{unsent} of {parts} parts not reviewed" if parts > 1 else "not reviewed"


def plan_review(
    files: Sequence[FileDiff],
    rules: FilterRules,
    *,
    chunk_budget_tokens: int = 12000,
    max_chunks: int | None = None,
    max_tokens: int | None = None,
    overlap_lines: int = 3,
    max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
) -> ReviewPlan:
    """Skip, chunk, order and cap the files of one pull request (see the module notes)."""
    skipped: list[SkippedFile] = []
    candidates: list[tuple[tuple[int, int, str], FileDiff, list[Chunk]]] = []
    for file in files:
        reason = skip_reason(file, rules)
        if reason is not None:
            skipped.append(SkippedFile(file.path, reason, file.changed_lines()))
            continue
        chunks = chunk_file(file, chunk_budget_tokens, overlap_lines, max_line_chars=max_line_chars)
        candidates.append(((classify_path(file.path), -file.changed_lines(), file.path), file, chunks))
    candidates.sort(key=lambda candidate: candidate[0])

    sent: list[Chunk] = []
    tokens = 0
    for _, file, chunks in candidates:
        lines_sent = kept = 0
        for chunk in chunks:
            if max_chunks is not None and len(sent) >= max_chunks:
                break
            if max_tokens is not None and tokens + chunk.tokens > max_tokens:
                continue
            sent.append(chunk)
            tokens += chunk.tokens
            lines_sent += chunk.changed_lines
            kept += 1
        unsent = len(chunks) - kept
        if unsent:
            detail = _not_reviewed(unsent, len(chunks))
            skipped.append(
                SkippedFile(file.path, SkipReason.OVER_BUDGET, file.changed_lines() - lines_sent, detail)
            )

    lines_total = sum(file.changed_lines() for file in files)
    lines_sent_total = sum(chunk.changed_lines for chunk in sent)
    return ReviewPlan(
        chunks=sent,
        skipped=skipped,
        lines_total=lines_total,
        lines_sent=lines_sent_total,
        lines_skipped=sum(item.changed_lines for item in skipped),
        tokens_planned=tokens,
    )
