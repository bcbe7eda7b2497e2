"""Fingerprints: stable across line moves and rewording, distinct across files, code and categories."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from app.pipeline.dedup import Deduplicator
from app.publish.fingerprint import finding_code, fingerprint, legacy_fingerprint, marker, markers_in
from app.publish.placement import Placement, place_findings
from app.review.findings import Category
from tests.unit.publish.helpers import file_diff, finding, hunk


def test_fingerprint_format_is_pinned() -> None:
    # Markers already posted on PRs carry these values: changing the recipe re-posts every comment.
    expected = hashlib.sha256(b"app/x.py\x1frisk\x1fvalue = compute()\x1f").hexdigest()[:16]
    assert fingerprint("app/x.py", Category.RISK, "value = compute()") == expected


def test_whitespace_in_code_does_not_matter() -> None:
    assert fingerprint("a.py", "lint", "  x  =\t1 ") == fingerprint("a.py", "lint", "x = 1")


def test_path_category_and_code_each_matter() -> None:
    base = fingerprint("a.py", "lint", "x = 1")
    assert base != fingerprint("b.py", "lint", "x = 1")
    assert base != fingerprint("a.py", "risk", "x = 1")
    assert base != fingerprint("a.py", "lint", "x = 2")


def test_legacy_keys_held_the_title_words_ignoring_case_and_punctuation() -> None:
    plain = fingerprint("a.py", "risk", "x = 1")
    titled = legacy_fingerprint("a.py", "risk", "x = 1", "Possible  None dereference!")
    assert plain != titled
    assert titled == legacy_fingerprint("a.py", "risk", "x = 1", "possible none-dereference")
    assert plain == legacy_fingerprint("a.py", "risk", "x = 1", "")  # notes never had a title


def _inline(title: str) -> Placement:
    diff = file_diff("m.py", hunk(1, 1, "+total = a+b"))
    return place_findings({"m.py": diff}, [finding("m.py", 1, "total = a+b", title=title)])


def test_a_reworded_title_does_not_repeat_the_comment() -> None:
    files = {"m.py": file_diff("m.py", hunk(1, 1, "+total = a+b"))}
    first = Deduplicator(known=set())
    [(_, fp)] = first.fresh_inline(_inline("Possible overflow"), files)
    again = Deduplicator(known={fp})
    assert again.fresh_inline(_inline("Integer overflow when a and b are large"), files) == []
    assert again.duplicates == 1


def test_markers_of_titled_fingerprints_are_still_recognised() -> None:
    files = {"m.py": file_diff("m.py", hunk(1, 1, "+total = a+b"))}
    old = legacy_fingerprint("m.py", "risk", "total = a+b", "Possible overflow")
    dedup = Deduplicator(known={old})
    assert dedup.fresh_inline(_inline("Possible overflow"), files) == []


def test_fields_cannot_bleed_into_each_other() -> None:
    assert fingerprint("a", "lint", "b c") != fingerprint("a b", "lint", "c")


def test_the_same_line_moved_by_a_push_keeps_its_fingerprint() -> None:
    before = file_diff("m.py", hunk(1, 1, "+total = a+b"))
    after = file_diff("m.py", hunk(40, 40, " # moved", "+total = a+b"))
    first = place_findings({"m.py": before}, [finding("m.py", 1, "total = a+b")]).inline[0]
    second = place_findings({"m.py": after}, [finding("m.py", 41, "")]).inline[0]
    fps = {
        fingerprint(p.path, p.finding.category, finding_code(p, d))
        for p, d in ((first, before), (second, after))
    }
    assert len(fps) == 1


def test_finding_code_prefers_the_diff_over_the_quote() -> None:
    diff = file_diff("q.py", hunk(5, 5, "-old text", "+new text"))
    right = place_findings({"q.py": diff}, [finding("q.py", 5, "")]).inline[0]
    left = place_findings({"q.py": diff}, [finding("q.py", 5, "", side="old")]).inline[0]
    assert finding_code(right, diff) == "new text"
    assert finding_code(left, diff) == "old text"
    assert finding_code(right) == ""  # without the diff, the (empty) quote is all there is
    note = place_findings({"q.py": diff}, [finding("q.py", 99, "something long and absent")]).file_notes[0]
    assert finding_code(note) == "something long and absent"
    assert finding_code(note.finding) == "something long and absent"


def test_marker_round_trips_and_only_trailing_markers_count() -> None:
    fp = fingerprint("a.py", "lint", "x")
    other = fingerprint("b.py", "lint", "x")
    quoted = "```\n" + marker("0" * 16) + "\n```"
    body = f"**title**\n\n{quoted}\n\nbody\n\n{marker(fp)}\n{marker(other)}\n"
    assert markers_in(body) == {fp, other}
    assert markers_in(f"{marker(fp)}\n\ntext after the marker") == set()
    assert markers_in("") == set()
    assert markers_in(marker("not-hex")) == set()


@given(st.text(alphabet="0123456789abcdef", min_size=16, max_size=16), st.text(max_size=200))
def test_markers_are_found_after_any_text(fp: str, text: str) -> None:
    assert fp in markers_in(f"{text}\n\n{marker(fp)}")
