"""The dashboard in a real browser (Debian chromium through Playwright): sign in, browse, live runs,
writer actions, XSS payloads, and no request to any other origin. Screenshots land in artifacts/."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.dashboard_harness import (
    INSTALLATION,
    OWNER,
    PRIVATE,
    DashboardStack,
    dashboard_stack,
    repos_with_access,
)
from tests.e2e.harness import summary_comments, wait_for

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PRIVATE_REPO = f"{OWNER}/{PRIVATE}"
XSS_TITLE = '<script>window.__xss = 1</script><img src="http://evil.invalid/t.png" onerror="window.__xss=2">'
XSS_PATH = 'src/<img src=x onerror="window.__xss=3">.py'
XSS_BODY = '<img src="http://evil.invalid/b.png" onerror="alert(1)"> see [docs](javascript:alert(2))'

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Watch:
    """What a page did that it should not: dialogs, and requests to other origins."""

    origin: str
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign(self, allowed: tuple[str, ...] = ()) -> list[str]:
        ok = (self.origin, *allowed)
        return [u for u in self.requests if _origin(u) not in ok and not u.startswith("data:")]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DashboardStack]:
    with dashboard_stack(tmp_path, MINI_ACCESS_CACHE_SECONDS=0) as s:
        repos_with_access(s.github)
        yield s


def open_page(browser: object, stack: DashboardStack) -> tuple[object, Watch]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    watch = Watch(origin=stack.url)
    page.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: watch.requests.append(r.url))
    return page, watch


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def seed_history(stack: DashboardStack) -> dict[str, str]:
    """A month of runs on the private repo: posted, failed, skipped, incremental follow-ups."""
    now = dt.datetime.now(dt.UTC)
    progress = {"pr_title": "Add the payment retry", "installation_id": INSTALLATION}
    ids: dict[str, str] = {}
    findings = [
        {"path": "pay/retry.py", "line": 12, "category": "risk", "severity": "major", "confidence": 0.9,
         "title": "Retry loop never stops", "body": "No upper bound on attempts.",
         "outcome": "inline comment"},
        {"path": "pay/retry.py", "line": 30, "category": "test", "severity": "minor", "confidence": 0.7,
         "title": "No test for the backoff", "body": "Add one.", "outcome": "summary: below thresholds"},
    ]  # fmt: skip
    for day in range(12):
        started = now - dt.timedelta(days=day, hours=1)
        status = "failed" if day % 5 == 4 else "posted"
        stack.seed_run(
            PRIVATE_REPO,
            100 + day,
            started_at=started,
            finished_at=started + dt.timedelta(seconds=40),
            status=status,
            error="every chunk failed: model timed out" if status == "failed" else None,
            trigger="pull_request.synchronize" if day % 2 else "pull_request.opened",
            cost_usd=0.002 * (day % 4 + 1),
            findings=findings if status == "posted" else [],
            skipped=[{"path": "poetry.lock", "reason": "lock file", "lines": 900}],
            progress={"pr_title": f"Change number {day}", "installation_id": INSTALLATION},
        )
    first = now - dt.timedelta(hours=5)
    ids["first"] = stack.seed_run(
        PRIVATE_REPO, 7, started_at=first, finished_at=first + dt.timedelta(seconds=52), status="posted",
        mode="full", findings=findings, inline_count=1, cost_usd=0.0042, review_id=555, check_run_id=777,
        prompt_tokens=5200, completion_tokens=800, model_calls=3, files_total=3, files_reviewed=2,
        timings={"fetch_pull": 0.2, "fetch_files": 0.4, "plan": 0.01, "model": 48.0, "publish": 1.2},
        skipped=[{"path": "vendor/lib.min.js", "reason": "generated or vendored", "lines": 4000}],
        summary="**2 findings** in 2 files.\n\n<details><summary>Not reviewed</summary>\n\n"
        "- `vendor/lib.min.js`\n</details>",
        progress={**progress, "reviewed_files": ["pay/retry.py", "pay/api.py"], "chunks_total": 2,
                  "chunks_done": 2},
    )  # fmt: skip
    later = now - dt.timedelta(hours=2)
    ids["second"] = stack.seed_run(
        PRIVATE_REPO, 7, started_at=later, status="posted", mode="incremental", head_sha="b" * 40,
        trigger="pull_request.synchronize", inline_count=0, cost_usd=0.001,
        progress={**progress, "reviewed_files": ["pay/retry.py"]},
    )  # fmt: skip
    ids["superseded"] = stack.seed_run(
        PRIVATE_REPO, 7, started_at=now - dt.timedelta(hours=1), status="superseded", head_sha="c" * 40,
        trigger="pull_request.synchronize", error="head moved to dddd before posting", progress=progress,
    )  # fmt: skip
    return ids


def sign_in(page: object, stack: DashboardStack, login: str) -> None:
    stack.github.oauth.sign_in_as(login)
    page.goto(stack.url + "/")  # type: ignore[attr-defined]
    page.click("#sign-in")  # type: ignore[attr-defined]
    page.wait_for_selector("#signed-in-as")  # type: ignore[attr-defined]
    assert page.inner_text("#signed-in-as") == login  # type: ignore[attr-defined]


def test_sign_in_then_repo_pr_run_in_three_clicks_then_sign_out(
    browser: object, stack: DashboardStack
) -> None:
    ids = seed_history(stack)
    page, watch = open_page(browser, stack)
    page.goto(stack.url + "/")
    assert PRIVATE_REPO not in page.inner_text("main")
    sign_in(page, stack, "bob")
    watch.requests.clear()  # from here on, nothing may leave for another origin
    shot(page, "home")
    page.click(f"text={PRIVATE_REPO}")
    page.wait_for_selector("#runs")
    shot(page, "repo")
    assert page.locator("svg.chart").count() == 3
    assert "lock file" in page.inner_text("#skip-reasons")
    # PR 7's comment on retry.py was followed by a push touching it; the other PRs saw no push.
    assert "(1 of 11)" in page.inner_text("#addressed")
    page.click("a[href$='/pulls/7']")
    page.wait_for_selector("#timeline")
    shot(page, "pull")
    timeline = page.inner_text("#timeline")
    assert "superseded: head moved" in timeline and "posted a review with 1 inline comment" in timeline
    page.click(f"a[href='/runs/{ids['first']}']")
    page.wait_for_selector("#findings")
    shot(page, "run")
    assert page.inner_text("#run-status") == "posted"
    assert "Retry loop never stops" in page.inner_text("#findings")
    assert page.get_attribute("#link-review", "href").endswith("/pull/7#pullrequestreview-555")
    assert page.get_attribute("#link-check", "href").endswith(f"/{PRIVATE_REPO}/runs/777")
    assert page.locator("#summary strong").inner_text() == "2 findings"  # rendered, not raw markdown
    assert "generated or vendored" in page.inner_text("#skipped")
    assert "pay/api.py" in page.inner_text("#reviewed")
    assert watch.foreign() == [] and watch.dialogs == []
    page.click("#sign-out")
    page.wait_for_selector("#sign-in")
    assert PRIVATE_REPO not in page.inner_text("main")
    stack.github.oauth.sign_in_as(None)  # signed out of GitHub too: its sign-in page shows
    page.goto(f"{stack.url}/runs/{ids['first']}")
    assert "/login/oauth/authorize" in page.url and "Retry loop" not in page.content()


def test_filters_and_pages(browser: object, stack: DashboardStack) -> None:
    now = dt.datetime.now(dt.UTC)
    for i in range(30):
        stack.seed_run(
            PRIVATE_REPO, 1 + i % 3, started_at=now - dt.timedelta(minutes=i),
            status="failed" if i % 3 == 0 else "posted",
            trigger="command:review" if i % 2 else "pull_request.opened",
        )  # fmt: skip
    page, watch = open_page(browser, stack)
    sign_in(page, stack, "bob")
    watch.requests.clear()
    page.goto(f"{stack.url}/repos/{PRIVATE_REPO}")
    assert page.inner_text("#run-count") == "30 runs"
    assert page.locator("tr.run-row").count() == 25
    page.click("#next-page")
    page.wait_for_url("**page=2**")
    assert page.locator("tr.run-row").count() == 5
    page.select_option("#filter-status", "failed")
    page.click("#apply-filters")
    page.wait_for_url("**status=failed**")
    statuses = page.locator("tr.run-row").evaluate_all("rows => rows.map(r => r.dataset.status)")
    assert statuses and set(statuses) == {"failed"} and page.inner_text("#run-count") == "10 runs"
    page.fill("#filter-pr", "1")
    page.select_option("#filter-trigger", "pull_request.opened")
    page.click("#apply-filters")
    page.wait_for_url("**pr=1**")
    # i % 3 == 0 (failed, PR 1) and i even (opened): i in 0, 6, 12, 18, 24
    assert page.inner_text("#run-count") == "5 runs"
    assert watch.foreign() == []


def test_a_running_review_updates_itself_without_a_reload(browser: object, stack: DashboardStack) -> None:
    expect = sync_api.expect
    run_id = stack.seed_run(
        PRIVATE_REPO, 9, status="running",
        progress={"pr_title": "Live one", "installation_id": INSTALLATION, "stage": "model",
                  "chunks_total": 4, "chunks_done": 1},
    )  # fmt: skip
    page, watch = open_page(browser, stack)
    sign_in(page, stack, "bob")
    watch.requests.clear()
    page.goto(f"{stack.url}/runs/{run_id}")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    assert page.inner_text("#progress-chunks") == "1 of 4"
    shot(page, "run-live")
    stack.report_progress(run_id, chunks_done=3)
    expect(page.locator("#progress-chunks")).to_have_text("3 of 4")  # polls; no eval under our CSP
    stack.report_progress(run_id, chunks_done=4, stage="publish")
    expect(page.locator("#progress-stage")).to_have_text("publish")
    stack.update_run(
        run_id, status="posted", finished_at=dt.datetime.now(dt.UTC), inline_count=0,
        findings=[{"path": "a.py", "line": 1, "category": "lint", "severity": "minor", "confidence": 0.6,
                   "title": "Late finding", "body": "x", "outcome": "summary: below thresholds"}],
    )  # fmt: skip
    expect(page.locator("#run-status")).to_have_text("posted")
    page.wait_for_selector("text=Late finding")
    assert page.locator("#progress").is_hidden()
    assert navigations == []  # updated in place
    assert watch.foreign() == []


def test_a_writer_reruns_a_review_and_a_reader_sees_no_button(browser: object, stack: DashboardStack) -> None:
    stack.github.add_pull(
        OWNER, PRIVATE, 5, head_sha="e" * 40, base_sha="f" * 40,
        files=[{"filename": "app.py", "patch": "@@ -1,1 +1,2 @@\n x = 1\n+y = 2"}],
    )  # fmt: skip
    stack.seed_run(PRIVATE_REPO, 5, head_sha="e" * 40, progress={"installation_id": INSTALLATION})
    reader, _ = open_page(browser, stack)
    sign_in(reader, stack, "bob")
    reader.goto(f"{stack.url}/repos/{PRIVATE_REPO}/pulls/5")
    assert reader.locator("#rerun-button").count() == 0
    writer, watch = open_page(browser, stack)
    sign_in(writer, stack, "alice")
    watch.requests.clear()
    writer.goto(f"{stack.url}/repos/{PRIVATE_REPO}/pulls/5")
    writer.click("#rerun-button")
    writer.wait_for_url(f"**/repos/{PRIVATE_REPO}/pulls/5")

    def rerun_status() -> str | None:
        with sqlite3.connect(stack.db_path) as conn:
            row = conn.execute("select status from runs where trigger = 'dashboard:rerun'").fetchone()
        return row[0] if row and row[0] != "running" else None

    assert wait_for(rerun_status, what="the re-run review") == "posted"
    # Nothing to say inline: no review; the run is on the PR as its one summary comment.
    assert stack.github.reviews(OWNER, PRIVATE, 5) == []
    assert len(summary_comments(stack.github, OWNER, PRIVATE, 5)) == 1
    writer.reload()
    assert "dashboard:rerun" in writer.inner_text("#timeline")
    assert watch.foreign() == []


def test_payloads_in_titles_paths_and_findings_execute_nothing(
    browser: object, stack: DashboardStack
) -> None:
    run_id = stack.seed_run(
        PRIVATE_REPO, 13, status="posted", review_id=1,
        findings=[{"path": XSS_PATH, "line": 2, "category": "risk", "severity": "major", "confidence": 0.9,
                   "title": XSS_TITLE, "body": XSS_BODY, "outcome": "inline comment"}],
        skipped=[{"path": XSS_PATH, "reason": XSS_BODY, "lines": 1}],
        summary=f"Summary {XSS_TITLE}\n\n[link](javascript:alert(3)) and {XSS_BODY}\n\n![x](http://evil.invalid/i.png)",
        error=XSS_TITLE,
        progress={"pr_title": XSS_TITLE, "installation_id": INSTALLATION, "reviewed_files": [XSS_PATH]},
    )  # fmt: skip
    page, watch = open_page(browser, stack)
    sign_in(page, stack, "bob")
    watch.requests.clear()
    for url in ("/", f"/repos/{PRIVATE_REPO}", f"/repos/{PRIVATE_REPO}/pulls/13", f"/runs/{run_id}"):
        page.goto(stack.url + url)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss === undefined")
    shot(page, "run-xss")
    assert XSS_TITLE in page.inner_text("#pr-title")  # shown as text
    hrefs = page.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href') || '')")
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")]
    assert watch.dialogs == []
    assert watch.foreign() == []
