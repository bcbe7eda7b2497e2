"""The fake GitHub enforces GitHub's rules: checked here with plain httpx, independent of the app."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import files_api_entries
from tests.fakes.github import AppSlot, FakeGitHub
from tests.fakes.github_diff import locate, parse_patch

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
HEAD = "a" * 40
BASE = "b" * 40
PATCH = "\n".join(
    [
        "@@ -1,4 +1,5 @@",
        " import os",  # old 1, new 1
        "-import sys",  # old 2
        "+import re",  # new 2
        "+import json",  # new 3
        " ",  # old 3, new 4
        " def main():",  # old 4, new 5
        "@@ -20,3 +21,3 @@ def other():",
        "     a = 1",  # old 20, new 21
        "-    b = 2",  # old 21
        "+    b = 3",  # new 22
        "     return a",  # old 22, new 23
    ]
)


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub(app_id=77)
    fake.add_repo("octo", "repo", installation_id=5)
    fake.add_repo("other", "repo", installation_id=6)
    fake.add_pull(
        "octo",
        "repo",
        1,
        head_sha=HEAD,
        base_sha=BASE,
        files=[
            {"filename": "app.py", "patch": PATCH},
            {"filename": "logo.png", "status": "added", "patch": None},
        ],
    )
    return fake


@pytest.fixture
def url(fake: FakeGitHub, server: tuple[AppSlot, str]) -> str:
    server[0].target = fake.app
    return server[1]


def app_jwt(
    fake: FakeGitHub, *, key: str | None = None, iss: object = None, iat: int = -60, exp: int = 540
) -> str:
    now = int(time.time())
    claims = {"iat": now + iat, "exp": now + exp, "iss": str(fake.app_id) if iss is None else iss}
    return jwt.encode(claims, key or fake.private_key_pem, algorithm="RS256")


def mint(url: str, fake: FakeGitHub, installation_id: int = 5) -> str:
    resp = httpx.post(
        f"{url}/app/installations/{installation_id}/access_tokens",
        headers={"Authorization": f"Bearer {app_jwt(fake)}"},
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["token"])


_OPEN: list[httpx.Client] = []


def gh(url: str, token: str) -> httpx.Client:
    client = httpx.Client(base_url=url, headers={"Authorization": f"token {token}"})
    _OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def review(client: httpx.Client, comments: list[dict[str, Any]], **extra: Any) -> httpx.Response:
    body = {"commit_id": HEAD, "body": "summary", "event": "COMMENT", "comments": comments, **extra}
    return client.post("/repos/octo/repo/pulls/1/reviews", json=body)


# ---- auth -------------------------------------------------------------------------------------------


def test_mint_returns_an_hour_long_token_and_counts(fake: FakeGitHub, url: str) -> None:
    resp = httpx.post(
        f"{url}/app/installations/5/access_tokens", headers={"Authorization": f"Bearer {app_jwt(fake)}"}
    )
    assert resp.status_code == 201
    data = resp.json()
    assert data["token"].startswith("ghs_")
    assert data["expires_at"].endswith("Z")
    left = time.mktime(time.strptime(data["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(time.gmtime())
    assert 3500 < left <= 3600
    assert fake.token_mints(5) == 1
    assert fake.token_mints(6) == 0


def other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize(
    "auth",
    [
        "none",
        "wrong-key",
        "wrong-iss",
        "too-long",
        "expired",
        "installation-token",
    ],
)
def test_mint_rejects_bad_jwts(fake: FakeGitHub, url: str, auth: str) -> None:
    token = {
        "none": "",
        "wrong-key": f"Bearer {app_jwt(fake, key=other_key())}",
        "wrong-iss": f"Bearer {app_jwt(fake, iss='78')}",
        "too-long": f"Bearer {app_jwt(fake, iat=0, exp=1200)}",
        "expired": f"Bearer {app_jwt(fake, iat=-900, exp=-300)}",
        "installation-token": f"Bearer {mint(url, fake) if auth == 'installation-token' else ''}",
    }[auth]
    before = fake.token_mints(5)
    headers = {"Authorization": token} if token else {}
    resp = httpx.post(f"{url}/app/installations/5/access_tokens", headers=headers)
    assert resp.status_code == 401
    assert fake.token_mints(5) == before


def test_mint_for_unknown_installation_is_404(fake: FakeGitHub, url: str) -> None:
    resp = httpx.post(
        f"{url}/app/installations/999/access_tokens", headers={"Authorization": f"Bearer {app_jwt(fake)}"}
    )
    assert resp.status_code == 404


def test_repo_calls_need_a_live_token_of_the_owning_installation(fake: FakeGitHub, url: str) -> None:
    assert httpx.get(f"{url}/repos/octo/repo/pulls/1").status_code == 401
    assert gh(url, "ghs_madeup").get("/repos/octo/repo/pulls/1").status_code == 401
    other = mint(url, fake, installation_id=6)
    assert gh(url, other).get("/repos/octo/repo/pulls/1").status_code == 404
    token = mint(url, fake)
    assert gh(url, token).get("/repos/octo/repo/pulls/1").status_code == 200
    fake.revoke_tokens(5)
    assert gh(url, token).get("/repos/octo/repo/pulls/1").status_code == 401


def test_expired_token_is_refused(fake: FakeGitHub, url: str) -> None:
    fake.token_ttl = -1
    token = mint(url, fake)
    assert gh(url, token).get("/repos/octo/repo/pulls/1").status_code == 401


def test_bearer_scheme_works_for_installation_tokens(fake: FakeGitHub, url: str) -> None:
    token = mint(url, fake)
    resp = httpx.get(f"{url}/repos/octo/repo/pulls/1", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200


# ---- pulls and pagination ---------------------------------------------------------------------------


def test_pull_json_has_the_fields_the_app_reads(fake: FakeGitHub, url: str) -> None:
    pull = gh(url, mint(url, fake)).get("/repos/octo/repo/pulls/1").json()
    assert pull["number"] == 1
    assert pull["head"]["sha"] == HEAD and pull["base"]["sha"] == BASE
    assert pull["head"]["ref"] == "feature" and pull["base"]["ref"] == "main"
    assert pull["user"] == {"login": "octocat", "id": 1, "type": "User"}
    assert pull["draft"] is False and pull["state"] == "open"
    assert pull["html_url"].endswith("/octo/repo/pull/1")


def test_missing_pull_is_404(fake: FakeGitHub, url: str) -> None:
    assert gh(url, mint(url, fake)).get("/repos/octo/repo/pulls/2").status_code == 404


def test_files_paginate_with_link_headers(fake: FakeGitHub, url: str) -> None:
    files = [{"filename": f"f{i}.py", "patch": "@@ -0,0 +1 @@\n+x"} for i in range(250)]
    fake.add_pull("octo", "repo", 2, head_sha="c" * 40, base_sha=BASE, files=files)
    client = gh(url, mint(url, fake))
    first = client.get("/repos/octo/repo/pulls/2/files", params={"per_page": 100})
    assert [f["filename"] for f in first.json()] == [f"f{i}.py" for i in range(100)]
    links = first.links
    assert links["next"]["url"].endswith("page=2") and links["last"]["url"].endswith("page=3")
    assert "prev" not in links
    last = client.get(links["last"]["url"])
    assert len(last.json()) == 50
    assert "next" not in last.links and last.links["first"]["url"].endswith("page=1")
    assert len(client.get("/repos/octo/repo/pulls/2/files").json()) == 30  # default per_page
    assert len(client.get("/repos/octo/repo/pulls/2/files", params={"per_page": 500}).json()) == 100
    entry = first.json()[0]
    assert entry["additions"] == 1 and entry["deletions"] == 0 and entry["changes"] == 1


def test_single_page_has_no_link_header(fake: FakeGitHub, url: str) -> None:
    resp = gh(url, mint(url, fake)).get("/repos/octo/repo/pulls/1/files")
    assert "link" not in resp.headers
    assert "patch" not in resp.json()[1]  # binary: GitHub omits the key


def test_files_stop_at_3000(fake: FakeGitHub, url: str) -> None:
    files = [{"filename": f"f{i}.py"} for i in range(3005)]
    fake.add_pull("octo", "repo", 3, head_sha="d" * 40, base_sha=BASE, files=files)
    client = gh(url, mint(url, fake))
    resp = client.get("/repos/octo/repo/pulls/3/files", params={"per_page": 100, "page": 30})
    assert len(resp.json()) == 100 and "next" not in resp.links
    assert client.get("/repos/octo/repo/pulls/3/files", params={"per_page": 100, "page": 31}).json() == []


# ---- reviews ----------------------------------------------------------------------------------------


def test_review_on_lines_of_the_diff_is_stored(fake: FakeGitHub, url: str) -> None:
    client = gh(url, mint(url, fake))
    comments = [
        {"path": "app.py", "line": 3, "side": "RIGHT", "body": "added line"},
        {"path": "app.py", "line": 2, "side": "LEFT", "body": "removed line"},
        {"path": "app.py", "line": 4, "body": "context, default side RIGHT"},
        {"path": "app.py", "line": 3, "side": "LEFT", "body": "context by its old number"},
        {"path": "app.py", "start_line": 21, "line": 23, "side": "RIGHT", "body": "range"},
    ]
    resp = review(client, comments)
    assert resp.status_code == 200, resp.text
    assert resp.json()["state"] == "COMMENTED"
    stored = fake.review_comments("octo", "repo", 1)
    assert [(c["line"], c["side"], c["start_line"]) for c in stored] == [
        (3, "RIGHT", None),
        (2, "LEFT", None),
        (4, "RIGHT", None),
        (3, "LEFT", None),
        (23, "RIGHT", 21),
    ]
    assert all(c["pull_request_review_id"] == resp.json()["id"] for c in stored)
    listed = client.get("/repos/octo/repo/pulls/1/comments").json()
    assert [c["id"] for c in listed] == [c["id"] for c in stored]
    assert [r["id"] for r in client.get("/repos/octo/repo/pulls/1/reviews").json()] == [resp.json()["id"]]


@pytest.mark.parametrize(
    "bad",
    [
        {"path": "app.py", "line": 10, "side": "RIGHT", "body": "between hunks"},
        {"path": "app.py", "line": 6, "side": "RIGHT", "body": "past the first hunk"},
        {"path": "app.py", "line": 5, "side": "LEFT", "body": "old 5 is not shown"},
        {"path": "app.py", "line": 23, "side": "LEFT", "body": "old 23 is not shown"},
        {"path": "app.py", "line": 2, "side": "MIDDLE", "body": "bad side"},
        {"path": "nope.py", "line": 1, "body": "unknown path"},
        {"path": "logo.png", "line": 1, "body": "no patch"},
        {"path": "app.py", "start_line": 3, "line": 3, "body": "start not before line"},
        {"path": "app.py", "start_line": 5, "line": 22, "body": "range across hunks"},
        {"path": "app.py", "line": 2, "body": ""},
        {"path": "app.py", "line": 2, "body": "x" * 65537},
        {"path": "app.py", "line": "2", "body": "line as string"},
    ],
)
def test_one_bad_comment_rejects_the_whole_review(fake: FakeGitHub, url: str, bad: dict[str, Any]) -> None:
    client = gh(url, mint(url, fake))
    good = {"path": "app.py", "line": 2, "side": "RIGHT", "body": "fine on its own"}
    resp = review(client, [good, bad])
    assert resp.status_code == 422
    assert resp.json()["message"] == "Unprocessable Entity" and resp.json()["errors"]
    assert fake.reviews("octo", "repo", 1) == []
    assert fake.review_comments("octo", "repo", 1) == []
    assert fake.rejected_reviews == 1


def test_line_not_in_diff_says_line_could_not_be_resolved(fake: FakeGitHub, url: str) -> None:
    resp = review(gh(url, mint(url, fake)), [{"path": "app.py", "line": 10, "body": "x"}])
    assert resp.status_code == 422
    assert resp.json()["errors"] == ["Line could not be resolved"]


@pytest.mark.parametrize(
    "extra",
    [
        {"event": "PENDING"},
        {"commit_id": "f" * 40},
        {"body": "x" * 65537},
        {"body": "", "comments": []},
    ],
)
def test_review_level_rules(fake: FakeGitHub, url: str, extra: dict[str, Any]) -> None:
    comments = extra.pop("comments", [{"path": "app.py", "line": 2, "body": "x"}])
    resp = review(gh(url, mint(url, fake)), comments, **extra)
    assert resp.status_code == 422
    assert fake.reviews("octo", "repo", 1) == []


def test_review_may_target_an_older_head_with_that_heads_diff(fake: FakeGitHub, url: str) -> None:
    fake.push("octo", "repo", 1, "e" * 40, [{"filename": "app.py", "patch": "@@ -1 +1 @@\n-a\n+b"}])
    client = gh(url, mint(url, fake))
    assert review(client, [{"path": "app.py", "line": 22, "body": "old diff"}]).status_code == 200
    newer = review(client, [{"path": "app.py", "line": 22, "body": "x"}], commit_id="e" * 40)
    assert newer.status_code == 422
    assert review(client, [{"path": "app.py", "line": 1, "body": "x"}], commit_id="e" * 40).status_code == 200
    assert client.get("/repos/octo/repo/pulls/1").json()["head"]["sha"] == "e" * 40


# ---- contents and compare ---------------------------------------------------------------------------


def test_contents_are_per_ref_and_base64_wrapped(fake: FakeGitHub, url: str) -> None:
    text = "rules:\n" + "x" * 200 + "\n"
    fake.set_file("octo", "repo", "main", ".mini-review.yml", text)
    client = gh(url, mint(url, fake))
    data = client.get("/repos/octo/repo/contents/.mini-review.yml", params={"ref": "main"}).json()
    assert data["type"] == "file" and data["encoding"] == "base64" and "\n" in data["content"]
    assert base64.b64decode(data["content"]).decode() == text
    assert client.get("/repos/octo/repo/contents/.mini-review.yml").status_code == 200  # default branch
    assert client.get("/repos/octo/repo/contents/.mini-review.yml", params={"ref": HEAD}).status_code == 404
    assert client.get("/repos/octo/repo/contents/missing.yml").status_code == 404


def test_compare_answers_registered_pairs_and_404s_unknown(fake: FakeGitHub, url: str) -> None:
    fake.set_compare("octo", "repo", BASE, HEAD, [{"filename": "app.py", "patch": PATCH}], ahead_by=2)
    client = gh(url, mint(url, fake))
    data = client.get(f"/repos/octo/repo/compare/{BASE}...{HEAD}").json()
    assert data["status"] == "ahead" and data["ahead_by"] == 2
    assert data["merge_base_commit"]["sha"] == BASE
    assert [f["filename"] for f in data["files"]] == ["app.py"]
    assert client.get(f"/repos/octo/repo/compare/{'9' * 40}...{HEAD}").status_code == 404


# ---- check runs -------------------------------------------------------------------------------------


def test_check_run_history_is_kept(fake: FakeGitHub, url: str) -> None:
    client = gh(url, mint(url, fake))
    created = client.post(
        "/repos/octo/repo/check-runs",
        json={"name": "mini-review", "head_sha": HEAD, "status": "queued", "external_id": "run-1"},
    )
    assert created.status_code == 201
    run_id = created.json()["id"]
    path = f"/repos/octo/repo/check-runs/{run_id}"
    assert client.patch(path, json={"status": "in_progress"}).status_code == 200
    done = client.patch(
        path,
        json={
            "conclusion": "neutral",
            "details_url": "https://mini-review.example/runs/1",
            "output": {"title": "3 findings", "summary": "see details"},
        },
    )
    assert done.status_code == 200
    assert done.json()["status"] == "completed" and done.json()["completed_at"]
    history = fake.check_runs("octo", "repo")[run_id]
    assert [s["status"] for s in history] == ["queued", "in_progress", "completed"]
    assert history[-1]["external_id"] == "run-1"
    assert history[-1]["output"]["title"] == "3 findings"


NOTE = {"path": "a.py", "start_line": 1, "end_line": 1, "annotation_level": "warning", "message": "m"}


@pytest.mark.parametrize(
    "patch",
    [
        {"status": "completed"},
        {"status": "finished"},
        {"conclusion": "great"},
        {"conclusion": "action_required"},  # needs details_url
        {"started_at": "yesterday"},
        {"output": {"title": "t"}},
        {"output": {"title": "t", "summary": "s" * 65536}},
        {
            "output": {
                "title": "t",
                "summary": "s",
                "annotations": [NOTE] * 51,
            }
        },
    ],
)
def test_invalid_check_run_updates_are_422(fake: FakeGitHub, url: str, patch: dict[str, Any]) -> None:
    client = gh(url, mint(url, fake))
    run_id = client.post("/repos/octo/repo/check-runs", json={"name": "mr", "head_sha": HEAD}).json()["id"]
    assert client.patch(f"/repos/octo/repo/check-runs/{run_id}", json=patch).status_code == 422
    assert len(fake.check_runs("octo", "repo")[run_id]) == 1


def test_check_run_needs_a_known_head_sha(fake: FakeGitHub, url: str) -> None:
    client = gh(url, mint(url, fake))
    resp = client.post("/repos/octo/repo/check-runs", json={"name": "mr", "head_sha": "main"})
    assert resp.status_code == 422


# ---- comments, reactions, permissions ---------------------------------------------------------------


def test_issue_comments_and_reactions(fake: FakeGitHub, url: str) -> None:
    command_id = fake.add_issue_comment("octo", "repo", 1, "/mini-review again", user="alice")
    client = gh(url, mint(url, fake))
    posted = client.post("/repos/octo/repo/issues/1/comments", json={"body": "hello"})
    assert posted.status_code == 201 and posted.json()["user"]["login"] == "mini-review[bot]"
    listed = client.get("/repos/octo/repo/issues/1/comments").json()
    assert [c["body"] for c in listed] == ["/mini-review again", "hello"]
    path = f"/repos/octo/repo/issues/comments/{command_id}/reactions"
    assert client.post(path, json={"content": "eyes"}).status_code == 201
    assert client.post(path, json={"content": "eyes"}).status_code == 200
    assert client.post(path, json={"content": "shrug"}).status_code == 422
    unknown = client.post("/repos/octo/repo/issues/comments/1/reactions", json={"content": "eyes"})
    assert unknown.status_code == 404
    assert fake.reactions(command_id) == ["eyes"]
    assert client.post("/repos/octo/repo/issues/1/comments", json={"body": ""}).status_code == 422


def test_permission_keeps_legacy_field_and_precise_role(fake: FakeGitHub, url: str) -> None:
    fake.set_permission("octo", "repo", "maint", "maintain")
    client = gh(url, mint(url, fake))
    data = client.get("/repos/octo/repo/collaborators/maint/permission").json()
    assert data["permission"] == "write" and data["role_name"] == "maintain"
    assert client.get("/repos/octo/repo/collaborators/stranger/permission").json()["permission"] == "none"


# ---- failure injection and recording ----------------------------------------------------------------


def test_fail_next_injects_then_recovers(fake: FakeGitHub, url: str) -> None:
    client = gh(url, mint(url, fake))
    fake.fail_next("GET", r"/pulls/1$", 403, times=2, headers={"retry-after": "1"})
    first = client.get("/repos/octo/repo/pulls/1")
    assert first.status_code == 403 and first.headers["retry-after"] == "1"
    assert "secondary rate limit" in first.json()["message"]
    assert client.get("/repos/octo/repo/pulls/1").status_code == 403
    ok = client.get("/repos/octo/repo/pulls/1")
    assert ok.status_code == 200
    assert int(ok.headers["x-ratelimit-remaining"]) < 5000 and ok.headers["x-ratelimit-reset"].isdigit()
    assert client.get("/repos/octo/repo/pulls/1/files").status_code == 200  # the rule's regex is anchored


def test_injected_review_failure_stores_nothing(fake: FakeGitHub, url: str) -> None:
    fake.fail_next("POST", r"/reviews$", 502)
    client = gh(url, mint(url, fake))
    assert review(client, [{"path": "app.py", "line": 2, "body": "x"}]).status_code == 502
    assert fake.reviews("octo", "repo", 1) == []


def test_requests_are_recorded_with_json(fake: FakeGitHub, url: str) -> None:
    client = gh(url, mint(url, fake))
    client.post("/repos/octo/repo/issues/1/comments", json={"body": "hi"})
    last = fake.requests[-1]
    assert (last.method, last.path) == ("POST", "/repos/octo/repo/issues/1/comments")
    assert last.json == {"body": "hi"}
    assert last.headers["authorization"].startswith("token ghs_")


# ---- the fake's own patch reading -------------------------------------------------------------------


def test_patch_parser_reads_headers_lookalikes_as_data() -> None:
    patch = "@@ -1,2 +1,2 @@\n--- a\n+++ b\n @@ -9 +9 @@\n@@ -5 +5 @@\n-x\n+y\n\\ No newline at end of file"
    hunks = parse_patch(patch)
    assert len(hunks) == 2
    assert locate(hunks, "LEFT", 1) == (0, 0) and locate(hunks, "RIGHT", 1) == (0, 1)
    assert locate(hunks, "LEFT", 2) == (0, 2) and locate(hunks, "RIGHT", 2) == (0, 2)
    assert locate(hunks, "RIGHT", 5) == (1, 1) and locate(hunks, "RIGHT", 3) is None


ops = st.lists(st.sampled_from([" ", "+", "-"]), min_size=1, max_size=40)


@given(ops, st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=500))
def test_patch_parser_numbers_lines_like_git(marks: list[str], old_start: int, new_start: int) -> None:
    old_len = sum(m != "+" for m in marks)
    new_len = sum(m != "-" for m in marks)
    header = f"@@ -{old_start},{old_len} +{new_start},{new_len} @@"
    patch = "\n".join([header, *(f"{m}line {i}" for i, m in enumerate(marks))])
    (hunk,) = parse_patch(patch)
    old_no, new_no = old_start, new_start
    right, left = set(), set()
    for mark in marks:
        if mark != "-":
            right.add(new_no)
            new_no += 1
        if mark != "+":
            left.add(old_no)
            old_no += 1
    assert {n for s, n in hunk.order if s == "RIGHT"} == right
    assert {n for s, n in hunk.order if s == "LEFT"} == left
    assert hunk.added == marks.count("+") and hunk.removed == marks.count("-")


def corpus_files() -> list[Path]:
    return sorted((CORPUS / "diffs").glob("*.files.json")) if (CORPUS / "diffs").is_dir() else []


@pytest.mark.parametrize("path", [None, *corpus_files()], ids=lambda p: p.name if p else "factory")
def test_patch_parser_counts_match_real_github_files(path: Path | None) -> None:
    entries = files_api_entries() if path is None else json.loads(path.read_bytes())
    for entry in entries:
        if entry.get("patch") is None:
            continue
        hunks = parse_patch(entry["patch"])
        assert sum(h.added for h in hunks) == entry["additions"], entry["filename"]
        assert sum(h.removed for h in hunks) == entry["deletions"], entry["filename"]
