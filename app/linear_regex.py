"""Regular expressions that run in time linear in the text, for patterns or text a stranger chose.

Python's `re` backtracks: `(a|a)+$` against a few dozen characters runs for minutes. RE2 (the
`google-re2` bindings) compiles to automata instead, so a match costs O(pattern x text) whatever the
input; the price is no backreferences and no lookaround, which callers must express otherwise.
This module is the one typed door to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import re2


class LinearRegexError(ValueError):
    """A pattern RE2 cannot compile (bad syntax, backreference, lookaround, too big)."""


@dataclass(frozen=True, slots=True)
class LinearMatch:
    """One match: its text and the spans of its groups, by name or number."""

    _match: Any
    _names: dict[str, int]

    def _index(self, group: str | int) -> int:
        return self._names[group] if isinstance(group, str) else group

    def group(self, group: str | int = 0) -> str | None:
        """Return the text of `group`, or None when it did not take part in the match."""
        value = self._match.group(self._index(group))
        return None if value is None else str(value)

    def span(self, group: str | int = 0) -> tuple[int, int]:
        """Return [start, end) of `group` in the searched text ((-1, -1) when it did not match)."""
        start, end = self._match.span(self._index(group))
        return int(start), int(end)

    def start(self, group: str | int = 0) -> int:
        return self.span(group)[0]

    def end(self, group: str | int = 0) -> int:
        return self.span(group)[1]


@dataclass(frozen=True, slots=True)
class LinearPattern:
    """A compiled RE2 pattern."""

    pattern: str
    _regexp: Any
    _names: dict[str, int]

    def search(self, text: str) -> LinearMatch | None:
        """Return the leftmost match in `text`, or None."""
        found = self._regexp.search(text)
        return None if found is None else LinearMatch(found, self._names)

    def fullmatch(self, text: str) -> LinearMatch | None:
        """Return the match covering all of `text`, or None."""
        found = self._regexp.fullmatch(text)
        return None if found is None else LinearMatch(found, self._names)

    def finditer(self, text: str) -> Iterator[LinearMatch]:
        """Yield non-overlapping matches left to right (the text is encoded once, not per match)."""
        for found in self._regexp.finditer(text):
            yield LinearMatch(found, self._names)

    def subn(self, repl: str | Callable[[LinearMatch], str], text: str) -> tuple[str, int]:
        """Replace every match with `repl` (a literal, or a function of the match); count them."""
        pieces: list[str] = []
        end = 0
        count = 0
        for match in self.finditer(text):
            start, stop = match.span()
            pieces.append(text[end:start])
            pieces.append(repl if isinstance(repl, str) else repl(match))
            end = stop
            count += 1
        pieces.append(text[end:])
        return "".join(pieces), count

    def sub(self, repl: str | Callable[[LinearMatch], str], text: str) -> str:
        """Return `text` with every match replaced (see subn)."""
        return self.subn(repl, text)[0]


def compile_linear(pattern: str, *, ignore_case: bool = False, dot_all: bool = False) -> LinearPattern:
    """Compile `pattern` with RE2; raise LinearRegexError with RE2's reason when it cannot."""
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.dot_nl = dot_all
    options.log_errors = False  # RE2 would print to stderr; the error is raised instead
    try:
        regexp = re2.compile(pattern, options)
    except re2.error as exc:
        raise LinearRegexError(_reason(exc)) from None
    names = {str(name): int(index) for name, index in regexp.groupindex.items()}
    return LinearPattern(pattern, regexp, names)


def _reason(exc: Exception) -> str:
    """Return RE2's message as text, with a hint for the Python features RE2 leaves out."""
    raw = exc.args[0] if exc.args else ""
    reason = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if "perl operator" in reason or "escape sequence: \\" in reason:
        reason += " (lookaround and backreferences are not supported; use \\z for the end of text)"
    return reason or "not supported by the linear-time matcher"
