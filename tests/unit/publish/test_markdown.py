"""Rendering: untrusted model text cannot ping, inject HTML or break out of its place; bodies fit."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from app.diff.model import FileDiff
from app.publish.fingerprint import markers_in
from app.publish.markdown import (
    MAX_BODY,
    ReviewSummary,
    code_block,
    code_span,
    comment_body,
    neutralise,
    neutralise_line,
    review_failed,
    split_body,
    summary_body,
)
from app.publish.placement import PlacedComment, place_findings
from tests.unit.publish.helpers import file_diff, finding, hunk

FP = "0123456789abcdef"
DIFF = file_diff("a.py", hunk(1, 1, "-x = 0", "+x = 1", "+y = 2"))
FILES: dict[str, FileDiff] = {"a.py": DIFF}
PING = re.compile(r"(?<![A-Za-z0-9_])@[A-Za-z0-9]")


def placed(**extra: object) -> PlacedComment:
    return place_findings(FILES, [finding("a.py", 2, "y = 2", **extra)]).inline[0]


def fence_open_at_end(text: str) -> bool:
    """Independent CommonMark-style check: is a top-level fenced block still open after `text`?"""
    opening: str | None = None
    for line in text.split("\n"):
        if opening is None:
            m = re.match(r" {0,3}(`{3,}|~{3,})(.*)$", line)
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                opening = m.group(1)
        else:
            m = re.match(r" {0,3}(`{3,}|~{3,})[ \t]*$", line)
            if m and m.group(1)[0] == opening[0] and len(m.group(1)) >= len(opening):
                opening = None
    return opening is not None


def test_user_and_team_mentions_are_neutralised_but_emails_are_not() -> None:
    out = neutralise("ping @octocat and @my-org/core-team, mail octocat@github.com\n@start")
    assert not PING.search(out)
    assert "octocat@github.com" in out
    assert out.replace("\u200b", "") == "ping @octocat and @my-org/core-team, mail octocat@github.com\n@start"


def test_mentions_inside_code_are_neutralised_too() -> None:
    out = neutralise("`@octocat`\n\n```\n@decorator\n```")
    assert not PING.search(out)


def test_issue_references_do_not_autolink() -> None:
    out = neutralise("fixes #12 and other/repo#7")
    assert not re.search(r"#\d", out)


def test_html_is_escaped_outside_code_and_kept_inside() -> None:
    out = neutralise("<details><summary>x</summary> & </details>\n\n`a < b && c > d`\n\n```\nif a < b:\n```")
    first, inline, block = out.split("\n\n")
    assert first == "&lt;details&gt;&lt;summary&gt;x&lt;/summary&gt; &amp; &lt;/details&gt;"
    assert inline == "`a < b && c > d`"
    assert block == "```\nif a < b:\n```"


def test_html_comment_cannot_hide_the_rest_of_a_body() -> None:
    out = neutralise("<!-- everything after this is hidden")
    assert "<!--" not in out


def test_unclosed_fence_is_closed_and_cannot_swallow_what_follows() -> None:
    for text in ("```python\nx = 1", "~~~~\ncode\n~~~", "text\n````\n```\nstill code"):
        out = neutralise(text)
        assert not fence_open_at_end(out), out
        body = comment_body(placed(body=text, suggestion="y = 3"), FP)
        assert body.endswith(f"\n\n<!-- mini-review:fp={FP} -->")
        assert "````suggestion\ny = 3\n````" in body or "```suggestion\ny = 3\n```" in body
        assert not fence_open_at_end(body)


def test_backtick_inside_a_code_span_is_not_an_escape() -> None:
    # The second backtick is unmatched: shown as an entity so it cannot pair with one after it.
    assert neutralise(r"\`<b>` <i>") == r"\`&lt;b&gt;&grave; &lt;i&gt;"


def test_code_block_fence_is_longer_than_any_backtick_run_inside() -> None:
    block = code_block("a = '```'\nb = '````'\n", "suggestion")
    assert block.startswith("`````suggestion\n") and block.endswith("\n`````")
    assert code_block("", "suggestion") == "```suggestion\n```"  # an empty suggestion deletes the lines


def test_code_span_holds_any_path() -> None:
    assert code_span("a`b.py") == "``a`b.py``"
    assert code_span("`x`") == "`` `x` ``"
    assert code_span("odd\nname") == "`odd\\nname`"


def test_title_cannot_break_out_of_the_bold_headline() -> None:
    line = neutralise_line("a**b__c\\ <x>\nnext line @me")
    assert "\n" not in line and "<x>" not in line and not PING.search(line)
    assert "**" not in line


def test_comment_body_applicable_suggestion_is_a_suggestion_block() -> None:
    body = comment_body(placed(title="Wrong value", body="Use 3.", suggestion="y = 3\n"), FP)
    assert body.startswith("**\N{LARGE ORANGE CIRCLE} risk \N{MIDDLE DOT} major: Wrong value**\n\nUse 3.")
    assert "```suggestion\ny = 3\n```" in body
    assert markers_in(body) == {FP}


def test_comment_body_unapplicable_suggestion_is_a_plain_block() -> None:
    left = place_findings(FILES, [finding("a.py", 1, "x = 0", side="old", suggestion="x = 5")]).inline[0]
    body = comment_body(left, FP)
    assert "```\nx = 5\n```" in body
    assert "```suggestion" not in body


def test_comment_body_stays_under_the_limit_and_keeps_its_marker() -> None:
    huge = ("word <b> @you `code` " * 400 + "\n") * 20
    body = comment_body(placed(body=huge, suggestion="z" * 70_000), FP)
    assert len(body) <= MAX_BODY
    assert markers_in(body) == {FP}
    assert "too long to post" in body
    assert not PING.search(body)


def test_a_large_suggestion_that_fits_is_kept() -> None:
    body = comment_body(placed(body="short", suggestion="s" * 60_000), FP)
    assert len(body) <= MAX_BODY and "s" * 60_000 in body and "```suggestion" in body


def test_comment_body_limit_is_respected_for_small_limits_too() -> None:
    body = comment_body(placed(body="line\n" * 500), FP, limit=1_000)
    assert len(body) <= 1_000 and "truncated" in body and markers_in(body) == {FP}


def _summary(**extra: object) -> ReviewSummary:
    values: dict[str, object] = {
        "head_sha": "abcdef1234567890",
        "files_reviewed": 12,
        "files_total": 14,
        "lines_total": 1_250,
        "lines_sent": 1_204,
        "counts": {"lint": 2, "risk": 1},
        "severity_counts": {"major": 1, "nit": 2},
        "inline_count": 3,
        "prompt_tokens": 12_345,
        "cached_tokens": 2_000,
        "completion_tokens": 999,
        "cost_usd": 0.01234,
        "duration_s": 12.34,
        "run_url": "https://review.example/runs/5",
    }
    values.update(extra)
    return ReviewSummary(**values)  # type: ignore[arg-type]


def test_summary_has_counts_coverage_footer_and_link() -> None:
    body = summary_body(_summary(skipped=[("uv.lock", "lockfile", 30), ("b.lock", "lockfile", 16)]))
    assert "3 findings: 2 lint \N{MIDDLE DOT} 1 risk (1 major, 2 nit)" in body
    assert "Reviewed 1,204 of 1,250 changed lines in 12 of 14 files; skipped 2 files (2 lockfile)" in body
    assert "tokens 12,345 in (2,000 cached) / 999 out \N{MIDDLE DOT} $0.0123 \N{MIDDLE DOT} 12.3 s" in body
    assert body.endswith("[Full run](https://review.example/runs/5)")


def test_summary_without_findings_says_so() -> None:
    assert "no findings" in summary_body(_summary(counts={}, severity_counts={}, inline_count=0))


def test_summary_lists_every_skipped_file_and_failed_part() -> None:
    skipped = [(f"gen/file_{i}.py", "generated", i) for i in range(450)]
    failed = [("big.py (part 2/3)", "model timed out")]
    body = summary_body(_summary(skipped=skipped, failed_chunks=failed))
    for path, _, _ in skipped:
        assert f"`{path}`" in body
    assert "`big.py (part 2/3)`: review failed: model timed out" in body
    assert body.count("<details>") == body.count("</details>") == 3


def test_summary_sanitises_notes_notices_and_paths() -> None:
    note = place_findings(FILES, [finding("a.py", 90, "absent and long enough", body="@boss <img> ```\nx")])
    general = place_findings(FILES, [finding("", 0, "", title="@team/all look", suggestion="rm -rf /")])
    body = summary_body(
        _summary(
            notices=["config invalid: <script> @admin"],
            skipped=[("@evil`name<.py", "binary", 0)],
            file_notes=note.file_notes,
            pr_notes=general.pr_notes,
            fingerprints=[FP],
        )
    )
    path_span = "``@evil`name<.py``"  # inside a code span GitHub neither pings nor renders HTML
    assert path_span in body
    assert not PING.search(body.replace(path_span, ""))
    assert "<script>" not in body and "<img>" not in body
    assert "_line 90 is not part of the diff_" in body
    assert "  ```\n  rm -rf /\n  ```" in body  # indented into its list item
    assert not fence_open_at_end(body)
    assert markers_in(body) == {FP}


def test_summary_ignores_a_run_url_that_is_not_http() -> None:
    assert "Full run" not in summary_body(_summary(run_url="javascript:alert(1)"))


def test_review_failed_body() -> None:
    body = review_failed("every part failed: <timeout> @ops", "https://review.example/runs/9")
    assert body.startswith("**mini-review could not review this pull request.**")
    assert "&lt;timeout&gt;" in body and not PING.search(body)
    assert body.endswith("[Full run](https://review.example/runs/9)")


def test_split_body_keeps_short_text_whole() -> None:
    assert split_body("short") == ["short"]
    assert split_body("") == [""]


def test_split_body_prefers_cuts_outside_code_fences() -> None:
    text = "intro\n```\n" + "code line\n" * 5 + "```\nafter\n"
    parts = split_body(text, limit=60)
    assert "".join(parts) == text
    assert parts[0] == "intro\n"
    assert all(len(p) <= 60 for p in parts)


def test_split_body_prefers_cuts_outside_details_blocks() -> None:
    text = "head\n<details>\n<summary>s</summary>\n\n" + "- item\n" * 6 + "\n</details>\ntail"
    parts = split_body(text, limit=len(text) - 5)
    assert parts == ["head\n", text[5:]]


def test_split_body_cuts_an_overlong_line() -> None:
    parts = split_body("a" * 25 + "\nb", limit=10)
    assert parts == ["a" * 10, "a" * 10, "a" * 5 + "\nb"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["```", "~~~", "text", "", "x" * 30, "````py", "  ```"]) | st.text(max_size=40)),
    st.integers(1, 120),
)
def test_split_body_parts_fit_and_rejoin(lines: list[str], limit: int) -> None:
    text = "\n".join(lines)
    parts = split_body(text, limit)
    assert "".join(parts) == text
    assert all(0 < len(p) <= limit for p in parts) or parts == [""]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("`~@#<>&\\ \nab1-/_*")), max_size=80))
def test_sanitized_text_never_pings_and_never_leaves_a_fence_open(text: str) -> None:
    out = neutralise(text)
    assert not PING.search(out)
    assert not re.search(r"#\d", out)
    assert not fence_open_at_end(out)
    assert markers_in(f"{out}\n\n<!-- mini-review:fp={FP} -->") == {FP}


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("@#<>&ab1 \n")), max_size=60))
def test_text_without_backticks_has_no_raw_html(text: str) -> None:
    out = neutralise(text)
    assert "<" not in out and ">" not in out
    assert out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("\u200b", "") == text


@settings(max_examples=200, deadline=None)
@given(
    title=st.text(max_size=300),
    body=st.text(alphabet=st.sampled_from(list("`~@#<>&\\ \nab1-")), max_size=400).map(lambda t: t * 8),
    suggestion=st.none() | st.text(alphabet=st.sampled_from(list("`~ \nab@")), max_size=300),
    limit=st.integers(600, 5_000),
)
def test_comment_body_always_fits_ends_with_its_marker_and_never_pings(
    title: str, body: str, suggestion: str | None, limit: int
) -> None:
    text = comment_body(placed(title=title or "t", body=body, suggestion=suggestion), FP, limit=limit)
    assert len(text) <= limit
    assert markers_in(text) == {FP}
    assert not fence_open_at_end(text)
    blocks = re.split(r"\n`{3,}suggestion\n|\n\n`{3,}\n", text)
    assert not PING.search(blocks[0])
