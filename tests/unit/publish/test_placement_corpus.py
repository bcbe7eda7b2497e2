"""Placement over real diffs (ours, and the corpus's when present): exact and mis-numbered citations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.diff.model import FileDiff, LineKind, Side
from app.diff.parse import DiffParseError, parse_unified_diff
from app.publish.placement import normalise, place_findings
from tests.factories import files_api_entries, unified_diff
from tests.unit.publish.helpers import finding, github_rejects

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"
INDEX = CORPUS / "diffs" / "INDEX.json"
MAX_CITED_PER_DIFF = 4_000  # keeps the biggest diffs fast; lines are sampled evenly


FACTORY = "factory: tests/factories.py file list"


def _cases() -> list[dict[str, Any]]:
    """The project's own diff always; every corpus diff when the corpus is present."""
    corpus = json.loads(INDEX.read_text("utf-8")) if INDEX.is_file() else []
    return [{"file": FACTORY}, *corpus]


def _files(name: str) -> dict[str, FileDiff]:
    try:
        data = (
            unified_diff(files_api_entries(seed=11, count=40))
            if name == FACTORY
            else (CORPUS / "diffs" / name).read_bytes()
        )
        parsed = parse_unified_diff(data)
    except DiffParseError:
        pytest.skip("not a diff we review")
    return {diff.path: diff for diff in parsed}


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["file"])
def test_every_changed_line_cited_exactly_or_off_by_three_is_placed_validly(case: dict[str, Any]) -> None:
    files = _files(case["file"])
    cited = [
        (diff.path, line)
        for diff in files.values()
        for hunk in diff.hunks
        for line in hunk.lines
        if line.kind is not LineKind.CONTEXT
    ]
    if not cited:
        pytest.skip("no changed lines")
    cited = cited[:: max(1, len(cited) // MAX_CITED_PER_DIFF)]
    exact = []
    shifted = []
    for path, line in cited:
        side, number = line.position()
        side_name = "new" if side is Side.RIGHT else "old"
        exact.append(finding(path, number, line.text, side=side_name))
        shifted.append(finding(path, number + 3, line.text, side=side_name, start_line=number - 2))
    exact_result = place_findings(files, exact)
    assert len(exact_result.inline) == len(exact)
    for placed, (_, line) in zip(exact_result.inline, cited, strict=True):
        assert (placed.side, placed.line, placed.reanchored) == (*line.position(), False)

    shifted_result = place_findings(files, shifted)
    assert not shifted_result.dropped and not shifted_result.pr_notes
    assert len(shifted_result.inline) + len(shifted_result.file_notes) == len(shifted)
    texts = {
        (path, *line.position()): line.text
        for path, diff in files.items()
        for hunk in diff.hunks
        for line in hunk.lines
    }
    cache: dict[str, list[set[tuple[Side, int]]]] = {}
    for placed in shifted_result.inline:
        assert github_rejects(files, placed, cache) is None
        if placed.reanchored:
            shown = texts[(placed.path, placed.side, placed.line)]
            assert normalise(shown) == normalise(placed.finding.quote)
    # Most mis-numbered citations of real code are recovered from their quote.
    assert len(shifted_result.inline) >= 0.8 * len(shifted)
