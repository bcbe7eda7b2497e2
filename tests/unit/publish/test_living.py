"""The living summary comment: recognisable, history and markers carried, within GitHub's limit."""

from __future__ import annotations

from app.publish.fingerprint import markers_in
from app.publish.living import (
    SUMMARY_MARKER,
    RunEntry,
    history_in,
    is_living_summary,
    render_living_summary,
    review_body,
)
from app.publish.markdown import MAX_BODY, ReviewSummary
from app.publish.placement import FileNote
from app.review.findings import Category, Finding, Severity

URL = "https://mini.example/runs/abc"


def entry(head: str, **values: object) -> RunEntry:
    return RunEntry(**{"head": head, "mode": "full", "at": "2026-11-30T13:00:00", "run_url": URL, **values})  # type: ignore[arg-type]


def note(n: int, body: str = "why") -> FileNote:
    finding = Finding(
        category=Category.RISK,
        severity=Severity.MINOR,
        confidence=0.9,
        path="app/a.py",
        line=1,
        quote="x",
        title=f"problem {n}",
        body=body,
    )
    return FileNote(finding=finding, path="app/a.py", reason="not in the diff")


def test_first_summary_has_marker_sections_history_and_note_markers() -> None:
    summary = ReviewSummary(
        head_sha="a" * 40,
        files_reviewed=2,
        files_total=3,
        counts={"risk": 1},
        skipped=[("big.lock", "generated", 900)],
        file_notes=[note(1)],
        prompt_tokens=1234,
        cost_usd=0.0123,
        run_url=URL,
        fingerprints=["0123456789abcdef"],
    )
    body = render_living_summary(summary, entry("a" * 40, findings=1, prompt_tokens=1234))
    assert is_living_summary(body) and body.startswith(SUMMARY_MARKER)
    assert "problem 1" in body and "big.lock" in body and "1,234 in" in body and "$0.0123" in body
    assert "Run history (1)" in body and f"[open]({URL})" in body
    assert markers_in(body) == {"0123456789abcdef"}
    assert history_in(body) == [entry("a" * 40, findings=1, prompt_tokens=1234)]


def test_each_rewrite_appends_to_the_history_and_keeps_earlier_note_markers() -> None:
    body = ""
    for n in range(35):
        summary = ReviewSummary(head_sha=f"{n:040x}", run_url=URL, fingerprints=[f"{n:016x}"])
        body = render_living_summary(summary, entry(f"{n:040x}", note="nothing new" if n else ""), body)
    history = history_in(body)
    assert len(history) == 30 and history[-1].head == f"{34:040x}" and history[0].head == f"{5:040x}"
    assert markers_in(body) == {f"{n:016x}" for n in range(35)}
    assert body.count(SUMMARY_MARKER) == 1


def test_a_huge_summary_is_cut_to_fit_one_comment_with_history_and_markers_intact() -> None:
    notes = [note(n, "long text " * 150) for n in range(200)]
    summary = ReviewSummary(head_sha="b" * 40, file_notes=notes, run_url=URL, fingerprints=["f" * 16])
    body = render_living_summary(summary, entry("b" * 40))
    assert len(body) <= MAX_BODY
    assert "did not fit here" in body and markers_in(body) == {"f" * 16} and len(history_in(body)) == 1


def test_history_marker_that_was_tampered_with_is_ignored() -> None:
    assert history_in("<!-- mini-review:history=!!notbase64 -->") == []
    assert history_in("<!-- mini-review:history=W3siaGVhZCI6IDF9XQ== -->") == []  # [{"head": 1}]


def test_history_cells_cannot_break_the_table_or_ping() -> None:
    evil = entry("c" * 40, note="| @someone #12 <script>", run_url="javascript:alert(1)")
    body = render_living_summary(ReviewSummary(head_sha="c" * 40), evil)
    row = [line for line in body.split("\n") if line.startswith("| 1 |")][0]
    assert "\\|" in row and "@someone" not in row and "<script>" not in row and "javascript" not in row


def test_review_body_is_short_and_links_the_run() -> None:
    assert review_body(2, URL) == (
        f"**mini-review**: 2 new inline comments; the summary comment of this PR has the rest \N{MIDDLE DOT} "
        f"[Full run]({URL})."
    )
    assert "[Full run]" not in review_body(1, "not a url")


def test_notes_of_earlier_runs_are_carried_folded_when_a_rewrite_has_none_of_its_own() -> None:
    first = render_living_summary(
        ReviewSummary(head_sha="a" * 40, file_notes=[note(1)], run_url=URL), entry("a" * 40)
    )
    second = render_living_summary(ReviewSummary(head_sha="b" * 40, run_url=URL), entry("b" * 40), first)
    third = render_living_summary(
        ReviewSummary(head_sha="c" * 40, file_notes=[note(3)], run_url=URL), entry("c" * 40), second
    )
    assert "problem 1" in second and "Notes from earlier runs" in second
    earlier = third.split("Notes from earlier runs", 1)[1]
    assert third.index("problem 3") < third.index("Notes from earlier runs")
    assert "problem 1" in earlier and earlier.count("problem 1") == 1
    assert third.count("<details>\n<summary>Notes from earlier runs</summary>") == 1
