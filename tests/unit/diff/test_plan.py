"""Review planning: skip reasons, priority order, limits, and exact line accounting."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.diff.filters import FilterRules, SkipReason
from app.diff.model import FileDiff
from app.diff.parse import parse_file_patch
from app.diff.plan import PathKind, classify_path, plan_review


def _added(path: str, n: int, width: int = 40) -> FileDiff:
    body = "\n".join(f"+{'x' * width} line {i} = call({i})" for i in range(n))
    return parse_file_patch(path, f"@@ -0,0 +1,{n} @@\n{body}", status="added")


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("app/main.py", PathKind.SOURCE),
        ("Dockerfile", PathKind.SOURCE),
        ("db/migrations/001.sql", PathKind.SOURCE),
        ("tests/unit/test_x.py", PathKind.TEST),
        ("pkg/server_test.go", PathKind.TEST),
        ("web/src/App.test.tsx", PathKind.TEST),
        ("src/__tests__/a.js", PathKind.TEST),
        ("spec/models/user_spec.rb", PathKind.TEST),
        ("src/test/java/FooTest.java", PathKind.TEST),
        ("conftest.py", PathKind.TEST),
        ("README.md", PathKind.DOCS_CONFIG),
        ("docs/guide/index.rst", PathKind.DOCS_CONFIG),
        ("pyproject.toml", PathKind.DOCS_CONFIG),
        (".github/workflows/ci.yml", PathKind.DOCS_CONFIG),
        ("LICENSE", PathKind.DOCS_CONFIG),
        ("src/latest.py", PathKind.SOURCE),
    ],
)
def test_classify_path(path: str, kind: PathKind) -> None:
    assert classify_path(path) is kind


def test_order_source_then_tests_then_docs_bigger_first() -> None:
    files = [
        _added("README.md", 50),
        _added("tests/test_a.py", 5),
        _added("app/small.py", 2),
        _added("app/big.py", 30),
        _added("app/also_big.py", 30),
        _added("yarn.lock", 500),
    ]
    plan = plan_review(files, FilterRules())
    assert [c.path for c in plan.chunks] == [
        "app/also_big.py",
        "app/big.py",
        "app/small.py",
        "tests/test_a.py",
        "README.md",
    ]
    assert plan.skipped[0].path == "yarn.lock" and plan.skipped[0].reason is SkipReason.LOCKFILE
    assert (plan.lines_total, plan.lines_sent, plan.lines_skipped) == (617, 117, 500)
    assert plan.tokens_planned == sum(c.tokens for c in plan.chunks)


def test_max_chunks_leaves_remainder_over_budget_with_detail() -> None:
    big = _added("app/big.py", 400)
    files = [big, _added("app/other.py", 3)]
    plan = plan_review(files, FilterRules(), chunk_budget_tokens=1000, max_chunks=2)
    parts = plan.chunks[0].parts
    assert parts > 2 and len(plan.chunks) == 2
    by_path = {s.path: s for s in plan.skipped}
    assert by_path["app/big.py"].reason is SkipReason.OVER_BUDGET
    assert by_path["app/big.py"].detail == f"{parts - 2} of {parts} parts not reviewed"
    assert by_path["app/big.py"].changed_lines == 400 - sum(c.changed_lines for c in plan.chunks)
    assert by_path["app/other.py"].detail == "not reviewed"
    assert plan.lines_sent + plan.lines_skipped == plan.lines_total == 403


def test_max_tokens_skips_big_chunk_but_sends_smaller_later_one() -> None:
    files = [_added("app/big.py", 200), _added("app/small.py", 2)]
    plan = plan_review(files, FilterRules(), chunk_budget_tokens=50_000, max_tokens=500)
    assert [c.path for c in plan.chunks] == ["app/small.py"]
    assert [(s.path, s.reason, s.changed_lines) for s in plan.skipped] == [
        ("app/big.py", SkipReason.OVER_BUDGET, 200)
    ]
    assert plan.tokens_planned <= 500


_PATHS = st.sampled_from(
    ["app/a.py", "app/b.go", "tests/test_c.py", "docs/d.md", "package-lock.json", "vendor/e.js", "f.min.js"]
)


@st.composite
def pr_files(draw: st.DrawFn) -> list[FileDiff]:
    count = draw(st.integers(0, 8))
    files: list[FileDiff] = []
    for index in range(count):
        path = f"{index}/{draw(_PATHS)}"
        kind = draw(st.sampled_from(["text", "text", "text", "missing", "binary", "removed", "rename"]))
        if kind == "text":
            files.append(_added(path, draw(st.integers(1, 120)), draw(st.integers(0, 300))))
        elif kind == "missing":
            files.append(parse_file_patch(path, None, status="modified", additions=draw(st.integers(1, 9))))
        elif kind == "binary":
            files.append(parse_file_patch(path, None, status="added"))
        elif kind == "removed":
            files.append(parse_file_patch(path, "@@ -1,2 +0,0 @@\n-a\n-b", status="removed"))
        else:
            files.append(parse_file_patch(path, None, status="renamed", old_path="old/" + path))
    return files


@settings(max_examples=80, deadline=None)
@given(
    pr_files(),
    st.integers(300, 6000),
    st.none() | st.integers(0, 12),
    st.none() | st.integers(0, 20_000),
)
def test_plan_accounts_for_every_line(
    files: list[FileDiff], budget: int, max_chunks: int | None, max_tokens: int | None
) -> None:
    plan = plan_review(
        files, FilterRules(), chunk_budget_tokens=budget, max_chunks=max_chunks, max_tokens=max_tokens
    )
    assert plan.lines_total == sum(f.changed_lines() for f in files)
    assert plan.lines_sent + plan.lines_skipped == plan.lines_total
    assert plan.lines_sent == sum(c.changed_lines for c in plan.chunks)
    assert plan.tokens_planned == sum(c.tokens for c in plan.chunks)
    if max_chunks is not None:
        assert len(plan.chunks) <= max_chunks
    if max_tokens is not None:
        assert plan.tokens_planned <= max_tokens
    assert all(c.tokens <= budget for c in plan.chunks)
    for f in files:
        sent = sum(c.changed_lines for c in plan.chunks if c.path == f.path)
        listed = [s for s in plan.skipped if s.path == f.path]
        assert len(listed) <= 1
        if listed:
            assert sent + listed[0].changed_lines == f.changed_lines()
        else:
            assert sent == f.changed_lines() and sent > 0
    kinds = [classify_path(c.path) for c in plan.chunks]
    assert kinds == sorted(kinds)
