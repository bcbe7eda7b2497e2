"""Raise the signal of a review: merge duplicate findings and choose which ones go inline."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from app.review.findings import Finding, Severity

TITLE_OVERLAP: Final = 0.6  # share of the shorter title's words the two titles must have in common
_STOPWORD_TEXT: Final = (
    "a an the of in on to for is are be may might could can should this that it its with and or not "
    "possible potential possibly likely"
)
_STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())


def _words(title: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[a-z0-9]+", title.lower()) if w not in _STOPWORDS)


def _similar_titles(a: str, b: str) -> bool:
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return a.strip().lower() == b.strip().lower()
    return len(wa & wb) / min(len(wa), len(wb)) >= TITLE_OVERLAP


def _span(finding: Finding) -> tuple[int, int]:
    start = finding.start_line if finding.start_line is not None else finding.line
    return min(start, finding.line), max(start, finding.line)


def _norm_quote(quote: str) -> str:
    return " ".join(quote.split())


def _same_place(a: Finding, b: Finding) -> bool:
    if a.side == b.side:
        (a0, a1), (b0, b1) = _span(a), _span(b)
        if a0 <= b1 + 1 and b0 <= a1 + 1:  # overlapping or adjacent
            return True
    qa, qb = _norm_quote(a.quote), _norm_quote(b.quote)
    return bool(qa) and qa == qb


def is_duplicate(a: Finding, b: Finding) -> bool:
    """Tell whether two findings report the same problem at the same place."""
    return (
        a.path == b.path
        and a.category == b.category
        and _same_place(a, b)
        and _similar_titles(a.title, b.title)
    )


def _strength(finding: Finding) -> tuple[int, float]:
    return finding.severity.rank, finding.confidence


def merge_duplicates(findings: Sequence[Finding]) -> tuple[list[Finding], int]:
    """Keep the most severe, then most confident, finding of each duplicate group; count the rest.

    A group keeps the position of its first member, so the output order follows the input.
    """
    groups: list[list[Finding]] = []
    # Duplicates share path and category, so only groups of the same pair are compared: thousands of
    # findings on a huge PR stay cheap instead of every finding meeting every group.
    by_key: dict[tuple[str, str], list[list[Finding]]] = {}
    for finding in findings:
        candidates = by_key.setdefault((finding.path, finding.category.value), [])
        for group in candidates:
            if any(is_duplicate(finding, member) for member in group):
                group.append(finding)
                break
        else:
            groups.append([finding])
            candidates.append(groups[-1])
    kept = [max(group, key=_strength) for group in groups]
    return kept, len(findings) - len(kept)


def select_inline(
    findings: Sequence[Finding], *, min_severity: Severity, min_confidence: float, max_inline: int
) -> tuple[list[Finding], list[Finding]]:
    """Split findings into inline candidates (strongest first, at most `max_inline`) and the rest.

    Both lists are ordered by severity, then confidence, strongest first; the rest go to the summary.
    """
    ranked = sorted(findings, key=_strength, reverse=True)
    eligible = [f for f in ranked if f.severity.rank >= min_severity.rank and f.confidence >= min_confidence]
    inline = eligible[: max(max_inline, 0)]
    chosen = {id(f) for f in inline}
    rest = [f for f in ranked if id(f) not in chosen]
    return inline, rest
