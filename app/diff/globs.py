"""Match repository paths against gitignore-style globs, compiled once to regular expressions.

Semantics (what users expect from .gitignore, CODEOWNERS and similar configs):
  * a pattern with no slash (other than a trailing one) matches at any depth: `*.md`, `vendor`;
  * a pattern with a slash is anchored at the repository root (a leading `/` is dropped): `src/*.py`;
  * `*` and `?` never cross a `/`; `[abc]`/`[!a-z]` are character classes; `\\` escapes;
  * `**/` matches zero or more directories, a trailing `/**` everything inside;
  * a pattern that names a directory also matches everything under it (`docs` and `docs/` match
    `docs/a/b.md`); a trailing `/` means the name must be a directory;
  * `{a,b}` alternation (as in minimatch configs) when the braces hold a comma; `{{x}}` stays literal;
  * in a `GlobSet`, a `!pattern` re-includes what earlier patterns matched (last match wins).
Paths are repository-relative with `/` separators and no leading `/`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["GlobSet", "glob_match", "glob_to_regex"]


def _translate_class(pattern: str, i: int) -> tuple[str, int] | None:
    """Translate the `[...]` class opening at `pattern[i]`; None when it never closes."""
    j = i + 1
    if j < len(pattern) and pattern[j] in "!^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    close = pattern.find("]", j)
    if close < 0:
        return None
    body = pattern[i + 1 : close]
    negate = body[:1] in ("!", "^")
    if negate:
        body = body[1:]
    body = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[").replace("]", "\\]")
    # A class never matches "/", like `*` and `?`.
    return (f"[^/{body}]" if negate else f"(?!/)[{body}]"), close + 1


def _translate_braces(pattern: str, i: int) -> tuple[str, int] | None:
    """Translate a `{a,b}` group opening at `pattern[i]`; None when it is not one (no comma, nested)."""
    close = pattern.find("}", i)
    if close < 0:
        return None
    inner = pattern[i + 1 : close]
    if "," not in inner or "{" in inner:
        return None
    options = "|".join(_translate_body(option) for option in inner.split(","))
    return f"(?:{options})", close + 1


def _translate_body(pattern: str) -> str:
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if pattern.startswith("**", i):
                at_start = i == 0 or pattern[i - 1] == "/"
                if at_start and pattern.startswith("**/", i):
                    out.append("(?:.*/)?")
                    i += 3
                    continue
                if at_start and i + 2 == n:
                    out.append(".*")
                    i += 2
                    continue
                i += 2  # `a**b` is just two stars: they do not cross "/"
                out.append("[^/]*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            translated = _translate_class(pattern, i)
            if translated is not None:
                out.append(translated[0])
                i = translated[1]
                continue
            out.append("\\[")
        elif ch == "{":
            group = _translate_braces(pattern, i)
            if group is not None:
                out.append(group[0])
                i = group[1]
                continue
            out.append("\\{")
        elif ch == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def glob_to_regex(pattern: str) -> str:
    """Return the regular expression source equivalent to a gitignore-style `pattern`."""
    dir_only = pattern.endswith("/")
    body = pattern.rstrip("/")
    anchored = "/" in body
    body = body.lstrip("/")
    if body.startswith("**/"):
        anchored = True  # `**/` already provides "any depth"
    prefix = "" if anchored else "(?:.*/)?"
    suffix = "/.*" if dir_only else "(?:/.*)?"
    return f"{prefix}{_translate_body(body)}{suffix}"


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(glob_to_regex(pattern), re.DOTALL)


def glob_match(pattern: str, path: str) -> bool:
    """Return whether repository path `path` matches the gitignore-style `pattern`."""
    if not pattern:
        return False
    return _compiled(pattern).fullmatch(path) is not None


class GlobSet:
    """A list of patterns tested together; `!pattern` re-includes, the last matching pattern wins."""

    __slots__ = ("_combined", "_ordered", "patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(p for p in (p.strip() for p in patterns) if p and not p.startswith("#"))
        self._combined: re.Pattern[str] | None = None
        self._ordered: tuple[tuple[bool, re.Pattern[str]], ...] = ()
        if any(p.startswith("!") for p in self.patterns):
            self._ordered = tuple(
                (p.startswith("!"), _compiled(p[1:] if p.startswith("!") else p)) for p in self.patterns
            )
        elif self.patterns:
            # One alternation is much faster than N separate matches for thousands of paths.
            joined = "|".join(f"(?:{glob_to_regex(p)})" for p in self.patterns)
            self._combined = re.compile(joined, re.DOTALL)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, path: str) -> bool:
        """Return whether `path` is matched by the set (after `!` re-includes)."""
        if self._combined is not None:
            return self._combined.fullmatch(path) is not None
        matched = False
        for negated, regex in self._ordered:
            if matched == negated and regex.fullmatch(path) is not None:
                matched = not negated
        return matched
