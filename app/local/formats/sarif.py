"""SARIF 2.1.0 output (`--format sarif`) for GitHub code scanning and other SARIF viewers.

One rule per category; each result sits on the head version's lines and carries our fingerprint as a
partial fingerprint, so code scanning recognises the same finding across runs. Findings on removed
lines (which have no head line) and file-level findings are located on the file without a region.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import quote

from app.local.engine import LocalFinding, LocalReport
from app.review.findings import Category, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "miniReviewFingerprint/v1"
_RULES: dict[Category, tuple[str, str]] = {
    Category.LINT: ("Lint", "Style, naming, dead code and other maintainability problems in changed lines."),
    Category.TEST: ("Test", "Changed behaviour without tests, and tests that do not check what they claim."),
    Category.RISK: ("Risk", "Bugs, security and data-loss risks, concurrency and error handling problems."),
}
_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.MAJOR: "error",
    Severity.MINOR: "warning",
    Severity.NIT: "note",
}


def _tool_version() -> str:
    try:
        return version("mini-review")
    except PackageNotFoundError:
        return "0"


def rule_id(category: Category) -> str:
    return f"mini-review/{category.value}"


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": rule_id(category),
            "name": name,
            "shortDescription": {"text": f"mini-review {name.lower()} finding"},
            "fullDescription": {"text": description},
            "defaultConfiguration": {"level": "warning"},
            "properties": {"tags": ["mini-review", category.value]},
        }
        for category, (name, description) in _RULES.items()
    ]


def _location(item: LocalFinding) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": quote(item.path, safe="/"), "uriBaseId": "%SRCROOT%"}
    }
    line = item.head_line
    if line is not None and line >= 1:
        start = item.start_line if item.start_line is not None and item.start_line >= 1 else line
        physical["region"] = {"startLine": start, "endLine": line}
    return {"physicalLocation": physical}


def _result(item: LocalFinding, rule_index: dict[Category, int]) -> dict[str, Any]:
    f = item.finding
    text = f.title if not f.body else f"{f.title}\n\n{f.body}"
    result: dict[str, Any] = {
        "ruleId": rule_id(f.category),
        "ruleIndex": rule_index[f.category],
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "partialFingerprints": {FINGERPRINT_KEY: item.fingerprint},
        "properties": {"severity": f.severity.value, "confidence": f.confidence},
    }
    if item.path:
        result["locations"] = [_location(item)]
    return result


def build_sarif(report: LocalReport) -> dict[str, Any]:
    rule_index = {category: i for i, category in enumerate(_RULES)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "mini-review", "version": _tool_version(), "rules": _rules()}},
                "results": [_result(item, rule_index) for item in report.findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render_sarif(report: LocalReport) -> str:
    return json.dumps(build_sarif(report), indent=2) + "\n"
