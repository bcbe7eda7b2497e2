"""Hostile situations on in-process port fakes: planted markers, unreadable configs, forks, budgets."""

from __future__ import annotations

import pytest

from app.github.models import PostedText, ReviewComment
from app.publish.fingerprint import fingerprint, marker
from app.storage.models import RunStatus
from tests.fakes.ports import BOT
from tests.unit.pipeline.builders import added_file, finding, source
from tests.unit.pipeline.harness import Bench

TOTAL = "src/total.py"


@pytest.fixture
def bench() -> Bench:
    bench = Bench()
    bench.open_pr([added_file(TOTAL, source(10))])
    return bench


def planted(bench: Bench, login: str) -> None:
    """Someone posts the marker of the finding the model is about to report, to silence it."""
    fp = fingerprint(TOTAL, "risk", "value_3 = compute(3)")
    pull_ = bench.github.pulls[7]
    pull_.issue_comments.append(PostedText(body=f"lgtm\n\n{marker(fp)}", user_login=login, user_type="Bot"))
    pull_.review_comments.append(
        ReviewComment(id=1, body=f"nit\n\n{marker(fp)}", path=TOTAL, line=3, user_login=login)
    )


@pytest.mark.parametrize("login", ["other-app[bot]", "dependabot[bot]", "mini-review", "octocat"])
async def test_markers_from_anyone_but_this_app_are_not_trusted(bench: Bench, login: str) -> None:
    planted(bench, login)
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run() is RunStatus.POSTED
    assert len(bench.only_review().comments) == 1


async def test_markers_from_this_app_still_prevent_repeats(bench: Bench) -> None:
    planted(bench, BOT)
    bench.answer({TOTAL: [finding(TOTAL, 3)]})
    assert await bench.run() is RunStatus.POSTED
    assert bench.only_review().comments == []
