"""Report formats and exit codes of `mini-review review`, from plain values (no model, no git)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sarif_kit.validate import validation_errors

from app.diff.model import Side
from app.diff.parse import parse_unified_diff
from app.diff.plan import ReviewPlan
from app.local.command import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, exit_code, parse_only
from app.local.engine import LocalFinding, LocalReport
from app.local.formats.sarif import build_sarif
from app.local.formats.terminal import printable
from app.local.formats.workflow import escape_data, escape_property, render_workflow_commands
from app.review.findings import Category, Finding, Severity
from app.review.reviewer import ChunkFailure

DIFF = b"diff --git a/a b.py b/a b.py\n--- a/a b.py\n+++ b/a b.py\n@@ -1,2 +1,3 @@\n x = 1\n+y = 2\n z = 3\n"


def _finding(severity: str = "major", **values: object) -> Finding:
    base: dict[str, object] = {
        "category": "risk",
        "severity": severity,
        "confidence": 0.9,
        "path": "a b.py",
        "line": 2,
        "quote": "y = 2",
        "title": "Title, with: punctuation",
        "body": "Line one\nline two 100%",
    }
    base.update(values)
    return Finding.model_validate(base)


def _report(*items: LocalFinding, failed: int = 0) -> LocalReport:
    files = {f.path: f for f in parse_unified_diff(DIFF)}
    plan = ReviewPlan(chunks=[], skipped=[], lines_total=1, lines_sent=1, lines_skipped=0, tokens_planned=0)
    report = LocalReport(files=files, plan=plan, findings=list(items))
    report.failed = [ChunkFailure("a b.py", 1, 1, "boom")] * failed
    return report


def _at(finding: Finding, line: int | None = 2, side: Side | None = Side.RIGHT) -> LocalFinding:
    return LocalFinding(
        finding=finding, path=finding.path, fingerprint="0123456789abcdef", line=line, side=side
    )


def test_exit_codes() -> None:
    major = _at(_finding("major"))
    assert exit_code(_report(major), None) == EXIT_OK
    assert exit_code(_report(major), Severity.MAJOR) == EXIT_FINDINGS
    assert exit_code(_report(major), Severity.CRITICAL) == EXIT_OK
    assert exit_code(_report(major, failed=1), Severity.MAJOR) == EXIT_INCOMPLETE


def test_parse_only() -> None:
    assert parse_only("risk, test") == frozenset({Category.RISK, Category.TEST})
    assert parse_only(None) is None


def test_workflow_commands_escape_properties_and_data() -> None:
    out = render_workflow_commands(_report(_at(_finding())))
    first = out.splitlines()[0]
    assert first.startswith(
        "::error file=a b.py,line=2,title=mini-review risk/major%3A Title%2C with%3A punctuation::"
    )
    assert first.endswith("::Line one%0Aline two 100%25")


@given(st.text())
def test_escaped_text_never_breaks_a_command(text: str) -> None:
    assert "\n" not in escape_data(text) and "\r" not in escape_data(text)
    assert ":" not in escape_property(text) and "," not in escape_property(text)


@given(st.text())
def test_printable_leaves_no_terminal_control(text: str) -> None:
    cleaned = printable(text)
    assert not any(ord(c) < 32 and c not in "\t\n" for c in cleaned)
    assert "\x1b" not in cleaned and "\x9b" not in cleaned


def test_sarif_is_valid_and_places_head_lines_only() -> None:
    right = _at(_finding())
    left = _at(_finding("nit", side="old", title="Removed"), line=1, side=Side.LEFT)
    whole = LocalFinding(finding=_finding("minor", path=""), path="", fingerprint="fedcba9876543210")
    sarif = build_sarif(_report(right, left, whole))
    assert validation_errors(sarif) == []
    results = sarif["runs"][0]["results"]
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "endLine": 2}
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a%20b.py"
    assert "region" not in results[1]["locations"][0]["physicalLocation"]
    assert "locations" not in results[2]
    assert [r["level"] for r in results] == ["error", "note", "warning"]
