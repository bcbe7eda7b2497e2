"""Webhook payloads built in code, in the shapes GitHub documents, so no test needs ../shared/corpus.

Shapes follow GitHub's "Webhook events and payloads" docs: every key our code or tests read is
present with its documented type, plus the usual neighbours (ids, node ids, URLs) so a payload
looks like one GitHub sends. Defaults are the docs' own example: Codertocat/Hello-World, pull
request #2 from `changes` into `master`, installation 1. `tests/unit/test_factories.py` checks them
against the corpus's real examples when the corpus is present.
"""

from __future__ import annotations

import copy
import random
from typing import Any

OWNER = "Codertocat"
NAME = "Hello-World"
PR_NUMBER = 2
HEAD_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
BASE_SHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
INSTALLATION_ID = 1
API = "https://api.github.com"
WEB = "https://github.com"

Json = dict[str, Any]


def user(login: str = OWNER, *, type_: str = "User", id_: int = 21031067) -> Json:
    return {
        "login": login,
        "id": id_,
        "node_id": f"MDQ6VXNlcj{id_}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{id_}?v=4",
        "url": f"{API}/users/{login}",
        "html_url": f"{WEB}/{login}",
        "type": type_,
        "site_admin": False,
    }


def repository(owner: str = OWNER, name: str = NAME, *, id_: int = 186853002) -> Json:
    full = f"{owner}/{name}"
    return {
        "id": id_,
        "node_id": f"MDEwOlJlcG9zaXRvcnk{id_}",
        "name": name,
        "full_name": full,
        "private": False,
        "owner": user(owner),
        "html_url": f"{WEB}/{full}",
        "url": f"{API}/repos/{full}",
        "fork": False,
        "default_branch": "master",
        "visibility": "public",
    }


def installation(id_: int = INSTALLATION_ID) -> Json:
    return {"id": id_, "node_id": f"MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{id_}"}


def _ref(ref: str, sha: str, repo: Json) -> Json:
    owner = repo["owner"]["login"]
    return {"label": f"{owner}:{ref}", "ref": ref, "sha": sha, "user": user(owner), "repo": repo}


def pull_request(
    number: int = PR_NUMBER,
    *,
    head_sha: str = HEAD_SHA,
    base_sha: str = BASE_SHA,
    state: str = "open",
    draft: bool = False,
    title: str = "Update the README with new information.",
    body: str | None = "This is a pretty simple change that we need to pull into master.",
    author: str = OWNER,
    repo: Json | None = None,
) -> Json:
    repo = repo or repository()
    full = repo["full_name"]
    return {
        "url": f"{API}/repos/{full}/pulls/{number}",
        "id": 279147437,
        "node_id": "MDExOlB1bGxSZXF1ZXN0Mjc5MTQ3NDM3",
        "html_url": f"{WEB}/{full}/pull/{number}",
        "diff_url": f"{WEB}/{full}/pull/{number}.diff",
        "number": number,
        "state": state,
        "locked": False,
        "title": title,
        "user": user(author),
        "body": body,
        "created_at": "2019-05-15T15:20:33Z",
        "updated_at": "2019-05-15T15:20:33Z",
        "closed_at": "2019-05-15T15:20:33Z" if state == "closed" else None,
        "merged_at": None,
        "labels": [],
        "draft": draft,
        "head": _ref("changes", head_sha, repo),
        "base": _ref("master", base_sha, repo),
        "author_association": "OWNER",
        "merged": False,
        "commits": 1,
        "additions": 1,
        "deletions": 1,
        "changed_files": 1,
    }


def pull_request_event(
    action: str = "opened", *, installation_id: int | None = INSTALLATION_ID, **pr: Any
) -> Json:
    """A `pull_request` delivery; `pr` overrides fields of `pull_request(...)`."""
    repo = pr.pop("repo", None) or repository()
    if action == "closed":
        pr.setdefault("state", "closed")
    if action == "converted_to_draft":
        pr.setdefault("draft", True)
    payload: Json = {
        "action": action,
        "number": pr.get("number", PR_NUMBER),
        "pull_request": pull_request(repo=repo, **pr),
        "repository": repo,
        "sender": user(),
    }
    if action == "synchronize":
        payload["before"] = BASE_SHA
        payload["after"] = payload["pull_request"]["head"]["sha"]
    if action == "labeled":
        payload["label"] = {"id": 1362934389, "name": "bug", "color": "d73a4a", "default": True}
    if installation_id is not None:
        payload["installation"] = installation(installation_id)
    return payload


