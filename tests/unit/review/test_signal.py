from hypothesis import given
from hypothesis import strategies as st

from app.review.findings import Category, Finding, Severity
from app.review.signal import is_duplicate, merge_duplicates, select_inline


def f(
    line: int = 10,
    *,
    title: str = "SQL injection through string formatting",
    severity: Severity = Severity.MAJOR,
    confidence: float = 0.8,
    category: Category = Category.RISK,
    path: str = "app/db.py",
    quote: str = "cur.execute(f'select {x}')",
    start_line: int | None = None,
    side: str = "new",
) -> Finding:
    return Finding(
        category=category,
        severity=severity,
        confidence=confidence,
        path=path,
        side=side,
        line=line,
        start_line=start_line,
        quote=quote,
        title=title,
        body="b",
    )


def test_same_problem_on_adjacent_lines_merges_into_the_strongest() -> None:
    weak = f(10, severity=Severity.MINOR, confidence=0.9)
    strong = f(11, title="Possible SQL injection", severity=Severity.CRITICAL, confidence=0.5, quote="")
    kept, merged = merge_duplicates([weak, strong])
    assert kept == [strong]
    assert merged == 1


def test_same_quote_far_apart_merges_when_titles_agree() -> None:
    a, b = f(10), f(200, title="SQL injection via f-string")
    assert is_duplicate(a, b)
    kept, merged = merge_duplicates([a, b])
    assert merged == 1
    assert kept[0] is a  # equal strength: the first wins


def test_ties_break_on_confidence() -> None:
    low, high = f(10, confidence=0.4), f(10, confidence=0.95)
    assert merge_duplicates([low, high]) == ([high], 1)


def test_ranges_that_overlap_count_as_the_same_place() -> None:
    assert is_duplicate(f(20, start_line=12, quote="a"), f(15, quote="b"))
    assert not is_duplicate(f(20, start_line=18, quote="a"), f(15, quote="b"))


def test_different_path_category_side_or_title_are_kept_apart() -> None:
    base = f(10)
    others = [
        f(10, path="app/other.py"),
        f(10, category=Category.LINT),
        f(10, title="Connection is never closed"),
        f(10, side="old", quote="something else"),
    ]
    for other in others:
        assert not is_duplicate(base, other)
    kept, merged = merge_duplicates([base, *others])
    assert merged == 0
    assert kept == [base, *others]


def test_group_keeps_the_position_of_its_first_member() -> None:
    a, other, b = (
        f(10, confidence=0.3),
        f(50, title="Unused import", quote="import os"),
        f(10, confidence=0.9),
    )
    assert merge_duplicates([a, other, b]) == ([b, other], 1)


def test_select_inline_filters_orders_and_caps() -> None:
    nit = f(1, severity=Severity.NIT, confidence=0.99)
    minor_unsure = f(2, severity=Severity.MINOR, confidence=0.3)
    minor = f(3, severity=Severity.MINOR, confidence=0.7)
    major = f(4, severity=Severity.MAJOR, confidence=0.6)
    critical = f(5, severity=Severity.CRITICAL, confidence=0.9)
    major_sure = f(6, severity=Severity.MAJOR, confidence=0.9)
    inline, rest = select_inline(
        [nit, minor_unsure, minor, major, critical, major_sure],
        min_severity=Severity.MINOR,
        min_confidence=0.5,
        max_inline=3,
    )
    assert inline == [critical, major_sure, major]
    assert rest == [minor, minor_unsure, nit]


def test_select_inline_with_zero_slots_sends_everything_to_the_summary() -> None:
    items = [f(1), f(2, severity=Severity.CRITICAL)]
    inline, rest = select_inline(items, min_severity=Severity.NIT, min_confidence=0.0, max_inline=0)
    assert inline == []
    assert rest == [items[1], items[0]]


findings_strategy = st.lists(
    st.builds(
        f,
        line=st.integers(1, 30),
        title=st.sampled_from(["SQL injection", "Unused import", "Race on counter", "SQL injection risk"]),
        severity=st.sampled_from(list(Severity)),
        confidence=st.floats(0, 1),
        category=st.sampled_from(list(Category)),
        path=st.sampled_from(["a.py", "b.py"]),
        quote=st.sampled_from(["", "x = 1", "y = 2"]),
    ),
    max_size=25,
)


@given(findings_strategy)
def test_merge_accounts_for_every_finding_and_never_loses_the_worst(findings: list[Finding]) -> None:
    kept, merged = merge_duplicates(findings)
    assert len(kept) + merged == len(findings)
    assert all(k in findings for k in kept)
    if findings:
        assert max(x.severity.rank for x in kept) == max(x.severity.rank for x in findings)


@given(findings_strategy, st.integers(0, 10))
def test_select_partitions_the_input(findings: list[Finding], cap: int) -> None:
    inline, rest = select_inline(findings, min_severity=Severity.MINOR, min_confidence=0.5, max_inline=cap)
    assert len(inline) <= cap
    assert sorted(map(id, inline + rest)) == sorted(map(id, findings))
    assert all(x.severity.rank >= 1 and x.confidence >= 0.5 for x in inline)
