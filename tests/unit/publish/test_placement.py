"""Placement: findings become comments GitHub accepts, or notes; nothing is lost or guessed."""

from __future__ import annotations

from app.diff.model import FileDiff, Side
from app.publish.placement import FileNote, PlacedComment, place_findings, to_review_comment
from tests.unit.publish.helpers import file_diff, finding, github_rejects, hunk

# new lines 10..16 / old lines 10..15 in hunk 0; new 40..44 / old 39..42 in hunk 1
APP = file_diff(
    "app/x.py",
    hunk(
        10,
        10,
        " def foo():",
        "-    return old_value",
        "+    value = compute()",
        "+    return value",
        " ",
        " def bar():",
        "+    log('bar')",
        "     pass",
    ),
    hunk(39, 40, " class C:", "-    a = 1", "+    a = 2", "+    b = 3", " "),
)
FILES = {"app/x.py": APP}


def only_inline(files: dict[str, FileDiff], *findings_: object) -> PlacedComment:
    result = place_findings(files, findings_)  # type: ignore[arg-type]
    assert len(result.inline) == 1, result
    placed = result.inline[0]
    assert github_rejects(files, placed) is None
    return placed


def only_file_note(files: dict[str, FileDiff], *findings_: object) -> FileNote:
    result = place_findings(files, findings_)  # type: ignore[arg-type]
    assert not result.inline and not result.pr_notes and not result.dropped, result
    assert len(result.file_notes) == 1
    return result.file_notes[0]


def test_exact_citation_is_placed_as_given() -> None:
    placed = only_inline(FILES, finding("app/x.py", 11, "value = compute()"))
    assert (placed.side, placed.line, placed.reanchored) == (Side.RIGHT, 11, False)


def test_empty_quote_trusts_a_shown_line_number() -> None:
    placed = only_inline(FILES, finding("app/x.py", 13, ""))
    assert (placed.side, placed.line) == (Side.RIGHT, 13)


def test_empty_quote_on_a_line_outside_the_diff_is_a_file_note() -> None:
    note = only_file_note(FILES, finding("app/x.py", 30, ""))
    assert "not part of the diff" in note.reason


def test_off_by_two_is_reanchored_onto_the_quoted_line() -> None:
    placed = only_inline(FILES, finding("app/x.py", 14, "return value"))
    assert (placed.side, placed.line, placed.reanchored) == (Side.RIGHT, 12, True)


def test_whitespace_differences_do_not_matter() -> None:
    placed = only_inline(FILES, finding("app/x.py", 20, "  return    value "))
    assert (placed.line, placed.reanchored) == (12, True)


def test_old_side_uses_old_numbers() -> None:
    placed = only_inline(FILES, finding("app/x.py", 11, "return old_value", side="old"))
    assert (placed.side, placed.line, placed.reanchored) == (Side.LEFT, 11, False)
    assert to_review_comment(placed, "b") == {"path": "app/x.py", "line": 11, "side": "LEFT", "body": "b"}


def test_old_side_context_line_is_accepted() -> None:
    placed = only_inline(FILES, finding("app/x.py", 10, "def foo():", side="old"))
    assert (placed.side, placed.line) == (Side.LEFT, 10)


def test_quote_of_a_removed_line_cited_as_new_moves_to_the_left_side() -> None:
    placed = only_inline(FILES, finding("app/x.py", 11, "return old_value"))
    assert (placed.side, placed.line, placed.reanchored) == (Side.LEFT, 11, True)


def test_quote_of_an_added_line_cited_as_old_moves_to_the_right_side() -> None:
    placed = only_inline(FILES, finding("app/x.py", 12, "value = compute()", side="old"))
    assert (placed.side, placed.line) == (Side.RIGHT, 11)


def test_far_off_number_falls_back_to_a_unique_match_in_the_whole_file() -> None:
    placed = only_inline(FILES, finding("app/x.py", 200, "log('bar')"))
    assert (placed.side, placed.line, placed.reanchored) == (Side.RIGHT, 15, True)