def issue_comment_event(
    action: str = "created",
    *,
    body: str = "You are totally right! I'll get this fixed right away.",
    issue_number: int = 1,
    on_pull_request: bool = False,
    comment_id: int = 492700400,
    author: str = OWNER,
    author_type: str = "User",
    association: str = "OWNER",
    installation_id: int | None = INSTALLATION_ID,
    repo: Json | None = None,
) -> Json:
    """An `issue_comment` delivery; GitHub adds `issue.pull_request` when the issue is a PR."""
    repo = repo or repository()
    full = repo["full_name"]
    issue: Json = {
        "url": f"{API}/repos/{full}/issues/{issue_number}",
        "html_url": f"{WEB}/{full}/issues/{issue_number}",
        "id": 444500041,
        "number": issue_number,
        "title": "Spelling error in the README file",
        "user": user(),
        "state": "open",
        "body": "It looks like you accidently spelled 'commit' with two 't's.",
    }
    if on_pull_request:
        issue["pull_request"] = {"url": f"{API}/repos/{full}/pulls/{issue_number}"}
    payload: Json = {
        "action": action,
        "issue": issue,
        "comment": {
            "url": f"{API}/repos/{full}/issues/comments/{comment_id}",
            "html_url": f"{WEB}/{full}/issues/{issue_number}#issuecomment-{comment_id}",
            "id": comment_id,
            "user": user(author, type_=author_type),
            "created_at": "2019-05-15T15:20:21Z",
            "updated_at": "2019-05-15T15:20:21Z",
            "author_association": association,
            "body": body,
        },
        "repository": repo,
        "sender": user(author, type_=author_type),
    }
    if action == "edited":
        payload["changes"] = {"body": {"from": "an earlier body"}}
    if installation_id is not None:
        payload["installation"] = installation(installation_id)
    return payload


def check_run_event(
    action: str = "rerequested",
    *,
    name: str = "randscape",
    head_sha: str = "d6fde92930d4715a2b49857d24b940956b26d2d3",
    external_id: str = "",
    pull_numbers: tuple[int, ...] = (),
    check_run_id: int = 4,
    repo: Json | None = None,
) -> Json:
    """A `check_run` delivery (the docs' example is another app's completed run with no PR)."""
    repo = repo or repository("github", "hello-world", id_=526)
    return {
        "action": action,
        "check_run": {
            "id": check_run_id,
            "head_sha": head_sha,
            "external_id": external_id,
            "url": f"{API}/repos/{repo['full_name']}/check-runs/{check_run_id}",
            "status": "completed",
            "conclusion": "neutral",
            "name": name,
            "app": {"id": 2, "slug": "octoapp", "name": "Octocat App"},
            "pull_requests": [{"number": n, "head": {"sha": head_sha}} for n in pull_numbers],
        },
        "repository": repo,
        "sender": user(),
        "installation": installation(),
    }


def installation_repositories_event(
    action: str = "added", *, installation_id: int = 957387, added: tuple[str, ...] = ("Codertocat/Space",)
) -> Json:
    repos = [
        {"id": 186853261 + i, "name": r.split("/")[1], "full_name": r, "private": False}
        for i, r in enumerate(added)
    ]
    return {
        "action": action,
        "installation": {"id": installation_id, "account": user(), "repository_selection": "selected"},
        "repository_selection": "selected",
        "repositories_added": repos if action == "added" else [],
        "repositories_removed": repos if action == "removed" else [],
        "requester": None,
        "sender": user(),
    }


def ping_event(app_id: int = 29310, hook_id: int = 109948940) -> Json:
    return {
        "zen": "Anything added dilutes everything else.",
        "hook_id": hook_id,
        "hook": {"type": "App", "id": hook_id, "name": "web", "active": True, "app_id": app_id},
        "sender": user(),
    }


# The corpus file names tests refer to, built here instead (same event, action and key values).
_BY_NAME: dict[str, Any] = {
    "pull_request.opened.payload.json": lambda: pull_request_event("opened"),
    "pull_request.opened.with-null-body.json": lambda: pull_request_event("opened", body=None),
    "pull_request.synchronize.payload.json": lambda: pull_request_event("synchronize"),
    "pull_request.reopened.payload.json": lambda: pull_request_event("reopened"),
    "pull_request.ready_for_review.with-installation.payload.json": lambda: pull_request_event(
        "ready_for_review"
    ),
    "pull_request.labeled.payload.json": lambda: pull_request_event("labeled"),
    "pull_request.converted_to_draft.with-installation.payload.json": lambda: pull_request_event(
        "converted_to_draft"
    ),
    "pull_request.closed.payload.json": lambda: pull_request_event("closed"),
    "issue_comment.created.payload.json": lambda: issue_comment_event(installation_id=None),
    "issue_comment.created.1.payload.json": lambda: issue_comment_event(installation_id=None),
    "issue_comment.created.with-installation.payload.json": lambda: issue_comment_event(),
    "issue_comment.created.with-organization.payload.json": lambda: issue_comment_event(installation_id=None),
    "issue_comment.edited.payload.json": lambda: issue_comment_event("edited", installation_id=None),
    "issue_comment.edited.with-organization.payload.json": lambda: issue_comment_event(
        "edited", installation_id=None
    ),
    "check_run.rerequested.payload.json": lambda: check_run_event(),
    "installation_repositories.added.payload.json": lambda: installation_repositories_event(),
    "ping.with-app_id.payload.json": lambda: ping_event(),
}
KNOWN_NAMES = tuple(_BY_NAME)


