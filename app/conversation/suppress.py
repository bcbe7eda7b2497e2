"""Decide which findings a review must not post: those a learning silences, and repeats of closed threads.

Pure: the review stage passes the repository's learnings and the PR's closed findings (dismissed,
resolved, voted down) in, and gets back what to keep and what was suppressed, with a reason the run
page lists ("suppressed by learning").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.conversation.learnings import Learning, first_match, signature_words
from app.conversation.store import FindingState, PostedFindingRecord
from app.review.findings import Finding
from app.review.redact import is_secret_finding

SUPPRESSED_BY_LEARNING = "suppressed by learning"
NOT_REPEATED = "not repeated: its earlier thread was closed"
CLOSED_STATES = frozenset({FindingState.DISMISSED, FindingState.RESOLVED})
_SAME_KIND = 0.6


@dataclass(frozen=True, slots=True)
class Suppressed:
    finding: Finding
    outcome: str  # starts with SUPPRESSED_BY_LEARNING or NOT_REPEATED
    learning_id: int | None = None


def _repeats(finding: Finding, closed: Sequence[PostedFindingRecord]) -> PostedFindingRecord | None:
    words = signature_words(finding.title)
    quote = " ".join(finding.quote.split())
    for record in closed:
        if record.path != finding.path or record.category != finding.category.value:
            continue
        if quote and quote == " ".join(record.quote.split()):
            return record
        theirs = signature_words(record.title)
        if words and theirs and len(words & theirs) / len(words | theirs) >= _SAME_KIND:
            return record
    return None


def suppress(
    findings: Sequence[Finding], learnings: Sequence[Learning], closed: Sequence[PostedFindingRecord]
) -> tuple[list[Finding], list[Suppressed]]:
    """Split findings into (kept, suppressed); our own secret warnings are always kept."""
    kept: list[Finding] = []
    dropped: list[Suppressed] = []
    closed = [r for r in closed if r.state in CLOSED_STATES]
    for finding in findings:
        if is_secret_finding(finding):
            kept.append(finding)
            continue
        learning = first_match(
            learnings, path=finding.path, category=finding.category.value, title=finding.title
        )
        if learning is not None:
            label = f"{SUPPRESSED_BY_LEARNING} #{learning.id} ({learning.source.value} by {learning.person})"
            dropped.append(Suppressed(finding, label, learning.id))
            continue
        earlier = _repeats(finding, closed)
        if earlier is not None:
            dropped.append(Suppressed(finding, f"{NOT_REPEATED} ({earlier.state.value})"))
            continue
        kept.append(finding)
    return kept, dropped


def suppressed_rows(items: Sequence[Suppressed]) -> list[dict[str, Any]]:
    """Run-page rows for suppressed findings (same shape as the other finding rows)."""
    return [
        {
            "path": s.finding.path,
            "line": s.finding.line,
            "category": s.finding.category.value,
            "severity": s.finding.severity.value,
            "confidence": s.finding.confidence,
            "title": s.finding.title,
            "body": s.finding.body,
            "outcome": s.outcome,
        }
        for s in items
    ]
