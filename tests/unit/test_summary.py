"""The check run's verdict and title (pure)."""

from app.config.repo_config import RepoConfig
from app.pipeline.summary import check_conclusion, check_title
from app.publish.markdown import ReviewSummary
from app.review.findings import Category, Finding, Severity


def _finding(severity: Severity) -> Finding:
    return Finding(
        category=Category.RISK,
        severity=severity,
        confidence=0.9,
        path="a.py",
        line=1,
        quote="",
        title="t",
        body="b",
    )


def test_conclusion_is_neutral_success_or_opt_in_failure() -> None:
    plain = RepoConfig()
    strict = RepoConfig.model_validate({"fail_on": "major"})
    assert check_conclusion(plain, [], failed=False) == "success"
    assert check_conclusion(plain, [_finding(Severity.CRITICAL)], failed=False) == "neutral"
    assert check_conclusion(strict, [_finding(Severity.MINOR)], failed=False) == "neutral"
    assert check_conclusion(strict, [_finding(Severity.MAJOR)], failed=False) == "failure"
    assert check_conclusion(strict, [_finding(Severity.CRITICAL)], failed=True) == "neutral"


def test_title_counts_categories() -> None:
    summary = ReviewSummary(head_sha="h", counts={"lint": 2, "test": 0, "risk": 1})
    assert check_title(summary, failed=False) == "3 findings: 2 lint, 1 risk"
    assert check_title(ReviewSummary(head_sha="h"), failed=False) == "No findings"
    assert check_title(summary, failed=True).startswith("Review failed")
