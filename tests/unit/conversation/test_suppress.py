from __future__ import annotations

import datetime as dt

from app.conversation.learnings import LearningSource, new_learning
from app.conversation.store import FindingState, PostedFindingRecord
from app.conversation.suppress import NOT_REPEATED, SUPPRESSED_BY_LEARNING, suppress, suppressed_rows
from app.review.findings import Category, Finding, Severity
from app.review.redact import SECRET_TITLE

NOW = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)


def finding(path: str, title: str = "Bug marker left in code", quote: str = "# BUG", **kw: object) -> Finding:
    values: dict[str, object] = {
        "category": Category.RISK,
        "severity": Severity.MAJOR,
        "confidence": 0.9,
        "path": path,
        "line": 3,
        "quote": quote,
        "title": title,
        "body": "Fix it.",
    }
    values.update(kw)
    return Finding.model_validate(values)


def record(path: str, state: FindingState, title: str = "Bug marker left in code") -> PostedFindingRecord:
    return PostedFindingRecord(
        fingerprint="f" * 16,
        path=path,
        line=3,
        category="risk",
        severity="major",
        title=title,
        body="b",
        quote="# BUG",
        state=state,
    )


def test_learnings_suppress_similar_findings_and_say_which_learning() -> None:
    learning = new_learning(
        repo="o/r",
        path="app/run.py",
        category="risk",
        title="Bug marker left in code",
        fp=None,
        person="lead",
        words="false positive",
        source=LearningSource.REACTION,
        now=NOW,
    ).model_copy(update={"id": 3})
    other = finding("app/x.py", title="Possible SQL injection")
    kept, dropped = suppress([finding("app/run.py"), finding("app/extra.py"), other], [learning], [])
    assert kept == [other]
    assert [d.finding.path for d in dropped] == ["app/run.py", "app/extra.py"]
    assert all(d.outcome.startswith(f"{SUPPRESSED_BY_LEARNING} #3") and d.learning_id == 3 for d in dropped)
    rows = suppressed_rows(dropped)
    assert (
        rows[0]["outcome"] == "suppressed by learning #3 (reaction by lead)"
        and rows[1]["path"] == "app/extra.py"
    )


def test_closed_threads_are_not_repeated_on_the_same_file_but_open_ones_do_not_block() -> None:
    closed = [record("app/run.py", FindingState.RESOLVED), record("app/open.py", FindingState.OPEN)]
    kept, dropped = suppress(
        [
            finding("app/run.py", title="Bug marker still in code"),
            finding("app/open.py"),
            finding("app/new.py"),
        ],
        [],
        closed,
    )
    assert [f.path for f in kept] == ["app/open.py", "app/new.py"]
    assert dropped[0].outcome == f"{NOT_REPEATED} (resolved)"


def test_secret_warnings_are_never_suppressed() -> None:
    secret = finding("app/run.py", title=SECRET_TITLE)
    kept, dropped = suppress([secret], [], [record("app/run.py", FindingState.DISMISSED, SECRET_TITLE)])
    assert kept == [secret] and dropped == []
