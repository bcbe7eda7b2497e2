"""The interdiff of two PR diffs: only changed lines the PR's own diff did not show before."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.diff.interdiff import file_interdiff, pr_interdiff
from app.diff.model import FileDiff, LineKind
from app.diff.parse import parse_file_patch


def fd(patch: str, path: str = "app/x.py") -> FileDiff:
    return parse_file_patch(path, patch, status="modified")


def changed(file: FileDiff) -> list[tuple[str, int | None, str]]:
    return [
        (line.kind.value, line.new_no if line.kind is LineKind.ADDED else line.old_no, line.text)
        for hunk in file.hunks
        for line in hunk.lines
        if line.kind is not LineKind.CONTEXT
    ]


OLD = "@@ -10,4 +10,5 @@ def f():\n a\n-b\n+B\n+C\n c\n d\n"
# The base gained 20 lines above (merge of main): same PR changes, numbers shifted.
SHIFTED = "@@ -30,4 +30,5 @@ def f():\n a\n-b\n+B\n+C\n c\n d\n"


def test_a_base_update_that_only_shifts_numbers_leaves_nothing_fresh() -> None:
    assert file_interdiff(fd(OLD), fd(SHIFTED)) is None
    result = pr_interdiff({"app/x.py": fd(OLD)}, [fd(SHIFTED)])
    assert result.files == [] and result.unchanged == ["app/x.py"]


def test_one_new_line_among_old_ones_is_the_only_fresh_line() -> None:
    new = fd("@@ -30,4 +30,6 @@ def f():\n a\n-b\n+B\n+NEW\n+C\n c\n d\n")
    fresh = file_interdiff(fd(OLD), new)
    assert fresh is not None
    assert changed(fresh) == [("added", 32, "NEW")]
    assert (fresh.additions, fresh.deletions) == (1, 0)
    # The window stops at the old changes around it: nothing already reviewed is shown as a change.
    assert [line.text for hunk in fresh.hunks for line in hunk.lines] == ["NEW"]


def test_a_replaced_addition_is_fresh_but_its_unchanged_removal_is_not() -> None:
    new = fd("@@ -10,4 +10,5 @@ def f():\n a\n-b\n+X\n+C\n c\n d\n")
    fresh = file_interdiff(fd(OLD), new)
    assert fresh is not None
    assert changed(fresh) == [("added", 11, "X")]


def test_context_lines_are_kept_around_a_fresh_change_and_headers_match_the_lines() -> None:
    old = fd("@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n")
    new = fd(
        "@@ -1,8 +1,9 @@\n one\n-two\n+TWO\n three\n four\n five\n+FIVE_AND_A_HALF\n six\n seven\n eight\n"
    )
    fresh = file_interdiff(old, new)
    assert fresh is not None
    [hunk] = fresh.hunks
    assert [line.text for line in hunk.lines] == [
        "three",
        "four",
        "five",
        "FIVE_AND_A_HALF",
        "six",
        "seven",
        "eight",
    ]
    assert (hunk.new_start, hunk.new_len) == (3, 7)
    assert (hunk.old_start, hunk.old_len) == (3, 6)


def test_a_file_new_to_the_pr_is_fresh_whole_and_a_dropped_one_is_not_listed() -> None:
    added = fd("@@ -0,0 +1,2 @@\n+x\n+y\n", "app/new.py")
    result = pr_interdiff({"app/x.py": fd(OLD), "app/gone.py": fd(OLD, "app/gone.py")}, [fd(SHIFTED), added])
    assert [f.path for f in result.files] == ["app/new.py"]
    assert result.files[0] is added


def test_a_renamed_file_is_matched_by_its_old_path() -> None:
    renamed = parse_file_patch("app/y.py", SHIFTED, status="renamed", old_path="app/x.py")
    assert pr_interdiff({"app/x.py": fd(OLD)}, [renamed]).files == []


def test_a_file_without_a_readable_patch_is_reviewed_whole() -> None:
    missing = FileDiff(path="app/x.py", status=fd(OLD).status, patch_missing=True, additions=900)
    assert file_interdiff(fd(OLD), missing) is missing


_line = st.sampled_from(["a", "b", "c", "x = 1", "return y", ""])


def _patch(body: list[tuple[str, str]]) -> str:
    old_len = sum(1 for mark, _ in body if mark in " -")
    new_len = sum(1 for mark, _ in body if mark in " +")
    text = "".join(f"{mark}{line}\n" for mark, line in body)
    return f"@@ -{1 if old_len else 0},{old_len} +{1 if new_len else 0},{new_len} @@\n{text}"


_bodies = st.lists(st.tuples(st.sampled_from([" ", "+", "-"]), _line), min_size=1, max_size=25).filter(
    lambda body: any(mark != " " for mark, _ in body)
)


@settings(max_examples=150, deadline=None)
@given(_bodies, _bodies)
def test_fresh_lines_are_real_lines_of_the_new_diff_and_counts_match(old_body: list, new_body: list) -> None:  # type: ignore[type-arg]
    old, new = fd(_patch(old_body)), fd(_patch(new_body))
    assert file_interdiff(new, new) is None
    fresh = file_interdiff(old, new)
    new_lines = {(line.kind, line.old_no, line.new_no, line.text) for h in new.hunks for line in h.lines}
    if fresh is None:
        return
    shown = [line for h in fresh.hunks for line in h.lines]
    assert all((line.kind, line.old_no, line.new_no, line.text) in new_lines for line in shown)
    assert sum(h.changed_count() for h in fresh.hunks) == fresh.additions + fresh.deletions > 0
    for hunk in fresh.hunks:
        assert hunk.new_len == sum(1 for line in hunk.lines if line.new_no is not None)
        assert hunk.old_len == sum(1 for line in hunk.lines if line.old_no is not None)