def payload_named(name: str) -> Json:
    """The factory twin of the corpus payload file `name` (a fresh copy each call)."""
    try:
        return copy.deepcopy(_BY_NAME[name]())
    except KeyError:
        raise KeyError(f"no factory for {name!r}; add one to tests/factories.py") from None


# ---- files-API entries ("List pull request files") and unified diffs ---------------------------------

_CODE = [
    "def total(items):",
    "    return sum(item.price for item in items)",
    "class Cart:",
    '    """A shopping cart."""',
    "    def add(self, item):",
    "        self.items.append(item)",
    "import os",
    "# TODO: remove the fallback",
    "x = compute(a, b, c=True)",
    "if user is None:",
    "    raise ValueError('no user')",
    "",
]


def _line(rng: random.Random) -> str:
    return rng.choice(_CODE) + ("" if rng.random() < 0.7 else f"  # {rng.randint(0, 999)}")


def _hunks(rng: random.Random, kind: str, hunks: int) -> tuple[str, int, int]:
    """A hunks-only patch as the files API sends it (no trailing newline); return it, +, -."""
    out: list[str] = []
    adds = dels = 0
    old = new = rng.randint(1, 40)
    for _ in range(hunks):
        plus = rng.randint(0 if kind == "modified" else 1, 6)
        minus = rng.randint(1 if plus == 0 else 0, 4) if kind == "modified" else 0
        if kind == "removed":
            plus, minus = 0, rng.randint(1, 8)
        ctx = 3 if kind == "modified" else 0
        body = [" " + _line(rng) for _ in range(ctx)]
        body += ["-" + _line(rng) for _ in range(minus)] + ["+" + _line(rng) for _ in range(plus)]
        body += [" " + _line(rng) for _ in range(ctx)]
        old_len, new_len = 2 * ctx + minus, 2 * ctx + plus
        o = 0 if kind == "added" else old
        n = 0 if kind == "removed" else new
        out.append(f"@@ -{o},{old_len} +{n},{new_len} @@" + (" def f():" if rng.random() < 0.5 else ""))
        out += body
        adds, dels = adds + plus, dels + minus
        gap = rng.randint(4, 30)
        old, new = old + old_len + gap, new + new_len + gap
        if kind != "modified":
            break
    return "\n".join(out), adds, dels


def files_api_entries(seed: int = 7, count: int = 14) -> list[Json]:
    """A PR's file list in the files-API shape: edits, adds, removals, renames (with and without
    changes) and a binary, with patches whose counts agree with `additions`/`deletions`."""
    rng = random.Random(seed)
    kinds = ["modified", "added", "removed", "renamed", "renamed-pure", "binary"]
    entries: list[Json] = []
    for index in range(count):
        kind = kinds[index] if index < len(kinds) else rng.choice(["modified", "modified", "added"])
        path = f"{rng.choice(['app', 'src/lib', 'tests'])}/m{index}.{rng.choice(['py', 'ts', 'go'])}"
        entry: Json = {"sha": f"{index:040x}", "filename": path, "status": kind.split("-")[0], "changes": 0}
        if kind == "binary":
            entry.update(filename=f"assets/logo{index}.png", status="added", additions=0, deletions=0)
        elif kind == "renamed-pure":
            entry.update(previous_filename=f"old/{path}", additions=0, deletions=0)
        else:
            patch, adds, dels = _hunks(rng, "modified" if kind == "renamed" else kind, rng.randint(1, 3))
            entry.update(patch=patch, additions=adds, deletions=dels)
            if kind == "renamed":
                entry["previous_filename"] = f"old/{path}"
        entry["changes"] = entry["additions"] + entry["deletions"]
        entries.append(entry)
    return entries


def unified_diff(entries: list[Json]) -> bytes:
    """The same change as `git diff` prints it (headers, then each entry's hunks)."""
    out: list[str] = []
    for e in entries:
        new, old = e["filename"], e.get("previous_filename", e["filename"])
        out.append(f"diff --git a/{old} b/{new}")
        if e["status"] == "added":
            out += ["new file mode 100644", "index 0000000..1111111"]
        elif e["status"] == "removed":
            out += ["deleted file mode 100644", "index 1111111..0000000"]
        elif e["status"] == "renamed":
            out += ["similarity index 90%", f"rename from {old}", f"rename to {new}"]
        if "patch" not in e:
            if e["status"] == "added":
                out.append(f"Binary files /dev/null and b/{new} differ")
            continue
        out.append("--- /dev/null" if e["status"] == "added" else f"--- a/{old}")
        out.append("+++ /dev/null" if e["status"] == "removed" else f"+++ b/{new}")
        out.append(e["patch"])
    return ("\n".join(out) + "\n").encode()