def test_same_side_candidate_beats_other_side_in_the_window() -> None:
    diff = file_diff("r.py", hunk(1, 1, "-    x = 1", "+        x = 1"))
    placed = only_inline({"r.py": diff}, finding("r.py", 5, "x = 1"))
    assert (placed.side, placed.line) == (Side.RIGHT, 1)


def test_equally_near_candidates_are_not_guessed() -> None:
    diff = file_diff("d.py", hunk(1, 1, "+dup()", " mid", "+dup()"))
    note = only_file_note({"d.py": diff}, finding("d.py", 2, "dup()"))
    assert "several" in note.reason


def test_strictly_nearest_candidate_wins() -> None:
    diff = file_diff("d.py", hunk(1, 1, "+dup()", " a", " b", " c", "+dup()"))
    placed = only_inline({"d.py": diff}, finding("d.py", 4, "dup()"))
    assert placed.line == 5


def test_ambiguous_outside_the_window_is_not_guessed() -> None:
    diff = file_diff("d.py", hunk(1, 1, "+dup()"), hunk(50, 50, "+dup()"))
    note = only_file_note({"d.py": diff}, finding("d.py", 25, "dup()"))
    assert "several" in note.reason


def test_valid_number_with_unmatched_long_quote_is_a_file_note() -> None:
    note = only_file_note(FILES, finding("app/x.py", 11, "something else entirely"))
    assert "does not match" in note.reason


def test_valid_number_with_unmatched_short_quote_trusts_the_number_but_not_the_suggestion() -> None:
    placed = only_inline(FILES, finding("app/x.py", 11, "x)", suggestion="value = 1"))
    assert (placed.line, placed.reanchored, placed.suggestion_applicable) == (11, False, False)


def test_short_quote_is_not_searched_for_across_the_whole_file() -> None:
    diff = file_diff("s.py", hunk(1, 1, "+}"), hunk(100, 100, "+x"))
    note = only_file_note({"s.py": diff}, finding("s.py", 500, "}"))
    assert "not part of the diff" in note.reason
    assert only_inline({"s.py": diff}, finding("s.py", 3, "}")).line == 1  # nearby is still searched


def test_range_inside_one_hunk_stays_multi_line_with_an_applicable_suggestion() -> None:
    placed = only_inline(FILES, finding("app/x.py", 12, "return value", start_line=11, suggestion="return 1"))
    assert (placed.start_line, placed.start_side, placed.line) == (11, Side.RIGHT, 12)
    assert placed.suggestion_applicable
    assert to_review_comment(placed, "b") == {
        "path": "app/x.py",
        "line": 12,
        "side": "RIGHT",
        "body": "b",
        "start_line": 11,
        "start_side": "RIGHT",
    }


def test_reanchored_range_shifts_with_its_end_line() -> None:
    placed = only_inline(FILES, finding("app/x.py", 15, "return value", start_line=14, suggestion="y"))
    assert (placed.start_line, placed.line, placed.reanchored) == (11, 12, True)
    assert placed.suggestion_applicable


def test_range_across_hunks_shrinks_to_the_end_line_hunk() -> None:
    placed = only_inline(FILES, finding("app/x.py", 42, "b = 3", start_line=12, suggestion="b = 4"))
    assert (placed.start_line, placed.line) == (40, 42)
    assert not placed.suggestion_applicable


def test_range_whose_start_is_the_end_hunk_first_line_after_shrinking_collapses_to_single() -> None:
    placed = only_inline(FILES, finding("app/x.py", 40, "class C:", start_line=12))
    assert (placed.start_line, placed.start_side, placed.line) == (None, None, 40)


def test_start_after_end_becomes_a_single_line_without_suggestion() -> None:
    placed = only_inline(FILES, finding("app/x.py", 11, "value = compute()", start_line=13, suggestion="v"))
    assert (placed.start_line, placed.line, placed.suggestion_applicable) == (None, 11, False)


def test_start_equal_to_end_is_a_single_line_with_suggestion() -> None:
    placed = only_inline(FILES, finding("app/x.py", 11, "value = compute()", start_line=11, suggestion="v"))
    assert (placed.start_line, placed.suggestion_applicable) == (None, True)


