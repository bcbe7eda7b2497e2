"""The posted summary rendered for the run page: markdown becomes HTML, nothing active survives."""

from __future__ import annotations

import pytest

from app.dashboard.render import render_markdown


def test_markdown_and_our_details_blocks_render() -> None:
    html = render_markdown("**2 findings**\n\n<details><summary>Skipped</summary>\n\n- `a.lock`\n</details>")
    assert "<strong>2 findings</strong>" in html
    assert "<details><summary>Skipped</summary>" in html and "<code>a.lock</code>" in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "![x](http://evil.invalid/a.png)",
        '<iframe src="http://evil.invalid"></iframe>',
        '<p style="background:url(http://evil.invalid)">x</p>',
        '<svg onload="alert(1)"></svg>',
    ],
)
def test_nothing_active_or_remote_survives(payload: str) -> None:
    html = render_markdown(f"before {payload} after").lower()
    for bad in ("<script", "onerror=", 'href="javascript', "<img", "<iframe", "style=", "onload=", "src="):
        assert bad not in html, (payload, html)


def test_links_are_marked_and_kept_when_http() -> None:
    html = render_markdown("[run](https://review.example/runs/1)")
    assert 'href="https://review.example/runs/1"' in html and "noopener" in html
