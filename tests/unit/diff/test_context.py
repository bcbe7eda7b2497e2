"""Enclosing-definition context: found by indentation, lines the chunk shows left out, within budget."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.diff.chunk import chunk_file
from app.diff.context import chunk_context, enclosing_range, render_context
from app.diff.parse import parse_file_patch

PY = """import os


class Store:
    def __init__(self, root):
        self.root = root

    def save(self, name, data):
        path = os.path.join(self.root, name)
        if data:
            with open(path, "w") as fh:
                fh.write(data)
        return path


def top():
    return 1
"""

C = """#include <stdio.h>

static int add(int a, int b)
{
    int c = a + b;
    return c;
}

int main(void) {
    printf("%d", add(1, 2));
    return 0;
}
"""


def test_a_python_method_is_found_from_a_line_deep_inside_it() -> None:
    lines = PY.split("\n")
    assert enclosing_range(lines, 12, 12) == (8, 13)  # fh.write(data) -> def save ... return path
    assert enclosing_range(lines, 17, 17) == (16, 17)  # def top
    assert enclosing_range(lines, 1, 1) is None  # top-level import: nothing encloses it


def test_c_functions_with_braces_on_either_line_are_found() -> None:
    lines = C.split("\n")
    assert enclosing_range(lines, 6, 6) == (3, 7)
    assert enclosing_range(lines, 10, 10) == (9, 12)


def _chunk(patch: str):  # type: ignore[no-untyped-def]
    [chunk] = chunk_file(parse_file_patch("store.py", patch, status="modified"), 12_000)
    return chunk


def test_chunk_context_leaves_out_the_lines_the_chunk_shows_and_is_rendered_read_only() -> None:
    patch = "\n".join(
        [
            "@@ -11,2 +11,2 @@",
            '             with open(path, "w") as fh:',
            "-                fh.write(data)",
            "+                fh.write(data)  # changed",
        ]
    )
    chunk = _chunk(patch + "\n")
    head = PY.replace("fh.write(data)\n", "fh.write(data)  # changed\n")
    block = chunk_context(chunk, head, 1_000)
    assert block is not None
    assert [n for n, _ in block.lines] == [8, 9, 10, 13]
    assert block.lines[0] == (8, "    def save(self, name, data):")
    text = render_context(block)
    assert text.startswith('<context path="store.py" version="head" use="read-only">')
    assert "8|     def save(self, name, data):" in text and text.endswith("</context>")


def test_chunk_context_respects_the_budget() -> None:
    chunk = _chunk(
        "@@ -12,1 +12,1 @@\n-                fh.write(data)\n+                fh.write(data)  # changed\n"
    )
    whole = chunk_context(chunk, PY, 1_000)
    small = chunk_context(chunk, PY, 25)
    assert whole is not None and small is not None
    assert 0 < len(small.lines) < len(whole.lines) and small.lines == whole.lines[: len(small.lines)]
    assert chunk_context(chunk, PY, 0) is None


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=" \t(){};=abcdefgh\n", max_size=3_000), st.integers(1, 200))
def test_any_text_gives_a_valid_range_or_none(text: str, first: int) -> None:
    lines = text.split("\n")
    found = enclosing_range(lines, first, first + 3)
    if found is not None:
        start, end = found
        assert 1 <= start <= end <= len(lines)


def test_long_hostile_lines_are_not_definitions() -> None:
    # Linear checks only: lines built to make a backtracking pattern explode are simply not definitions.
    hostile = ("a " * 50_000 + "(\n") * 30 + "    x = 1\n"
    assert enclosing_range(hostile.split("\n"), 31, 31) is None