def test_suggestion_on_the_left_side_is_not_applicable() -> None:
    placed = only_inline(FILES, finding("app/x.py", 11, "return old_value", side="old", suggestion="x"))
    assert not placed.suggestion_applicable


def test_no_suggestion_means_not_applicable() -> None:
    assert not only_inline(FILES, finding("app/x.py", 11, "value = compute()")).suggestion_applicable


def test_range_on_the_left_side_stays_on_the_left() -> None:
    placed = only_inline(FILES, finding("app/x.py", 11, "return old_value", side="old", start_line=10))
    assert (placed.start_line, placed.start_side, placed.line, placed.side) == (10, Side.LEFT, 11, Side.LEFT)


def test_side_switch_drops_the_range() -> None:
    placed = only_inline(FILES, finding("app/x.py", 12, "return old_value", start_line=10))
    assert (placed.side, placed.start_line) == (Side.LEFT, None)


def test_model_path_prefixes_are_accepted() -> None:
    for path in ("./app/x.py", "a/app/x.py", "b/app/x.py", "/app/x.py"):
        placed = only_inline(FILES, finding(path, 11, "value = compute()"))
        assert placed.path == "app/x.py"


def test_a_real_a_directory_wins_over_prefix_stripping() -> None:
    files = {"a/app/x.py": file_diff("a/app/x.py", hunk(1, 1, "+z = 0")), **FILES}
    assert only_inline(files, finding("a/app/x.py", 1, "z = 0")).path == "a/app/x.py"


def test_rename_old_path_maps_to_the_file() -> None:
    moved = file_diff("new/y.py", hunk(3, 3, "-a", "+b"), old_path="old/y.py")
    placed = only_inline({"new/y.py": moved}, finding("old/y.py", 3, "b"))
    assert (placed.path, placed.line) == ("new/y.py", 3)


def test_unknown_paths_are_dropped_and_empty_paths_are_pr_notes() -> None:
    outside = finding("etc/passwd", 1, "root")
    general = finding("", 0, "")
    result = place_findings(FILES, [outside, general])
    assert result.dropped == [(outside, "the file is not part of this pull request")]
    assert [note.finding for note in result.pr_notes] == [general]
    assert not result.inline and not result.file_notes


def test_unplaceable_files_become_file_notes() -> None:
    files = {
        "img.png": file_diff("img.png", is_binary=True),
        "huge.sql": file_diff("huge.sql", patch_missing=True),
        "moved.txt": file_diff("moved.txt"),
    }
    result = place_findings(files, [finding(path, 1, "x") for path in files])
    assert [(n.path, n.reason) for n in result.file_notes] == [
        ("img.png", "binary file"),
        ("huge.sql", "GitHub did not provide this file's diff"),
        ("moved.txt", "the file has no diff lines to comment on"),
    ]


def test_insertion_into_an_empty_old_side_measures_distance_correctly() -> None:
    # "@@ -5,0 +6,1 @@": the old-side start names the line before the insertion, so the added line
    # sits at old line 6; with a window of 1 only that reading finds it near a citation of old 7.
    diff = file_diff("e.py", hunk(5, 6, "+added here"), hunk(30, 31, "-gone", "+added here"))
    assert diff.hunks[0].old_len == 0
    result = place_findings({"e.py": diff}, [finding("e.py", 7, "added here", side="old")], search_window=1)
    assert [(p.side, p.line) for p in result.inline] == [(Side.RIGHT, 6)]


def test_wrong_side_label_with_the_removed_line_own_number_is_found() -> None:
    # 30 lines were added above, so old line 40 sits at new line 70; the model read "40 - gone()"
    # from the rendering and labelled it "new". A second removed copy far away rules out the
    # whole-file fallback, so only nearness by the line's own number can find it.
    diff = file_diff(
        "w.py",
        hunk(1, 1, *(f"+added_{i}()" for i in range(30))),
        hunk(40, 70, "-gone()", " keep()"),
        hunk(200, 230, "-gone()", " keep()"),
    )
    placed = only_inline({"w.py": diff}, finding("w.py", 40, "gone()"))
    assert (placed.side, placed.line) == (Side.LEFT, 40)
