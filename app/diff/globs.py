"""Match repository paths against gitignore-style globs: pathspec's `GitIgnoreSpec` on its RE2 backend.

Semantics are git's own (.gitignore), as users expect from it and from CODEOWNERS-like configs:
  * a pattern with no slash (other than a trailing one) matches at any depth: `*.md`, `vendor`;
  * a pattern with a slash is anchored at the repository root (a leading `/` is dropped): `src/*.py`;
  * `*` and `?` never cross a `/`; `[abc]`/`[!a-z]` are classes (an unclosed `[` matches nothing,
    as in git); `\\` escapes; `**/` is zero or more directories, a trailing `/**` all inside;
  * a pattern naming a directory also matches everything under it (`docs`, `docs/`);
  * `!pattern` re-includes what earlier patterns matched (last match wins);
  * one addition: `{a,b}` alternation (minimatch-style configs use it) is expanded into plain
    patterns before pathspec sees them; `{{x}}` and `\\{` stay literal.
Paths are repository-relative with `/` separators and no leading `/`.

Why RE2: pathspec turns each pattern into a regular expression. On Python's `re` (its "simple"
backend) `*a*a*a*a*a*a*b` against a 60-letter name backtracks for seconds; file names and configs
come from strangers. RE2 runs automata in linear time, and is asked for by name, so a missing
binding fails at import instead of quietly falling back to backtracking.
Patterns pathspec or RE2 refuse (`!` alone, a trailing `\\`, `[z-a]`, POSIX classes) match nothing;
`glob_error()` says why, for config validation.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from functools import lru_cache

import re2
from pathspec import GitIgnoreSpec

__all__ = ["MAX_BRACE_EXPANSION", "GlobSet", "expand_braces", "glob_error", "glob_match"]

BACKEND = "re2"
MAX_BRACE_EXPANSION = 64  # `{a,b}{c,d}...` multiplies: a cap keeps one pattern from becoming thousands
_REFUSED = (ValueError, re.error, re2.error)


def expand_braces(pattern: str) -> list[str]:
    """Expand the first `{a,b}` group (a comma, no nested brace) and recurse; other braces are literal."""
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            close = pattern.find("}", i)
            if close < 0:
                break
            inner = pattern[i + 1 : close]
            if "," in inner and "{" not in inner:
                head, tail = pattern[:i], pattern[close + 1 :]
                out = [x for option in inner.split(",") for x in expand_braces(head + option + tail)]
                if len(out) > MAX_BRACE_EXPANSION:
                    raise ValueError(f"{{a,b}} groups expand to more than {MAX_BRACE_EXPANSION} patterns")
                return out
        i += 1
    return [pattern]


def _spec(patterns: Iterable[str]) -> GitIgnoreSpec:
    with warnings.catch_warnings():
        # pathspec also compiles each pattern with `re`, which warns about `[[`; RE2 does the matching.
        warnings.simplefilter("ignore", FutureWarning)
        return GitIgnoreSpec.from_lines(list(patterns), backend=BACKEND)


def _expanded(pattern: str) -> list[str]:
    negated = pattern.startswith("!")
    body = pattern[1:] if negated else pattern
    return [("!" + p if negated else p) for p in expand_braces(body)]


def glob_error(pattern: str) -> str | None:
    """Return why `pattern` cannot be used (it would match nothing), or None when it is fine."""
    try:
        _spec(_expanded(pattern))
    except _REFUSED as exc:
        return f"invalid glob {pattern!r}: {exc}"
    return None


class GlobSet:
    """A list of patterns tested together; `!pattern` re-includes, the last matching pattern wins."""

    __slots__ = ("_spec", "invalid", "patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(p for p in (p.strip() for p in patterns) if p and not p.startswith("#"))
        self.invalid = tuple(p for p in self.patterns if glob_error(p) is not None)
        usable = [x for p in self.patterns if p not in self.invalid for x in _expanded(p)]
        self._spec = _spec(usable)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, path: str) -> bool:
        """Return whether `path` is matched by the set (after `!` re-includes)."""
        return bool(self._spec.match_file(path))


@lru_cache(maxsize=4096)
def _single(pattern: str) -> GlobSet:
    return GlobSet([pattern])


def glob_match(pattern: str, path: str) -> bool:
    """Return whether repository path `path` matches the gitignore-style `pattern`."""
    return bool(pattern) and _single(pattern).matches(path)
