from __future__ import annotations

import datetime as dt

import pytest

from app.conversation.learnings import (
    Learning,
    LearningSource,
    first_match,
    guidance,
    matches,
    new_learning,
    path_pattern,
    signature,
    signature_words,
)

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def learn(
    path: str = "app/run.py", category: str = "risk", title: str = "Bug marker left in code"
) -> Learning:
    return new_learning(
        repo="o/r",
        path=path,
        category=category,
        title=title,
        fp="abcd" * 4,
        person="maintainer",
        words="  false   positive ",
        source=LearningSource.REPLY,
        now=NOW,
    ).model_copy(update={"id": 7})


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("app/run.py", "app/**/*.py"),
        ("app/deep/er/x.ts", "app/**/*.ts"),
        ("setup.py", "*.py"),
        ("Makefile", "*"),
    ],
)
def test_path_pattern_keeps_the_top_directory_and_extension(path: str, pattern: str) -> None:
    assert path_pattern(path) == pattern


def test_signature_ignores_case_punctuation_filler_and_plural() -> None:
    assert signature_words("Bug markers left in the code!") == signature_words("bug marker in code")
    assert signature("risk", "Unused variables `x1`") == "risk: unused variable x1"


def test_new_learning_normalises_words_and_records_who_and_when() -> None:
    item = learn()
    assert item.words == "false positive"
    assert (item.person, item.created_at, item.path_pattern) == ("maintainer", NOW, "app/**/*.py")


def test_a_similar_finding_in_another_file_of_the_same_kind_matches() -> None:
    item = learn()
    assert matches(item, path="app/extra.py", category="risk", title="Bug marker left in the code")
    assert matches(item, path="app/sub/mod.py", category="risk", title="Bug markers left in code")


@pytest.mark.parametrize(
    ("path", "category", "title"),
    [
        ("app/extra.py", "lint", "Bug marker left in code"),  # other category
        ("lib/extra.py", "risk", "Bug marker left in code"),  # outside the pattern
        ("app/extra.js", "risk", "Bug marker left in code"),  # other extension
        ("app/extra.py", "risk", "SQL injection through user input"),  # another kind of finding
    ],
)
def test_other_kinds_places_or_categories_do_not_match(path: str, category: str, title: str) -> None:
    assert not matches(learn(), path=path, category=category, title=title)


def test_the_same_code_matches_by_fingerprint_whatever_the_title() -> None:
    assert matches(learn(), path="lib/x.js", category="lint", title="anything", fp="abcd" * 4)


def test_first_match_and_guidance() -> None:
    items = [learn(title="SQL injection"), learn()]
    assert first_match(items, path="app/a.py", category="risk", title="Bug marker left in code") == items[1]
    text = guidance(items)
    assert 'risk findings like "Bug marker left in code" in files matching app/**/*.py' in text
    assert guidance([]) == ""
