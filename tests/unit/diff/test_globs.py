"""gitignore-style glob matching (pathspec on RE2), plus `{a,b}` expansion."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.diff.globs import MAX_BRACE_EXPANSION, GlobSet, expand_braces, glob_error, glob_match


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/a/b.md", True),
        ("*.md", "docs/a/b.mdx", False),
        ("docs/**", "docs/a/b.md", True),
        ("docs/**", "docs/x", True),
        ("docs/**", "mydocs/x", False),
        ("docs/**", "src/docs/x", False),
        ("docs", "docs/a/b.md", True),
        ("docs", "src/docs/a.md", True),
        ("docs/", "docs/a.md", True),
        ("docs/", "docs", False),
        ("/docs", "docs/a.md", True),
        ("/docs", "src/docs/a.md", False),
        ("src/*.py", "src/a.py", True),
        ("src/*.py", "src/sub/a.py", False),
        ("src/**/gen_*.py", "src/gen_a.py", True),
        ("src/**/gen_*.py", "src/x/y/gen_a.py", True),
        ("src/**/gen_*.py", "src/x/y/agen_a.py", False),
        ("**/migrations/*.sql", "db/migrations/001.sql", True),
        ("**/migrations/*.sql", "migrations/001.sql", True),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file/.txt", False),
        ("file[0-9].txt", "dir/file7.txt", True),
        ("file[!0-9].txt", "file7.txt", False),
        ("file[!0-9].txt", "fileA.txt", True),
        ("[unclosed", "[unclosed", False),  # as git: an unclosed class matches nothing
        ("*.{js,ts}", "web/app.ts", True),
        ("*.{js,ts}", "web/app.tsx", False),
        ("{{cookiecutter.project_slug}}/**", "{{cookiecutter.project_slug}}/backend/app.py", True),
        ("\\*.txt", "*.txt", True),
        ("\\*.txt", "a.txt", False),
        ("*", "any/deep/path.py", True),
        ("**", "any/deep/path.py", True),
        ("", "x", False),
        ("Makefile", "sub/Makefile", True),
        ("a.py", "ba.py", False),
    ],
)
def test_glob_match(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


def test_globset_last_match_wins_with_negation() -> None:
    rules = GlobSet(["docs/**", "!docs/api/**", "# comment", ""])
    assert rules.matches("docs/guide.md")
    assert not rules.matches("docs/api/x.md")
    assert not rules.matches("src/a.py")
    assert rules.patterns == ("docs/**", "!docs/api/**")
    assert not GlobSet([])
    assert GlobSet(["*.py", "*.md"]).matches("a/b.md")


# Config values are stripped, so names here do not start or end with a space.
_SEGMENT = st.text(alphabet="abc.-_ ", min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..") and s == s.strip()
)


@given(st.lists(_SEGMENT, min_size=1, max_size=4))
def test_literal_basename_matches_at_any_depth(parts: list[str]) -> None:
    path = "/".join(parts)
    assert glob_match(re.sub(r"([*?\[{\\])", r"\\\1", parts[-1]), path)
    assert glob_match("**", path)
    assert glob_match("/".join(parts[:1]) + "/**", path) is (len(parts) > 1)


@given(st.lists(st.text(max_size=20), max_size=5), st.text(max_size=30))
def test_any_patterns_build_a_set_and_match_without_error(patterns: list[str], path: str) -> None:
    globs = GlobSet(patterns)
    assert isinstance(globs.matches(path or "x"), bool)
    assert set(globs.invalid) <= set(globs.patterns)


def test_pathological_pattern_matches_on_re2_by_construction() -> None:
    # On Python's `re` this pattern backtracks for seconds against 60 letters; the set must run on
    # RE2 (automata, linear time). No clock here: the backend is checked, then the match completes.
    globs = GlobSet(["*a*a*a*a*a*a*b"])
    assert "backend='re2'" in repr(globs._spec)
    assert not globs.matches("a" * 60)
    assert globs.matches("a" * 60 + "b")
    assert not GlobSet(["**/" + "*a" * 30 + "*b"]).matches("x/" + "a" * 4000)


def test_patterns_pathspec_refuses_match_nothing_and_are_named() -> None:
    globs = GlobSet(["!", "[z-a]", "[[:alpha:]]", "src\\", "*.md"])
    assert globs.invalid == ("!", "[z-a]", "[[:alpha:]]", "src\\")
    assert globs.matches("docs/a.md") and not globs.matches("[z-a]")
    assert glob_error("*.md") is None
    assert "invalid glob '[z-a]'" in (glob_error("[z-a]") or "")


def test_brace_groups_expand_and_other_braces_stay_literal() -> None:
    assert expand_braces("src/*.{js,ts}") == ["src/*.js", "src/*.ts"]
    assert expand_braces("{a,b}/{c,d}") == ["a/c", "a/d", "b/c", "b/d"]
    assert expand_braces("{{x}}/y") == ["{{x}}/y"]
    assert expand_braces("\\{a,b}") == ["\\{a,b}"]
    assert GlobSet(["!docs/{api,gen}/**", "docs/**"]).matches("docs/api/x")
    assert not GlobSet(["docs/**", "!docs/{api,gen}/**"]).matches("docs/gen/x")
    huge = "{a,b}" * 7  # 128 patterns
    assert len(expand_braces("{a,b}" * 6)) == MAX_BRACE_EXPANSION
    assert glob_error(huge) is not None
