"""Read-only context for a chunk: the function or class around each hunk, from the head version.

A hunk shows three lines either side of a change; "missing test" and "risk" findings need to know
the function the change sits in. For each hunk the enclosing definition is found by indentation
in the head version of the file (walk up to the nearest less-indented line that opens a
definition, then down to where its block ends), which fits Python, and the brace languages as they
are usually indented, without a parser per language. Lines the chunk already shows are left out;
what remains is cut to a token budget. Context lines are rendered apart from the diff (see
`render_context`) and are never a place for a comment.

Patterns are line-anchored keyword checks with no nested quantifiers: linear on any input.
Hand-written: tree-sitter grammars for every language would be a heavy dependency for a hint.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.diff.model import Chunk
from app.diff.tokens import estimate_tokens

__all__ = ["ContextBlock", "chunk_context", "enclosing_range", "render_context"]

MAX_SCAN_UP = 400  # lines walked up looking for the definition
MAX_BLOCK_LINES = 300  # lines a definition may span before it is cut
MAX_LINE_CHARS = 300

_DEFINITION = re.compile(
    r"(?:export\s+|public\s+|private\s+|protected\s+|internal\s+|static\s+|abstract\s+|final\s+"
    r"|async\s+|pub(?:\([a-z]+\))?\s+|override\s+|virtual\s+|inline\s+)*"
    r"(?:def|class|function|func|fn|impl|trait|struct|enum|interface|module|object|record|sub)\b"
)
_CONTROL = re.compile(r"(?:if|for|while|switch|catch|return|else|do|try|with|elif|except|case|new)\b")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:<>~,[]")


@dataclass(frozen=True)
class ContextBlock:
    """Head-version lines of one file, with their numbers, shown to the model as read-only context."""

    path: str
    lines: tuple[tuple[int, str], ...]

    @property
    def numbers(self) -> frozenset[int]:
        return frozenset(number for number, _ in self.lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _looks_like_c_function(text: str) -> bool:
    """Tell "int main(void) {" / "void Foo::bar() const" apart from calls and statements (no regex)."""
    if len(text) > 200 or "(" not in text or not text.endswith(("{", ")", "const")) or _CONTROL.match(text):
        return False
    head = text[: text.index("(")].replace("*", " ").replace("&", " ")
    parts = head.split()
    return len(parts) >= 2 and "=" not in head and all(set(part) <= _NAME_CHARS for part in parts)


def _opens_definition(stripped: str) -> bool:
    return _DEFINITION.match(stripped) is not None or _looks_like_c_function(stripped)


def enclosing_range(lines: Sequence[str], first: int, last: int) -> tuple[int, int] | None:
    """Return the 1-based line range of the definition enclosing lines `first`..`last`, if any."""
    if not lines or first < 1:
        return None
    anchor = min(first, len(lines))
    below = [_indent(lines[i]) for i in range(anchor - 1, min(last, len(lines))) if lines[i].strip()]
    threshold = min(below) if below else _indent(lines[anchor - 1])
    start = None
    for index in range(anchor - 2, max(anchor - 2 - MAX_SCAN_UP, -1), -1):
        text = lines[index]
        if not text.strip() or _indent(text) >= threshold or text.strip() == "{":
            continue  # a lone "{" belongs to the definition line above it
        if _opens_definition(text.strip()):
            start = index
            break
        threshold = _indent(text)
        if threshold == 0:
            return None  # a top-level statement, not a definition: nothing encloses the hunk
    if start is None:
        return None
    own = _indent(lines[start])
    end = start
    for index in range(start + 1, min(start + MAX_BLOCK_LINES, len(lines))):
        text = lines[index]
        if not text.strip() or (index == start + 1 and text.strip() == "{"):
            end = index if text.strip() else end
            continue
        if _indent(text) <= own:
            if text.strip()[:1] in "}])":
                end = index  # the closing brace belongs to the block
            break
        end = index
    return start + 1, end + 1


def chunk_context(chunk: Chunk, head_text: str, budget_tokens: int) -> ContextBlock | None:
    """Return the enclosing definitions of `chunk`'s hunks, minus the lines it shows, within budget."""
    if budget_tokens <= 0 or not chunk.hunks:
        return None
    lines = head_text.split("\n")
    shown = {line.new_no for hunk in chunk.hunks for line in hunk.lines if line.new_no is not None}
    wanted: dict[int, str] = {}
    for hunk in chunk.hunks:
        numbers = [line.new_no for line in hunk.lines if line.new_no is not None]
        if not numbers:
            continue
        found = enclosing_range(lines, min(numbers), max(numbers))
        if found is None:
            continue
        for number in range(found[0], found[1] + 1):
            if number not in shown and number <= len(lines):
                wanted[number] = lines[number - 1][:MAX_LINE_CHARS]
    kept: list[tuple[int, str]] = []
    used = 0
    for number in sorted(wanted):
        cost = estimate_tokens(f"{number}| {wanted[number]}") + 1
        if used + cost > budget_tokens:
            break
        kept.append((number, wanted[number]))
        used += cost
    return ContextBlock(chunk.path, tuple(kept)) if kept else None


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def render_context(block: ContextBlock) -> str:
    """Return the model-facing `<context>` element: numbered head lines, marked read-only."""
    body = [f"{number}| {text}" for number, text in block.lines]
    head = f'<context path="{_attr(block.path)}" version="head" use="read-only">'
    return "\n".join([head, *body, "</context>"])
