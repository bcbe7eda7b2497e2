"""The GitHub adapter driven through the real githubkit client against the fake GitHub over HTTP."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import pytest

from app.errors import ConfigError, GitHubPermanentError, GitHubRetryableError, ReviewRejectedError
from app.github.client import GitHubAppClient, RetryPolicy, WritePacer, redact_secrets
from app.github.models import RepoRef
from tests.fakes.github import AppSlot, FakeGitHub
from tests.fakes.server import free_port

HEAD = "a" * 40
BASE = "b" * 40
REPO = RepoRef(owner="octo", name="repo", installation_id=5)
PATCH = "@@ -1,3 +1,4 @@\n import os\n-import sys\n+import re\n+import json\n def main():"
FAST = RetryPolicy(attempts=4, rate_limit_retries=2, backoff_base=0.01, backoff_cap=0.05)


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub(app_id=31337)
    fake.add_repo("octo", "repo", installation_id=5)
    fake.add_pull(
        "octo",
        "repo",
        1,
        head_sha=HEAD,
        base_sha=BASE,
        title="Add parser",
        body=None,
        author="alice",
        files=[
            {"filename": "app.py", "patch": PATCH},
            {"filename": "new.py", "status": "renamed", "previous_filename": "old.py", "patch": PATCH},
            {"filename": "logo.png", "status": "added", "patch": None},
        ],
    )
    return fake


@pytest.fixture
def url(fake: FakeGitHub, server: tuple[AppSlot, str]) -> str:
    server[0].target = fake.app
    return server[1]


def make_client(fake: FakeGitHub, url: str, *, write_interval: float = 0.0) -> GitHubAppClient:
    return GitHubAppClient(
        fake.app_id, fake.private_key_pem, url, retry=FAST, write_interval=write_interval, timeout=5.0
    )


def calls(fake: FakeGitHub, method: str, suffix: str) -> list[float]:
    return [r.time for r in fake.requests if r.method == method and r.path.endswith(suffix)]


# ---- tokens -----------------------------------------------------------------------------------------


async def test_installation_token_is_minted_once_and_reused(fake: FakeGitHub, url: str) -> None:
    client = make_client(fake, url)
    api = await client.for_installation(5)
    assert await client.for_installation(5) is api
    await api.get_pull(REPO, 1)
    await api.list_pull_files(REPO, 1)
    assert fake.token_mints(5) == 1
    auth = [r.headers["authorization"] for r in fake.requests if r.path.startswith("/repos/")]
    assert len(set(auth)) == 1 and auth[0].startswith("token ghs_")


async def test_concurrent_first_calls_mint_one_token(fake: FakeGitHub, url: str) -> None:
    client = make_client(fake, url)
    apis = await asyncio.gather(*(client.for_installation(5) for _ in range(6)))
    await asyncio.gather(*(api.get_pull(REPO, 1) for api in apis))
    assert fake.token_mints(5) == 1


async def test_token_close_to_expiry_is_replaced(fake: FakeGitHub, url: str) -> None:
    fake.token_ttl = 240  # inside the 5-minute refresh margin
    client = make_client(fake, url)
    api = await client.for_installation(5)
    await api.get_pull(REPO, 1)
    assert fake.token_mints(5) == 2


async def test_revoked_token_is_dropped_and_reminted(fake: FakeGitHub, url: str) -> None:
    client = make_client(fake, url)
    api = await client.for_installation(5)
    fake.revoke_tokens(5)
    assert (await api.get_pull(REPO, 1)).number == 1
    assert fake.token_mints(5) == 2


async def test_wrong_app_id_is_a_permanent_error(fake: FakeGitHub, url: str) -> None:
    client = GitHubAppClient(fake.app_id + 1, fake.private_key_pem, url, retry=FAST)
    with pytest.raises(GitHubPermanentError) as info:
        await client.for_installation(5)
    assert info.value.status == 401
    assert fake.token_mints(5) == 0


async def test_unknown_installation_is_a_permanent_error(fake: FakeGitHub, url: str) -> None:
    with pytest.raises(GitHubPermanentError) as info:
        await make_client(fake, url).for_installation(404)
    assert info.value.status == 404


def test_bad_private_key_fails_at_construction() -> None:
    with pytest.raises(ConfigError):
        GitHubAppClient(1, "not a key", "http://127.0.0.1:1")


async def test_repo_of_another_installation_is_refused_locally(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    with pytest.raises(ValueError, match="installation 6"):
        await api.get_pull(RepoRef(owner="octo", name="repo", installation_id=6), 1)


# ---- reads ------------------------------------------------------------------------------------------


async def test_get_pull_reads_our_fields(fake: FakeGitHub, url: str) -> None:
    pull = await (await make_client(fake, url).for_installation(5)).get_pull(REPO, 1)
    assert (pull.number, pull.title, pull.body, pull.draft, pull.state) == (
        1,
        "Add parser",
        None,
        False,
        "open",
    )
    assert (pull.head_sha, pull.base_sha, pull.head_ref, pull.base_ref) == (HEAD, BASE, "feature", "main")
    assert (pull.author_login, pull.author_type) == ("alice", "User")
    assert pull.html_url == "https://github.com/octo/repo/pull/1" and pull.changed_files == 3


async def test_missing_pull_is_permanent(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    with pytest.raises(GitHubPermanentError) as info:
        await api.get_pull(REPO, 2)
    assert info.value.status == 404


async def test_files_are_read_across_pages(fake: FakeGitHub, url: str) -> None:
    files = [{"filename": f"src/f{i:03}.py", "patch": "@@ -0,0 +1 @@\n+x"} for i in range(250)]
    fake.add_pull("octo", "repo", 2, head_sha="c" * 40, base_sha=BASE, files=files)
    api = await make_client(fake, url).for_installation(5)
    got = await api.list_pull_files(REPO, 2)
    assert [f.filename for f in got] == [f"src/f{i:03}.py" for i in range(250)]
    assert got[0].additions == 1 and got[0].patch == "@@ -0,0 +1 @@\n+x"
    pages = [r.query for r in fake.requests if r.path.endswith("/pulls/2/files")]
    assert pages == [{"per_page": "100", "page": str(n)} for n in (1, 2, 3)]


async def test_file_entries_keep_renames_and_missing_patches(fake: FakeGitHub, url: str) -> None:
    got = await (await make_client(fake, url).for_installation(5)).list_pull_files(REPO, 1)
    by_name = {f.filename: f for f in got}
    assert by_name["new.py"].previous_filename == "old.py" and by_name["new.py"].status == "renamed"
    assert by_name["logo.png"].patch is None and by_name["app.py"].deletions == 1


async def test_files_stop_at_3000(fake: FakeGitHub, url: str) -> None:
    fake.add_pull(
        "octo", "repo", 3, head_sha="d" * 40, base_sha=BASE, files=[{"filename": f"{i}"} for i in range(3050)]
    )
    got = await (await make_client(fake, url).for_installation(5)).list_pull_files(REPO, 3)
    assert len(got) == 3000
    assert len(calls(fake, "GET", "/pulls/3/files")) == 30


async def test_compare_files_and_none_when_unknown_or_capped(fake: FakeGitHub, url: str) -> None:
    fake.set_compare("octo", "repo", BASE, HEAD, [{"filename": "app.py", "patch": PATCH}])
    many = [{"filename": f"{i}.py"} for i in range(300)]
    fake.set_compare("octo", "repo", BASE, "e" * 40, many)
    api = await make_client(fake, url).for_installation(5)
    got = await api.compare_files(REPO, BASE, HEAD)
    assert got is not None and [f.filename for f in got] == ["app.py"]
    assert await api.compare_files(REPO, "9" * 40, HEAD) is None  # force-pushed away
    assert await api.compare_files(REPO, BASE, "e" * 40) is None  # may be truncated


async def test_compare_diff_tells_missing_from_truncated_and_knows_pr_heads(
    fake: FakeGitHub, url: str
) -> None:
    api = await make_client(fake, url).for_installation(5)
    # base...head of the PR's own head: the PR's diff at that head, with no registration needed.
    got = await api.compare_diff(REPO, BASE, HEAD)
    assert got.status == "ok" and [f.filename for f in got.files] == ["app.py", "new.py", "logo.png"]
    fake.set_compare("octo", "repo", BASE, "e" * 40, [{"filename": f"{i}.py"} for i in range(301)])
    assert (await api.compare_diff(REPO, BASE, "e" * 40)).status == "truncated"
    fake.push("octo", "repo", 1, "f" * 40, [{"filename": "app.py", "patch": PATCH}], force=True)
    assert (await api.compare_diff(REPO, BASE, HEAD)).status == "missing"  # force-pushed away
    assert (await api.compare_diff(REPO, BASE, "f" * 40)).status == "ok"


async def test_update_issue_comment_edits_ours_and_says_when_it_is_gone(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    comment_id = await api.create_issue_comment(REPO, 1, "first")
    assert await api.update_issue_comment(REPO, comment_id, "second")
    texts = await api.list_issue_comment_texts(REPO, 1)
    assert [(t.id, t.body, t.by_bot) for t in texts] == [(comment_id, "second", True)]
    fake.delete_issue_comment("octo", "repo", comment_id)
    assert not await api.update_issue_comment(REPO, comment_id, "third")
    human = fake.add_issue_comment("octo", "repo", 1, "mine")
    with pytest.raises(GitHubPermanentError):
        await api.update_issue_comment(REPO, human, "not yours")


async def test_get_file_decodes_and_404_is_none(fake: FakeGitHub, url: str) -> None:
    content = ("review:\n  max_comments: 10\n" * 20).encode()
    fake.set_file("octo", "repo", "main", ".github/mini-review.yml", content)
    api = await make_client(fake, url).for_installation(5)
    assert await api.get_file(REPO, ".github/mini-review.yml", "main") == content
    assert await api.get_file(REPO, ".github/mini-review.yml", HEAD) is None
    assert await api.get_file(REPO, "nope.yml", "main") is None


async def test_permission_reads_the_precise_role(fake: FakeGitHub, url: str) -> None:
    fake.set_permission("octo", "repo", "maint", "maintain")
    fake.set_permission("octo", "repo", "tri", "triage")
    api = await make_client(fake, url).for_installation(5)
    assert await api.get_permission(REPO, "maint") == "maintain"
    assert await api.get_permission(REPO, "tri") == "triage"
    assert await api.get_permission(REPO, "stranger") == "none"


# ---- writes -----------------------------------------------------------------------------------------


async def test_review_is_posted_and_its_comments_listed(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    comments: list[dict[str, object]] = [
        {"path": "app.py", "line": 3, "side": "RIGHT", "body": "json unused?"},
        {"path": "app.py", "line": 2, "side": "LEFT", "body": "sys was used"},
        {"path": "new.py", "start_line": 2, "line": 3, "side": "RIGHT", "body": "range"},
    ]
    review_id = await api.create_review(REPO, 1, commit_id=HEAD, body="2 findings", comments=comments)
    (stored,) = fake.reviews("octo", "repo", 1)
    assert stored["id"] == review_id and stored["state"] == "COMMENTED" and stored["commit_id"] == HEAD
    listed = await api.list_review_comments(REPO, 1)
    assert [(c.path, c.line, c.body) for c in listed] == [
        ("app.py", 3, "json unused?"),
        ("app.py", 2, "sys was used"),
        ("new.py", 3, "range"),
    ]
    assert listed[0].user_login == "mini-review[bot]"


async def test_review_comments_are_read_across_pages(fake: FakeGitHub, url: str) -> None:
    big = "@@ -0,0 +1,150 @@\n" + "\n".join(f"+line {i}" for i in range(150))
    fake.add_pull(
        "octo", "repo", 4, head_sha="f" * 40, base_sha=BASE, files=[{"filename": "big.py", "patch": big}]
    )
    api = await make_client(fake, url).for_installation(5)
    comments: list[dict[str, object]] = [
        {"path": "big.py", "line": n, "body": f"c{n}"} for n in range(1, 151)
    ]
    await api.create_review(REPO, 4, commit_id="f" * 40, body="many", comments=comments)
    listed = await api.list_review_comments(REPO, 4)
    assert [c.line for c in listed] == list(range(1, 151))
    assert len(calls(fake, "GET", "/pulls/4/comments")) == 2


async def test_review_off_the_diff_is_rejected_and_nothing_stored(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    comments: list[dict[str, object]] = [
        {"path": "app.py", "line": 3, "body": "fine"},
        {"path": "app.py", "line": 40, "body": "not in the diff"},
    ]
    with pytest.raises(ReviewRejectedError) as info:
        await api.create_review(REPO, 1, commit_id=HEAD, body="x", comments=comments)
    assert info.value.status == 422 and "Line could not be resolved" in str(info.value)
    assert fake.reviews("octo", "repo", 1) == [] and fake.review_comments("octo", "repo", 1) == []
    assert fake.rejected_reviews == 1
    assert len(calls(fake, "POST", "/pulls/1/reviews")) == 1  # a 422 is never retried


async def test_check_run_create_and_update_history(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    run_id = await api.create_check_run(
        REPO,
        head_sha=HEAD,
        name="mini-review",
        status="queued",
        details_url="https://mr.example/runs/7",
        external_id="run-7",
    )
    await api.update_check_run(REPO, run_id, status="in_progress", started_at=start)
    await api.update_check_run(
        REPO,
        run_id,
        conclusion="neutral",
        completed_at=datetime(2026, 1, 2, 3, 5, tzinfo=UTC),
        title="2 findings",
        summary="See the review",
        text="details",
    )
    history = fake.check_runs("octo", "repo")[run_id]
    assert [s["status"] for s in history] == ["queued", "in_progress", "completed"]
    final = history[-1]
    assert final["conclusion"] == "neutral" and final["external_id"] == "run-7"
    assert final["details_url"] == "https://mr.example/runs/7"
    assert datetime.fromisoformat(final["started_at"]) == start
    assert final["output"] == {"title": "2 findings", "summary": "See the review", "text": "details"}


async def test_check_run_output_needs_title_and_summary(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    with pytest.raises(ValueError, match="title and summary"):
        await api.update_check_run(REPO, 1, summary="no title")


async def test_issue_comment_and_reaction(fake: FakeGitHub, url: str) -> None:
    command = fake.add_issue_comment("octo", "repo", 1, "/mini-review review", user="alice")
    api = await make_client(fake, url).for_installation(5)
    await api.add_reaction(REPO, command)
    await api.add_reaction(REPO, command)  # already there: GitHub answers 200
    comment_id = await api.create_issue_comment(REPO, 1, "On it.")
    assert fake.reactions(command) == ["eyes"]
    assert [c["id"] for c in fake.issue_comments("octo", "repo", 1)] == [command, comment_id]


async def test_writes_are_paced(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url, write_interval=0.15).for_installation(5)
    sent = []
    for n in range(3):
        await api.create_issue_comment(REPO, 1, f"comment {n}")
        sent.append(time.monotonic())
    # A configured floor between writes holds (measured on our side: arrival jitters under load).
    assert all(later - earlier >= 0.14 for earlier, later in zip(sent, sent[1:], strict=False))


async def test_pacer_keeps_the_per_minute_budget() -> None:
    now = [1000.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = WritePacer(min_interval=0.0, per_minute=80, clock=lambda: now[0], sleep=sleep)
    for _ in range(80):
        await pacer.wait()
        now[0] += 0.1
    assert slept == []
    await pacer.wait()  # the 81st write waits until the first leaves the minute window
    assert slept and now[0] == pytest.approx(1060.0)
    hourly = WritePacer(min_interval=0.0, per_minute=1000, per_hour=3, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        await hourly.wait()
    with pytest.raises(GitHubRetryableError) as info:
        await hourly.wait()
    assert info.value.retry_after == pytest.approx(3600.0)


# ---- rate limits and failures ----------------------------------------------------------------------


async def test_secondary_rate_limit_is_waited_out_and_retried(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    fake.fail_next("GET", r"/pulls/1$", 403, headers={"retry-after": "1"})
    assert (await api.get_pull(REPO, 1)).number == 1
    first, second = calls(fake, "GET", "/pulls/1")
    assert second - first >= 0.95


async def test_secondary_rate_limit_on_review_post_is_retried_once_stored_once(
    fake: FakeGitHub, url: str
) -> None:
    api = await make_client(fake, url).for_installation(5)
    fake.fail_next("POST", r"/reviews$", 403, headers={"retry-after": "1"})
    comments: list[dict[str, object]] = [{"path": "app.py", "line": 3, "body": "x"}]
    await api.create_review(REPO, 1, commit_id=HEAD, body="b", comments=comments)
    assert len(fake.reviews("octo", "repo", 1)) == 1
    assert len(calls(fake, "POST", "/pulls/1/reviews")) == 2


async def test_429_is_retried(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    fake.fail_next("GET", r"/pulls/1/files$", 429, headers={"retry-after": "0"})
    assert len(await api.list_pull_files(REPO, 1)) == 3


async def test_primary_rate_limit_waits_for_reset(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    reset = str(int(time.time()))
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    fake.fail_next("GET", r"/pulls/1$", 403, headers=headers, body={"message": "API rate limit exceeded"})
    assert (await api.get_pull(REPO, 1)).number == 1
    assert len(calls(fake, "GET", "/pulls/1")) == 2


async def test_long_rate_limit_is_handed_back_not_slept(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    fake.fail_next("GET", r"/pulls/1$", 403, headers={"retry-after": "3600"})
    with pytest.raises(GitHubRetryableError) as info:
        await api.get_pull(REPO, 1)
    assert info.value.retry_after == 3600 and info.value.status == 403
    assert len(calls(fake, "GET", "/pulls/1")) == 1


async def test_rate_limit_retries_are_bounded(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    fake.fail_next("GET", r"/pulls/1$", 429, times=10, headers={"retry-after": "0"})
    with pytest.raises(GitHubRetryableError):
        await api.get_pull(REPO, 1)
    assert len(calls(fake, "GET", "/pulls/1")) == 1 + FAST.rate_limit_retries


async def test_server_errors_are_retried_with_backoff(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    fake.fail_next("GET", r"/pulls/1$", 502, times=2)
    assert (await api.get_pull(REPO, 1)).number == 1
    assert len(calls(fake, "GET", "/pulls/1")) == 3


async def test_persistent_server_errors_become_retryable(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    fake.fail_next("GET", r"/pulls/1$", 503, times=10)
    with pytest.raises(GitHubRetryableError) as info:
        await api.get_pull(REPO, 1)
    assert info.value.status == 503
    assert len(calls(fake, "GET", "/pulls/1")) == FAST.attempts


async def test_review_post_is_not_resent_after_a_5xx(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    fake.fail_next("POST", r"/reviews$", 502)
    comments: list[dict[str, object]] = [{"path": "app.py", "line": 3, "body": "x"}]
    with pytest.raises(GitHubRetryableError):
        await api.create_review(REPO, 1, commit_id=HEAD, body="b", comments=comments)
    assert len(calls(fake, "POST", "/pulls/1/reviews")) == 1


async def test_check_run_patch_is_retried_after_a_5xx(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    run_id = await api.create_check_run(
        REPO, head_sha=HEAD, name="mr", status="queued", details_url="https://x", external_id="1"
    )
    fake.fail_next("PATCH", r"/check-runs/", 500)
    await api.update_check_run(REPO, run_id, status="in_progress")
    assert [s["status"] for s in fake.check_runs("octo", "repo")[run_id]] == ["queued", "in_progress"]


async def test_forbidden_without_rate_limit_is_permanent(fake: FakeGitHub, url: str) -> None:
    api = await make_client(fake, url).for_installation(5)
    fake.fail_next("GET", r"/pulls/1$", 403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(GitHubPermanentError) as info:
        await api.get_pull(REPO, 1)
    assert info.value.status == 403 and "not accessible" in str(info.value)
    assert len(calls(fake, "GET", "/pulls/1")) == 1


async def test_unreachable_github_is_retryable(fake: FakeGitHub) -> None:
    client = GitHubAppClient(fake.app_id, fake.private_key_pem, f"http://127.0.0.1:{free_port()}", retry=FAST)
    with pytest.raises(GitHubRetryableError, match="ConnectError"):
        await client.for_installation(5)


# ---- secrets ----------------------------------------------------------------------------------------


async def test_errors_and_logs_never_carry_secrets(
    fake: FakeGitHub, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = await make_client(fake, url).for_installation(5)
    fake.fail_next("GET", r"/pulls/1$", 502, times=10)
    fake.fail_next("POST", r"/reviews$", 403, body={"message": "Resource not accessible by integration"})
    errors: list[BaseException] = []
    for attempt in (
        api.get_pull(REPO, 1),
        api.create_review(REPO, 1, commit_id=HEAD, body="b", comments=[]),
        GitHubAppClient(fake.app_id + 1, fake.private_key_pem, url, retry=FAST).for_installation(5),
    ):
        with pytest.raises(Exception) as info:  # any error: its text is what we inspect
            await attempt
        errors.append(info.value)
    tokens = {
        r.headers["authorization"].split(" ", 1)[1] for r in fake.requests if "authorization" in r.headers
    }
    assert tokens
    key_line = fake.private_key_pem.splitlines()[1]
    for error in errors:
        chain = [error, error.__cause__, error.__context__]
        text = " ".join(f"{e!s} {e!r}" for e in chain if e is not None)
        assert all(token not in text for token in tokens) and key_line not in text
    assert all(token not in caplog.text for token in tokens) and key_line not in caplog.text


def test_redact_secrets_hides_tokens_jwts_and_keys() -> None:
    text = redact_secrets(
        "token ghs_abcdefghijklmnopqrstuvwxyz0123 jwt eyJhbGciOi.eyJpYXQiOjE.c2lnbmF0dXJl "
        "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- "
        "github_pat_11AAAAAAA0aaaaaaaaaaaa_b"
    )
    for secret in ("ghs_abc", "eyJhbGciOi", "MIIE", "github_pat_11"):
        assert secret not in text


async def test_the_bot_login_comes_from_get_app_once(fake: FakeGitHub, url: str) -> None:
    client = make_client(fake, url)
    assert await client.bot_login() == fake.bot_login
    assert await client.bot_login() == fake.bot_login
    asked = [r for r in fake.requests if r.method == "GET" and r.path == "/app"]
    assert len(asked) == 1 and asked[0].headers["authorization"].startswith("Bearer ")


async def test_repository_visibility_and_fork_origin_are_read(fake: FakeGitHub, url: str) -> None:
    fake.add_repo("octo", ".github", installation_id=5, private=True)
    fake.add_pull("octo", "repo", 2, head_sha=HEAD, base_sha=BASE, files=[], head_repo="stranger/repo")
    api = await make_client(fake, url).for_installation(5)
    assert await api.repo_is_private(RepoRef(owner="octo", name=".github", installation_id=5))
    assert not await api.repo_is_private(REPO)
    assert (await api.get_pull(REPO, 2)).from_fork and not (await api.get_pull(REPO, 1)).from_fork
