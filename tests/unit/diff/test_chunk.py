"""Chunking under a token budget: nothing lost, nothing double-counted, budgets respected."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.diff.chunk import chunk_file, truncate_text
from app.diff.model import Chunk, FileDiff, LineKind
from app.diff.parse import parse_file_patch
from app.diff.render import render_chunk
from app.diff.tokens import estimate_tokens


def _changed(lines_of: list[FileDiff] | list[Chunk]) -> set[tuple[LineKind, int | None, int | None]]:
    return {
        (line.kind, line.old_no, line.new_no)
        for item in lines_of
        for hunk in item.hunks
        for line in hunk.lines
        if line.kind is not LineKind.CONTEXT
    }


_TEXT = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=60),
    st.text(alphabet="ab =()", min_size=200, max_size=3000),
)
_BLOCK = st.lists(st.tuples(st.sampled_from(" +-"), _TEXT), min_size=1, max_size=40)


@st.composite
def file_diffs(draw: st.DrawFn) -> FileDiff:
    """Build a consistent files-API patch (several hunks, increasing numbers) and parse it."""
    hunks = draw(st.lists(_BLOCK, min_size=1, max_size=6))
    old_no = new_no = 1
    parts: list[str] = []
    for body in hunks:
        gap = draw(st.integers(0, 50))
        old_no += gap
        new_no += gap
        old_len = sum(1 for mark, _ in body if mark != "+")
        new_len = sum(1 for mark, _ in body if mark != "-")
        parts.append(f"@@ -{old_no},{old_len} +{new_no},{new_len} @@ section")
        parts.extend(f"{mark}{text}" for mark, text in body)
        old_no += old_len
        new_no += new_len
    return parse_file_patch("src/app.py", "\n".join(parts), status="modified")


def _check(file: FileDiff, budget: int, overlap: int) -> list[Chunk]:
    chunks = chunk_file(file, budget, overlap)
    assert _changed(chunks) == _changed([file])
    assert sum(chunk.changed_lines for chunk in chunks) == file.changed_lines()
    assert [(c.part, c.parts) for c in chunks] == [(i, len(chunks)) for i in range(1, len(chunks) + 1)]
    file_lines = {(ln.kind, ln.old_no, ln.new_no): ln.text for h in file.hunks for ln in h.lines}
    for chunk in chunks:
        assert chunk.tokens == estimate_tokens(render_chunk(chunk))
        assert chunk.tokens <= budget
        for hunk in chunk.hunks:
            assert hunk.old_len == sum(1 for ln in hunk.lines if ln.old_no is not None)
            assert hunk.new_len == sum(1 for ln in hunk.lines if ln.new_no is not None)
            for ln in hunk.lines:
                original = file_lines[(ln.kind, ln.old_no, ln.new_no)]
                assert ln.text == original or ln.text.startswith(original[: len(ln.text.split("…[")[0])])
    return chunks


@settings(max_examples=150, deadline=None)
@given(file_diffs(), st.integers(150, 4000), st.integers(0, 5))
def test_chunks_cover_changed_lines_once_within_budget(file: FileDiff, budget: int, overlap: int) -> None:
    chunks = _check(file, budget, overlap)
    whole = Chunk(path=file.path, status=file.status, hunks=file.hunks)
    if estimate_tokens(render_chunk(whole)) <= budget and all(
        len(ln.text) <= 2000 for h in file.hunks for ln in h.lines
    ):
        assert len(chunks) == 1 and chunks[0].hunks == file.hunks


def _big_hunk_file(n: int) -> FileDiff:
    body = "\n".join(f"+line number {i} = compute(value_{i}, other_{i})" for i in range(n))
    return parse_file_patch("big.py", f"@@ -0,0 +1,{n} @@\n{body}", status="added")


def test_single_giant_hunk_is_cut_with_overlap() -> None:
    file = _big_hunk_file(400)
    chunks = _check(file, 1000, 3)
    assert len(chunks) > 3
    firsts = [c.hunks[0].lines[0].new_no for c in chunks]
    owned_starts = [1]
    for chunk in chunks[:-1]:
        owned_starts.append(owned_starts[-1] + chunk.changed_lines)
    # every piece after the first starts three lines before the first line it owns
    assert firsts[1:] == [start - 3 for start in owned_starts[1:]]
    assert chunks[1].hunks[0].header.startswith(f"@@ -0,0 +{firsts[1]},")


def test_consecutive_hunks_are_packed() -> None:
    patch = "\n".join(f"@@ -{i * 100},1 +{i * 100},2 @@\n ctx\n+added {i}" for i in range(1, 41))
    file = parse_file_patch("m.py", patch, status="modified")
    chunks = _check(file, 300, 3)
    assert 1 < len(chunks) < 40
    assert all(len(c.hunks) > 1 for c in chunks[:-1])


def test_giant_line_is_truncated_with_marker() -> None:
    file = parse_file_patch("min.js", "@@ -0,0 +1,2 @@\n+" + "x=1;" * 50_000 + "\n+ok", status="added")
    chunks = _check(file, 1200, 3)
    text = "\n".join(render_chunk(c) for c in chunks)
    assert "…[truncated " in text
    assert sum(c.tokens for c in chunks) <= 2 * 1200


def test_line_over_tiny_budget_is_cut_to_fit() -> None:
    file = parse_file_patch("a.txt", "@@ -0,0 +1 @@\n+" + "word " * 300, status="added")
    (chunk,) = _check(file, 120, 3)
    assert "…[truncated " in chunk.hunks[0].lines[0].text


def test_file_without_hunks_has_no_chunks() -> None:
    assert chunk_file(parse_file_patch("x.png", None, status="added"), 1000) == []


def test_truncate_text() -> None:
    assert truncate_text("abcdef", 10) == "abcdef"
    assert truncate_text("abcdef", 2) == "ab…[truncated 4 chars]"
