"""Sign-in and repository access over plain HTTP: who sees what, CSRF, cookies, tokens at rest."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.dashboard_harness import (
    INSTALLATION,
    OWNER,
    PRIVATE,
    PUBLIC,
    DashboardStack,
    dashboard_stack,
    pull_request_event,
    repos_with_access,
)
from tests.e2e.harness import wait_for

PRIVATE_REPO, PUBLIC_REPO = f"{OWNER}/{PRIVATE}", f"{OWNER}/{PUBLIC}"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DashboardStack]:
    with dashboard_stack(tmp_path, MINI_ACCESS_CACHE_SECONDS=0) as s:
        repos_with_access(s.github)
        yield s


def seed(stack: DashboardStack) -> tuple[str, str]:
    progress = {"pr_title": "Secret plan", "installation_id": INSTALLATION}
    private = stack.seed_run(PRIVATE_REPO, 3, progress=progress, summary="the secret summary")
    public = stack.seed_run(PUBLIC_REPO, 1, progress={"pr_title": "Open plan"})
    return private, public


def private_urls(run_id: str) -> list[str]:
    return [
        f"/repos/{PRIVATE_REPO}",
        f"/repos/{PRIVATE_REPO}/pulls/3",
        f"/runs/{run_id}",
    ]


def api(url: str) -> str:
    return url if url.startswith("/api/") else "/api" + url


def test_sign_in_lands_on_next_with_a_safe_cookie_and_no_token_in_clear(stack: DashboardStack) -> None:
    private, _ = seed(stack)
    stack.github.oauth.sign_in_as("bob")
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        first = client.get("/login", params={"next": f"/runs/{private}"})
        assert first.status_code == 303
        authorize = httpx.URL(first.headers["location"])
        assert authorize.path == "/login/oauth/authorize"
        assert authorize.params["client_id"] == stack.github.oauth.client_id
        assert authorize.params["redirect_uri"] == f"{stack.url}/auth/callback"
        state = authorize.params["state"]
        assert len(state) >= 32
        back = httpx.get(str(authorize))
        assert back.status_code == 302
        done = client.get(back.headers["location"])
        assert done.status_code == 303 and done.headers["location"] == f"/runs/{private}"
        cookie = done.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        page = client.get(f"/runs/{private}")
        assert page.status_code == 200 and "the secret summary" in page.text
        # The same state (and code) cannot be used twice.
        replay = client.get(back.headers["location"])
        assert replay.status_code == 400
    token = stack.github.oauth.issued[-1]
    db = stack.db_path.read_bytes() + b"".join(
        p.read_bytes() for p in stack.db_path.parent.glob("*.db-wal") if p.is_file()
    )
    assert token.encode() not in db
    with sqlite3.connect(stack.db_path) as conn:
        rows = conn.execute("select token from sessions where login = 'bob'").fetchall()
    assert rows and all(token not in str(r[0]) for r in rows)


def test_anonymous_viewers_are_sent_to_sign_in_and_learn_nothing(stack: DashboardStack) -> None:
    private, public = seed(stack)
    missing = "0" * 32
    for url in private_urls(private):
        page = stack.client.get(stack.url + url)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=")
        data = stack.client.get(stack.url + api(url))
        assert data.status_code == 401 and "secret" not in data.text.lower()
    # Unknown things answer exactly like private ones: existence is not revealed.
    for url in (f"/repos/{OWNER}/nope", f"/runs/{missing}"):
        assert stack.client.get(stack.url + url).status_code == 303
        assert stack.client.get(stack.url + api(url)).status_code == 401
    home = stack.client.get(stack.url + "/api/repos").json()
    assert [r["name"] for r in home["repositories"]] == [PUBLIC_REPO]
    assert stack.client.get(f"{stack.url}/runs/{public}").status_code == 200
    assert stack.client.get(f"{stack.url}/api/repos/{PUBLIC_REPO}").json()["runs"][0]["id"] == public


def test_a_user_without_access_gets_the_same_404_as_for_nothing(stack: DashboardStack) -> None:
    private, public = seed(stack)
    mallory = stack.sign_in("mallory")
    for url in private_urls(private):
        page = mallory.get(url)
        assert page.status_code == 404 and "secret" not in page.text.lower()
        data = mallory.get(api(url))
        assert data.status_code == 404 and "secret" not in data.text.lower()
    nothing = mallory.get(f"/repos/{OWNER}/does-not-exist")
    assert nothing.status_code == 404
    assert mallory.get(f"/repos/{PRIVATE_REPO}").text == nothing.text
    listed = [r["name"] for r in mallory.get("/api/repos").json()["repositories"]]
    assert listed == [PUBLIC_REPO]
    assert mallory.get(f"/runs/{public}").status_code == 200


def test_losing_access_on_github_hides_the_repo(stack: DashboardStack) -> None:
    private, _ = seed(stack)
    bob = stack.sign_in("bob")
    assert bob.get(f"/api/runs/{private}").status_code == 200
    stack.github.set_permission(OWNER, PRIVATE, "bob", "none")
    assert bob.get(f"/api/runs/{private}").status_code == 404  # cache TTL is 0 here


def test_writers_may_rerun_and_pause_readers_may_not(stack: DashboardStack) -> None:
    seed(stack)
    bob = stack.sign_in("bob")
    page = bob.get(f"/repos/{PRIVATE_REPO}/pulls/3")
    assert page.status_code == 200 and "rerun-button" not in page.text
    assert "pause-button" not in bob.get(f"/repos/{PRIVATE_REPO}").text
    csrf = _csrf(bob.get("/").text)
    refused = bob.post(f"/repos/{PRIVATE_REPO}/pulls/3/rerun", data={"csrf": csrf})
    assert refused.status_code == 403
    assert bob.post(f"/repos/{PRIVATE_REPO}/pause", data={"csrf": csrf}).status_code == 403

    alice = stack.sign_in("alice")
    page = alice.get(f"/repos/{PRIVATE_REPO}/pulls/3")
    assert "rerun-button" in page.text
    no_token = alice.post(f"/repos/{PRIVATE_REPO}/pulls/3/rerun", data={"csrf": "forged"})
    assert no_token.status_code == 403
    paused = alice.post(f"/repos/{PRIVATE_REPO}/pause", data={"csrf": _csrf(page.text)})
    assert paused.status_code == 200 and 'id="paused"' in paused.text
    assert alice.get(f"/api/repos/{PRIVATE_REPO}").json()["paused"] is True
    resumed = alice.post(f"/repos/{PRIVATE_REPO}/resume", data={"csrf": _csrf(page.text)})
    assert 'id="paused"' not in resumed.text


def test_sign_out_ends_the_session(stack: DashboardStack) -> None:
    private, _ = seed(stack)
    bob = stack.sign_in("bob")
    cookie = bob.cookies.get("mini_session")
    assert cookie
    refused = bob.post("/logout", data={"csrf": "wrong"})
    assert refused.status_code == 403
    out = bob.post("/logout", data={"csrf": _csrf(bob.get("/").text)})
    assert out.status_code == 200
    assert bob.get(f"/runs/{private}", follow_redirects=False).status_code == 303
    # The old cookie is dead on the server too.
    with httpx.Client(base_url=stack.url, cookies={"mini_session": cookie}) as replay:
        assert replay.get(f"/api/runs/{private}").status_code == 401


def test_next_never_leaves_the_site(stack: DashboardStack) -> None:
    stack.github.oauth.sign_in_as("bob")
    with httpx.Client(base_url=stack.url, timeout=10, follow_redirects=True) as client:
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            landed = client.get("/login", params={"next": target})
            assert landed.url.host == "127.0.0.1" and landed.url.path == "/"


def test_pages_forbid_third_party_origins(stack: DashboardStack) -> None:
    _, public = seed(stack)
    for url in ("/", f"/repos/{PUBLIC_REPO}", f"/runs/{public}"):
        csp = stack.client.get(stack.url + url).headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "http" not in csp and "*" not in csp


def test_without_a_client_id_only_public_repositories_show(tmp_path: Path) -> None:
    with dashboard_stack(tmp_path, sign_in=False) as stack:
        repos_with_access(stack.github)
        private, public = seed(stack)
        home = stack.client.get(stack.url + "/")
        assert 'id="sign-in-off"' in home.text and "GITHUB_CLIENT_ID" in home.text
        assert PUBLIC_REPO in home.text and PRIVATE not in home.text
        assert stack.client.get(f"{stack.url}/runs/{private}").status_code == 404
        assert stack.client.get(f"{stack.url}/api/runs/{private}").status_code == 404
        assert stack.client.get(f"{stack.url}/api/runs/{public}").status_code == 200
        assert stack.client.get(f"{stack.url}/login").status_code == 404


def _csrf(html: str) -> str:
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_a_real_review_records_its_progress_and_a_paused_repo_is_skipped(stack: DashboardStack) -> None:
    patch = "@@ -1,2 +1,3 @@\n import os\n+import subprocess\n x = 1"
    files = [{"filename": f"src/m{i}.py", "patch": patch} for i in range(3)]
    stack.github.add_pull(OWNER, PRIVATE, 21, head_sha="1" * 40, base_sha="2" * 40, title="Three files",
                          files=files)  # fmt: skip
    event = pull_request_event(OWNER, PRIVATE, 21, head="1" * 40, base="2" * 40, title="Three files")
    assert stack.deliver("pull_request", event).status_code == 202
    bob = stack.sign_in("bob")

    def finished(number: int) -> dict[str, Any] | None:
        found = bob.get(f"/api/repos/{PRIVATE_REPO}/pulls/{number}")
        if found.status_code != 200:
            return None
        runs = found.json()["timeline"]
        return runs[-1]["run"] if runs and runs[-1]["run"]["status"] != "running" else None

    run = wait_for(lambda: finished(21), what="the review")
    assert run["status"] == "posted" and run["pr_title"] == "Three files"
    data = bob.get(f"/api/runs/{run['id']}").json()
    assert data["progress"]["chunks_total"] == data["progress"]["chunks_done"] == 3
    assert data["reviewed_paths"] == ["src/m0.py", "src/m1.py", "src/m2.py"]
    assert [s["name"] for s in data["stages"]][:1] == ["fetch_pull"]

    alice = stack.sign_in("alice")
    page = alice.get(f"/repos/{PRIVATE_REPO}")
    alice.post(f"/repos/{PRIVATE_REPO}/pause", data={"csrf": _csrf(page.text)})
    stack.github.add_pull(OWNER, PRIVATE, 22, head_sha="3" * 40, base_sha="2" * 40, files=files)
    event = pull_request_event(OWNER, PRIVATE, 22, head="3" * 40, base="2" * 40, title="Paused")
    assert stack.deliver("pull_request", event).status_code == 202
    skipped = wait_for(lambda: finished(22), what="the skipped run")
    assert skipped["status"] == "skipped" and "paused" in skipped["error"]
    assert stack.github.reviews(OWNER, PRIVATE, 22) == []


def test_no_token_code_or_client_secret_reaches_the_logs(
    stack: DashboardStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    private, _ = seed(stack)
    bob = stack.sign_in("bob")
    assert bob.get(f"/runs/{private}").status_code == 200
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "dashboard sign-in: bob" in logged  # the capture works
    for secret in (*stack.github.oauth.issued, stack.github.oauth.client_secret, "ghu_"):
        assert secret not in logged


def test_a_revoked_sign_in_ends_the_session_and_github_trouble_is_a_502(stack: DashboardStack) -> None:
    seed(stack)
    bob = stack.sign_in("bob")
    stack.github.fail_next("GET", r"^/user/installations", 502, times=1)
    trouble = bob.get(f"/repos/{PRIVATE_REPO}")
    assert trouble.status_code == 502 and "secret" not in trouble.text.lower()
    assert bob.get(f"/api/repos/{PRIVATE_REPO}").status_code == 200  # the next try works
    stack.github.oauth.revoke_user_tokens("bob")
    stack.github.oauth.sign_in_as(None)
    gone = bob.get(f"/repos/{PRIVATE_REPO}", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login?next=")
    home = bob.get("/")
    assert home.status_code == 200 and 'id="signed-in-as"' not in home.text
