"""The dashboard lists a repository's learnings; writers may forget one, readers may not (over HTTP)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.storage.tables import learnings
from tests.e2e.dashboard_harness import OWNER, PRIVATE, DashboardStack, dashboard_stack, repos_with_access

REPO = f"{OWNER}/{PRIVATE}"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DashboardStack]:
    with dashboard_stack(tmp_path, MINI_ACCESS_CACHE_SECONDS=0) as s:
        repos_with_access(s.github)
        yield s


def seed_learning(stack: DashboardStack, title: str) -> int:
    engine = stack._engine()
    try:
        with engine.begin() as conn:
            result = conn.execute(
                learnings.insert().values(
                    repo=REPO,
                    source_key=f"reply:{title}",
                    signature="risk: bug marker",
                    path_pattern="app/**/*.py",
                    category="risk",
                    title=title,
                    fingerprint=None,
                    person="alice",
                    words="false positive <b>",
                    source="reply",
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
            return int(result.inserted_primary_key[0])
    finally:
        engine.dispose()


def _csrf(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_writers_forget_a_learning_readers_only_see_them(stack: DashboardStack) -> None:
    kept = seed_learning(stack, "Bug marker left in code")
    gone = seed_learning(stack, "Unused <script>variable</script>")
    bob = stack.sign_in("bob")
    page = bob.get(f"/repos/{REPO}").text
    assert "What mini-review learned (2)" in page and "Bug marker left in code" in page
    assert "&lt;script&gt;" in page and "<script>variable" not in page  # escaped: it came from a PR
    assert f'id="forget-{kept}"' not in page
    refused = bob.post(f"/repos/{REPO}/learnings/{gone}/delete", data={"csrf": _csrf(bob.get("/").text)})
    assert refused.status_code == 403
    alice = stack.sign_in("alice")
    page = alice.get(f"/repos/{REPO}").text
    assert f'id="forget-{gone}"' in page
    forged = alice.post(f"/repos/{REPO}/learnings/{gone}/delete", data={"csrf": "forged"})
    assert forged.status_code == 403
    done = alice.post(f"/repos/{REPO}/learnings/{gone}/delete", data={"csrf": _csrf(page)})
    assert done.status_code == 200 and "What mini-review learned (1)" in done.text
    listed = alice.get(f"/api/repos/{REPO}").json()["learnings"]
    assert [item["id"] for item in listed] == [kept] and listed[0]["person"] == "alice"
    again = alice.post(f"/repos/{REPO}/learnings/{gone}/delete", data={"csrf": _csrf(page)})
    assert again.status_code == 404
