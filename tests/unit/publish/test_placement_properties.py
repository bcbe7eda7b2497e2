"""Property tests: whatever the model cites, placement never yields a comment GitHub would reject."""

from __future__ import annotations

from collections import Counter

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.diff.model import DiffLine, FileDiff, FileStatus, Hunk, LineKind, Side
from app.publish.placement import normalise, place_findings
from app.review.findings import Finding
from tests.unit.publish.helpers import finding, github_rejects

# Few distinct texts so duplicates (and ambiguity) are common; some are "short" quotes.
TEXTS = ["x = 1", "return x", "}", "", "pass", "foo(bar)", "    x = 1", "log.info('done')"]


@st.composite
def file_diffs(draw: st.DrawFn, path: str) -> FileDiff:
    old = new = draw(st.integers(1, 30))
    hunks: list[Hunk] = []
    for _ in range(draw(st.integers(1, 4))):
        kinds = draw(st.lists(st.sampled_from(list(LineKind)), min_size=1, max_size=12))
        lines: list[DiffLine] = []
        old_no, new_no = old, new
        for kind in kinds:
            text = draw(st.sampled_from(TEXTS) | st.text(min_size=0, max_size=12))
            if kind is LineKind.ADDED:
                lines.append(DiffLine(kind, None, new_no, text))
                new_no += 1
            elif kind is LineKind.REMOVED:
                lines.append(DiffLine(kind, old_no, None, text))
                old_no += 1
            else:
                lines.append(DiffLine(kind, old_no, new_no, text))
                old_no += 1
                new_no += 1
        hunks.append(Hunk(old, old_no - old, new, new_no - new, "", lines))
        gap = draw(st.integers(1, 25))  # unchanged lines between hunks move both sides alike
        old, new = old_no + gap, new_no + gap
    old_path = draw(st.none() | st.just(f"old/{path}"))
    status = FileStatus.RENAMED if old_path else FileStatus.MODIFIED
    return FileDiff(path, status, hunks, old_path=old_path)


def _all_lines(diff: FileDiff) -> list[DiffLine]:
    return [line for h in diff.hunks for line in h.lines]


def _number(line: DiffLine, side: str) -> int | None:
    return line.new_no if side == "new" else line.old_no


@st.composite
def findings_for(draw: st.DrawFn, files: dict[str, FileDiff]) -> Finding:
    path = draw(st.sampled_from([*files, "", "unknown/file.py", *(f"./{p}" for p in files)]))
    diff = files.get(path.removeprefix("./"))
    side = draw(st.sampled_from(["new", "old"]))
    quote = draw(st.sampled_from(TEXTS) | st.text(max_size=10))
    line = draw(st.integers(0, 200))
    if diff is not None and draw(st.booleans()):
        target = draw(st.sampled_from(_all_lines(diff)))
        side = draw(st.sampled_from(["new", "old"]))
        number = _number(target, side) or target.new_no or target.old_no or 0
        offset = draw(st.sampled_from([0, 0, 1, -1, 2, -3, 7, 15, -40]))
        line = max(0, number + offset)
        quote = draw(st.sampled_from([target.text, f"  {target.text} ", quote]))
    start_line = draw(st.none() | st.integers(-5, 250) | st.just(line - draw(st.integers(1, 30))))
    suggestion = draw(st.none() | st.just("fixed()"))
    return finding(path, line, quote, side=side, start_line=start_line, suggestion=suggestion)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, FileDiff], list[Finding]]:
    paths = draw(
        st.lists(st.sampled_from(["a.py", "pkg/b.py", "c d.txt"]), min_size=1, max_size=3, unique=True)
    )
    files = {path: draw(file_diffs(path)) for path in paths}
    found = draw(st.lists(findings_for(files), max_size=12))
    return files, found


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_every_finding_lands_once_and_every_comment_is_valid(
    scenario: tuple[dict[str, FileDiff], list[Finding]],
) -> None:
    files, found = scenario
    result = place_findings(files, found)
    placed_ids = [id(p.finding) for p in result.inline]
    placed_ids += [id(n.finding) for n in result.file_notes]
    placed_ids += [id(n.finding) for n in result.pr_notes]
    placed_ids += [id(f) for f, _ in result.dropped]
    assert Counter(placed_ids) == Counter(id(f) for f in found)
    for placed in result.inline:
        assert github_rejects(files, placed) is None, placed
        if placed.suggestion_applicable:
            assert placed.side is Side.RIGHT and placed.finding.suggestion is not None
        if placed.reanchored:
            shown = {line.position(): line.text for line in _all_lines(files[placed.path])}
            assert normalise(shown[(placed.side, placed.line)]) == normalise(placed.finding.quote)
    for note in result.pr_notes:
        assert not note.finding.path.strip()
    for dropped, _ in result.dropped:
        assert dropped.path == "unknown/file.py"


@st.composite
def unique_citations(draw: st.DrawFn) -> tuple[FileDiff, DiffLine, Finding]:
    """A changed line whose text occurs nowhere else in the file, cited with a wrong number."""
    diff = draw(file_diffs("u.py"))
    changed = [
        (h, i) for h in diff.hunks for i, line in enumerate(h.lines) if line.kind is not LineKind.CONTEXT
    ]
    assume(changed)
    hunk, index = draw(st.sampled_from(changed))
    old = hunk.lines[index]
    # Generated texts are at most 12 characters, so this one cannot occur elsewhere.
    target = DiffLine(old.kind, old.old_no, old.new_no, "unique_marker_call()")
    hunk.lines[index] = target
    own = target.new_no if target.kind is LineKind.ADDED else target.old_no
    assert own is not None
    cited = max(0, own + draw(st.integers(-60, 60)))
    side = draw(st.sampled_from(["new", "old"]))
    return diff, target, finding("u.py", cited, "  unique_marker_call() ", side=side)


@settings(max_examples=300, deadline=None)
@given(unique_citations())
def test_a_unique_quote_is_always_found_whatever_the_number(case: tuple[FileDiff, DiffLine, Finding]) -> None:
    diff, target, cited = case
    result = place_findings({"u.py": diff}, [cited])
    assert len(result.inline) == 1, result
    placed = result.inline[0]
    assert (placed.side, placed.line) == target.position()
    assert github_rejects({"u.py": diff}, placed) is None
