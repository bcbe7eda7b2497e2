"""Plain values for pipeline tests: a PR, its files as the files API lists them, findings, settings."""

from __future__ import annotations

from app.github.models import PullFile, PullRequestInfo, RepoRef
from app.jobs.models import ReviewJob
from app.review.findings import Category, Finding, Severity
from app.settings import Settings

REPO = RepoRef(owner="acme", name="shop", installation_id=7)
CONFIG = ".github/mini-review.yml"


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "GITHUB_APP_ID": 1,
        "GITHUB_APP_PRIVATE_KEY": "unused in these tests",
        "GITHUB_WEBHOOK_SECRET": "unused",
        "OPENAI_API_KEY": "unused",
        "PUBLIC_URL": "https://review.example",
    }
    values.update(overrides)
    return Settings.model_validate(values)


def pull(
    number: int = 7,
    *,
    head: str = "h1" * 20,
    state: str = "open",
    draft: bool = False,
    title: str = "Add the checkout total",
    author: str = "dev",
) -> PullRequestInfo:
    return PullRequestInfo(
        number=number,
        title=title,
        body="Computes totals.",
        draft=draft,
        state=state,
        head_sha=head,
        head_ref="feature",
        base_sha="b0" * 20,
        base_ref="main",
        author_login=author,
        author_type="User",
        html_url=f"https://github.com/acme/shop/pull/{number}",
    )


def added_file(path: str, lines: list[str]) -> PullFile:
    """A new file: every line is added, so every line takes a RIGHT-side comment."""
    patch = f"@@ -0,0 +1,{len(lines)} @@\n" + "\n".join(f"+{line}" for line in lines)
    return PullFile(filename=path, status="added", additions=len(lines), changes=len(lines), patch=patch)


def source(n: int, name: str = "value") -> list[str]:
    return [f"{name}_{i} = compute({i})" for i in range(1, n + 1)]


def finding(
    path: str,
    line: int,
    *,
    quote: str | None = None,
    category: Category = Category.RISK,
    severity: Severity = Severity.MAJOR,
    confidence: float = 0.9,
    title: str = "Total ignores tax",
) -> Finding:
    return Finding(
        category=category,
        severity=severity,
        confidence=confidence,
        path=path,
        line=line,
        quote=quote if quote is not None else f"value_{line} = compute({line})",
        title=title,
        body="The total is computed before tax is applied.",
    )


def job(number: int = 7, *, trigger: str = "pull_request.opened", **values: object) -> ReviewJob:
    return ReviewJob.model_validate(
        {"repo": REPO, "number": number, "head_sha": "h1" * 20, "trigger": trigger, **values}
    )
