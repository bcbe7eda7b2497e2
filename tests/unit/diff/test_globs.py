"""gitignore-style glob matching."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.diff.globs import GlobSet, glob_match, glob_to_regex


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
        ("[unclosed", "[unclosed", True),
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


_SEGMENT = st.text(alphabet="abc.-_ ", min_size=1, max_size=6).filter(lambda s: s not in (".", ".."))


@given(st.lists(_SEGMENT, min_size=1, max_size=4))
def test_literal_basename_matches_at_any_depth(parts: list[str]) -> None:
    path = "/".join(parts)
    assert glob_match(re.sub(r"([*?\[{\\])", r"\\\1", parts[-1]), path)
    assert glob_match("**", path)
    assert glob_match("/".join(parts[:1]) + "/**", path) is (len(parts) > 1)


@given(st.text(max_size=20))
def test_any_pattern_compiles(pattern: str) -> None:
    re.compile(glob_to_regex(pattern))
