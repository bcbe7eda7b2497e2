"""Issue "Diff intelligence" end to end: every changed line seen, every comment on the right line, no file
dropped silently.

Each test opens a PR on the fake GitHub, delivers a signed `pull_request.opened` webhook to the real app and
checks what the fake GitHub received: one review accepted on the first try (no 422), inline comments on the
lines whose text the model quoted (even when it cited the wrong number), and every file that was not
reviewed named in the summary with its reason.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, webhook_payload
from tests.e2e.harness import Stack, running_stack, summary_comments, wait_for
from tests.factories import files_api_entries
from tests.fakes.openai_server import Brain, ChunkView, FakeOpenAI, finding

# The corpus payload `pull_request.opened.payload.json` is Codertocat/Hello-World PR #2 at these commits.
OWNER, NAME, NUMBER, INSTALLATION = "Codertocat", "Hello-World", 2, 1
HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
BASE = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
BASE_REF = "master"
BUG = "BUG:"

# ---- reading patches back, independently of app/diff -------------------------------------------------

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class PatchLine:
    side: str  # where GitHub anchors it: "RIGHT" (added/context) or "LEFT" (removed)
    number: int
    old_no: int | None
    new_no: int | None
    mark: str  # "+", "-" or " "
    text: str
    hunk: int


def patch_lines(patch: str) -> list[PatchLine]:
    """Walk a files-API patch by its hunk counts and return every line with its numbers."""
    out: list[PatchLine] = []
    rows = patch.split("\n")
    i = hunk = 0
    while i < len(rows):
        match = _HUNK.match(rows[i])
        i += 1
        if match is None:
            continue  # "\ No newline at end of file" or the trailing empty string
        old_no, new_no = int(match[1]), int(match[3])
        old_left = int(match[2]) if match[2] is not None else 1
        new_left = int(match[4]) if match[4] is not None else 1
        while (old_left or new_left) and i < len(rows):
            row = rows[i]
            i += 1
            mark, text = row[:1] or " ", row[1:]
            if mark == "\\":
                continue
            if mark == "+":
                out.append(PatchLine("RIGHT", new_no, None, new_no, "+", text, hunk))
                new_no, new_left = new_no + 1, new_left - 1
            elif mark == "-":
                out.append(PatchLine("LEFT", old_no, old_no, None, "-", text, hunk))
                old_no, old_left = old_no + 1, old_left - 1
            else:
                out.append(PatchLine("RIGHT", new_no, old_no, new_no, " ", text, hunk))
                old_no, new_no, old_left, new_left = old_no + 1, new_no + 1, old_left - 1, new_left - 1
        hunk += 1
    return out


def text_at(lines: list[PatchLine]) -> dict[tuple[str, int], str]:
    """Map every commentable (side, line) of a patch to its text (context lines on both sides)."""
    spots: dict[tuple[str, int], str] = {}
    for line in lines:
        if line.new_no is not None:
            spots[("RIGHT", line.new_no)] = line.text
        if line.old_no is not None:
            spots[("LEFT", line.old_no)] = line.text
    return spots


def hunk(old_start: int, new_start: int, *body: str) -> str:
    """Return one hunk: a header whose counts match `body` (lines starting with " ", "+" or "-")."""
    old_len = sum(1 for row in body if row[:1] in (" ", "-"))
    new_len = sum(1 for row in body if row[:1] in (" ", "+"))
    if old_len == 0:
        old_start = 0
    return "\n".join([f"@@ -{old_start},{old_len} +{new_start},{new_len} @@", *body])


def patch(*hunks: str) -> str:
    return "\n".join(hunks)


def counts(text: str) -> tuple[int, int]:
    lines = patch_lines(text)
    return sum(1 for x in lines if x.mark == "+"), sum(1 for x in lines if x.mark == "-")


def squash(text: str) -> str:
    return " ".join(text.split())


# ---- driving the stack --------------------------------------------------------------------------------


@contextmanager
def stack_with(tmp_path: Path, brain: Brain, **env: Any) -> Iterator[Stack]:
    with running_stack(tmp_path, model=FakeOpenAI(brain=brain), **env) as stack:
        stack.github.add_repo(OWNER, NAME, INSTALLATION)
        yield stack


def open_pr(stack: Stack, files: list[dict[str, Any]]) -> None:
    stack.github.add_pull(OWNER, NAME, NUMBER, head_sha=HEAD, base_sha=BASE, base_ref=BASE_REF, files=files)


def review_after_webhook(stack: Stack, timeout: float = 20.0) -> tuple[dict[str, Any], float]:
    """Deliver `pull_request.opened`, wait for the run's living summary comment (written last, after
    the review when there is one); return the summary comment and the seconds it took."""
    payload = webhook_payload("pull_request.opened.payload.json")
    started = time.monotonic()
    response = stack.deliver("pull_request", payload)
    assert response.status_code == 202, response.text
    found = wait_for(
        lambda: summary_comments(stack.github, OWNER, NAME, NUMBER), timeout=timeout, what="the summary"
    )
    elapsed = time.monotonic() - started
    assert len(stack.github.reviews(OWNER, NAME, NUMBER)) <= 1 and len(found) == 1
    return found[0], elapsed


def finished_run(stack: Stack, review: dict[str, Any]) -> dict[str, Any]:
    link = re.search(r"http://mini-review\.test/runs/([0-9a-f]{32})", review["body"])
    assert link, review["body"]
    run_id = link.group(1)

    def posted() -> dict[str, Any] | None:
        found = stack.run_json(run_id)
        return found if found.get("status") == "posted" else None

    return wait_for(posted, what="the finished run record")


def summary_text(stack: Stack, review: dict[str, Any]) -> str:
    """The living summary comment's body (one comment, whatever its size)."""
    [summary] = summary_comments(stack.github, OWNER, NAME, NUMBER)
    return str(summary["body"])


_NOT_REVIEWED = re.compile(r"^- `(?P<path>[^`]+)`: (?P<reason>.+) \((?P<n>[\d,]+) changed lines?\)$", re.M)


def not_reviewed(body: str) -> dict[str, str]:
    """Parse the summary's "Not reviewed" list into {path: reason}."""
    return {m["path"]: m["reason"] for m in _NOT_REVIEWED.finditer(body)}


_COVERAGE = re.compile(
    r"Reviewed (?P<sent>[\d,]+) of (?P<total>[\d,]+) changed lines? "
    r"in (?P<files>[\d,]+) of (?P<all>[\d,]+) files?"
)


def coverage(body: str) -> tuple[int, int, int, int]:
    found = _COVERAGE.search(body)
    assert found, body
    sent, total, files, every = (int(found[k].replace(",", "")) for k in ("sent", "total", "files", "all"))
    return sent, total, files, every


# ---- 1. one PR with every kind of file ----------------------------------------------------------------

APP_PATCH = patch(
    hunk(
        10,
        10,
        " def total(items):",
        "     total = 0",
        "     for item in items:",
        "-        total += item.price",
        "+        total += item.price + 1  # BUG: off by one in the running total",
        "     return total",
        " ",
        " ",
    ),
    hunk(
        40,
        40,
        " def handle(payload):",
        "     data = parse(payload)",
        "-    verify_signature(payload)  # BUG: signature check removed from the handler",
        "+    log_payload(payload)",
        "     return dispatch(data)",
        " ",
        " ",
    ),
    hunk(
        70,
        70,
        " def refresh(url, key):",
        "     if key in cache:",
        "         return cache[key]",
        "+    data = fetch(url)  # BUG: missing timeout on the outbound fetch",
        "+    cache[key] = data",
        "+    return data",
        " ",
        " ",
    ),
)
MOVED_PATCH = patch(
    hunk(
        3,
        3,
        " def lookup(name):",
        "     if name not in SECRETS:",
        "-        raise KeyError(name)",
        "+        raise ValueError(SECRETS)  # BUG: leaks every secret into the error message",
        "     return SECRETS[name]",
    )
)
SERVICE_PATCH = patch(
    hunk(
        0,
        1,
        *[
            "+" + text
            for text in [
                "import subprocess",
                "",
                "",
                "def run(cmd):",
                "    return subprocess.call(cmd, shell=True)  # BUG: shell injection through cmd",
                "",
                "",
                "def ping(host):",
                '    """Check a host answers."""',
                "    result = run(f'ping -c 1 {host}')",
                "    return result == 0",
                "",
                "",
                "def parse_port(value):",
                "    port = int(value)",
                "    if port < 0:",
                "        raise ValueError(value)",
                "    return port  # BUG: ports above 65535 are accepted",
                "",
                "",
                "def main():",
                "    print(ping('localhost'))",
            ]
        ],
    )
)
TEST_PATCH = patch(
    hunk(
        20,
        20,
        " def test_total():",
        "     items = [Item(1), Item(2)]",
        "-    assert total(items) == 3",
        "+    assert total(items) == 5  # BUG: the test asserts the buggy value",
        " ",
        " ",
    )
)
DELETED_PATCH = patch(
    hunk(1, 0, *["-" + t for t in ["import os", "", "def legacy():", "    return os.getcwd()"]])
)
LOCK_PATCH = patch(
    hunk(
        100,
        100,
        ' name = "requests"',
        '-version = "2.31.0"',
        '+version = "2.32.3"  # BUG: not for review, lockfiles are skipped',
        ' description = "Python HTTP for Humans."',
    )
)
NPM_LOCK_PATCH = patch(
    hunk(
        5,
        5,
        '     "node_modules/left-pad": {',
        '-      "version": "1.3.0",',
        '+      "version": "1.3.1",',
        '       "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.1.tgz"',
    )
)
VENDORED_PATCH = patch(
    hunk(
        1,
        1,
        " module.exports = function client() {",
        "-  return fetch(URL);",
        "+  return fetch(URL, { insecure: true });  // BUG: vendored code must not be reviewed",
        " };",
    )
)
GENERATED_PATCH = patch(
    hunk(
        0,
        1,
        "+// Code generated by protoc-gen-go. DO NOT EDIT.",
        "+// source: api/types.proto",
        "+",
        "+package api",
        "+",
        "+type Token struct { Secret string }  // BUG: generated code must not be reviewed",
    )
)

# The oversized file GitHub sends without a patch: its contents are served at both shas, so the app
# rebuilds the diff. Lines are unique so the rebuilt diff has exactly one shape.
BIG_BASE = [f"value_{i:03d} = compute({i})" for i in range(1, 301)]
BIG_HEAD = list(BIG_BASE)
BIG_HEAD[49] = "value_050 = eval(user_input)  # BUG: eval of user input in the big module"
BIG_HEAD.insert(199, "os.remove(path)  # BUG: deletes a file without checking the path")
del BIG_HEAD[250]  # value_250 (shifted by one after the insert)
BIG_ADDS, BIG_DELS = 2, 2
BIG_TITLES = ["eval of user input in the big module", "deletes a file without checking the path"]

# Cited line = real line + offset: the model gets most numbers wrong by 1-3 but quotes the text right.
OFFSETS = (1, -2, 3, -3, 2, -1)
RANGE_TITLE = "missing timeout on the outbound fetch"
OLD_PATH_TITLE = "leaks every secret into the error message"


def offset_for(title: str) -> int:
    return OFFSETS[sum(map(ord, title)) % len(OFFSETS)]


def mixed_brain(view: ChunkView) -> list[dict[str, Any]]:
    """Flag every BUG line (added or removed) with a wrong number and the right quote."""
    out = []
    changed = [line for line in view.lines if line.mark != " "]
    for line in view.lines:
        if BUG not in line.text:
            continue
        title = line.text.split(BUG, 1)[1].strip()
        cited = finding(
            view, line, line=line.number + offset_for(title), title=title, body=f"About: {title}."
        )
        if title == RANGE_TITLE:
            # A range starting in the chunk's first hunk: across hunks, which GitHub would refuse.
            cited["start_line"] = changed[0].number
        if title == OLD_PATH_TITLE and view.old_path:
            cited["path"] = view.old_path  # models often name the file by its old path
        out.append(cited)
    return out


def mixed_files() -> list[dict[str, Any]]:
    return [
        {"filename": "src/app.py", "status": "modified", "patch": APP_PATCH},
        {"filename": "src/new_name.py", "status": "renamed", "previous_filename": "src/old_name.py"},
        {
            "filename": "src/moved_and_edited.py",
            "status": "renamed",
            "previous_filename": "src/before_edit.py",
            "patch": MOVED_PATCH,
        },
        {"filename": "src/service.py", "status": "added", "patch": SERVICE_PATCH},
        {"filename": "tests/test_app.py", "status": "modified", "patch": TEST_PATCH},
        {"filename": "assets/logo.png", "status": "modified", "additions": 0, "deletions": 0},
        {"filename": "poetry.lock", "status": "modified", "patch": LOCK_PATCH},
        {"filename": "web/package-lock.json", "status": "modified", "patch": NPM_LOCK_PATCH},
        {"filename": "src/big_module.py", "status": "modified", "additions": BIG_ADDS, "deletions": BIG_DELS},
        {"filename": "src/huge_data.py", "status": "added", "additions": 6000, "deletions": 0},
        {"filename": "vendor/acme/client.js", "status": "modified", "patch": VENDORED_PATCH},
        {"filename": "api/types_gen.go", "status": "added", "patch": GENERATED_PATCH},
        {"filename": "src/obsolete.py", "status": "removed", "patch": DELETED_PATCH},
    ]


EXPECTED_SKIPS = {
    "src/new_name.py": "no line changes",
    "assets/logo.png": "binary file",
    "poetry.lock": "lockfile",
    "web/package-lock.json": "lockfile",
    "src/huge_data.py": "diff too large for GitHub to show",
    "vendor/acme/client.js": "vendored code",
    "api/types_gen.go": "generated code",
    "src/obsolete.py": "deleted file",
}
REVIEWED_WITH_PATCH = ["src/app.py", "src/moved_and_edited.py", "src/service.py", "tests/test_app.py"]


def test_mixed_pr_lands_with_every_comment_on_its_bug_line(tmp_path: Path) -> None:
    with stack_with(tmp_path, mixed_brain) as stack:
        open_pr(stack, mixed_files())
        stack.github.set_file(OWNER, NAME, BASE, "src/big_module.py", "\n".join(BIG_BASE) + "\n")
        stack.github.set_file(OWNER, NAME, HEAD, "src/big_module.py", "\n".join(BIG_HEAD) + "\n")
        review, elapsed = review_after_webhook(stack)
        print(f"\nmixed PR: review posted {elapsed:.2f} s after the webhook")
        run = finished_run(stack, review)
        body = summary_text(stack, review)

        assert stack.github.rejected_reviews == 0
        assert len(stack.github.reviews(OWNER, NAME, NUMBER)) == 1
        assert [r["commit_id"] for r in stack.github.reviews(OWNER, NAME, NUMBER)] == [HEAD]

        # Skipped files never reach the model; the rebuilt one does.
        seen = {path for request in stack.model.requests for path in request.paths}
        assert seen == {*REVIEWED_WITH_PATCH, "src/big_module.py"}
        assert stack.model.internal_errors == []

        # Every BUG line of a file with a patch carries exactly one comment, on that very line.
        files = {f["filename"]: f for f in mixed_files()}
        expected = {
            (path, line.side, line.number): line.text.split(BUG, 1)[1].strip()
            for path in REVIEWED_WITH_PATCH
            for line in patch_lines(files[path]["patch"])
            if BUG in line.text
        }
        comments = stack.github.review_comments(OWNER, NAME, NUMBER)
        landed = {(c["path"], c["side"], c["line"]): c for c in comments}
        assert sorted(landed) == sorted(expected), [c["body"][:80] for c in comments]
        assert len(comments) == len(expected)
        for spot, title in expected.items():
            assert title in landed[spot]["body"], (spot, landed[spot]["body"])
        # The removed line is anchored on the old side; the cross-hunk range was cut to its end's hunk.
        assert ("src/app.py", "LEFT", 42) in landed
        ranged = landed[("src/app.py", "RIGHT", 73)]
        app_lines = patch_lines(APP_PATCH)
        if ranged["start_line"] is not None:
            hunk_of = {(x.side, x.number): x.hunk for x in app_lines}
            assert hunk_of[(ranged["start_side"], ranged["start_line"])] == 2
            assert ranged["start_line"] < ranged["line"]

        # The rebuilt file's findings are in the summary (its diff is not GitHub's), not inline.
        assert not any(c["path"] == "src/big_module.py" for c in comments)
        assert "rebuilt it from the file contents" in body
        notes = body.split("**Not placed on a line of the diff**", 1)
        assert len(notes) == 2, body
        for title in BIG_TITLES:
            note = re.search(rf"{re.escape(title)}\*\* in `src/big_module\.py` — _(?P<why>[^_]+)_", notes[1])
            assert note and note["why"].startswith("GitHub did not provide this file"), notes[1]

        # Every file not reviewed is listed with its reason.
        listed = not_reviewed(body)
        assert set(listed) == set(EXPECTED_SKIPS), listed
        for path, reason in EXPECTED_SKIPS.items():
            assert listed[path].startswith(reason), (path, listed[path])
        assert {s["path"] for s in run["skipped"]} == set(EXPECTED_SKIPS)
        # The BUG lines of skipped files were never reported.
        assert "must not be reviewed" not in body and "lockfiles are skipped" not in body

        # Coverage sentence == run record == what the PR holds.
        sent, total, files_reviewed, files_total = coverage(body)
        all_changes = sum(sum(counts(f["patch"])) for f in files.values() if "patch" in f)
        all_changes += BIG_ADDS + BIG_DELS + 6000
        reviewed_changes = sum(sum(counts(files[p]["patch"])) for p in REVIEWED_WITH_PATCH)
        reviewed_changes += BIG_ADDS + BIG_DELS
        assert (sent, total) == (run["lines_sent"], run["lines_total"]) == (reviewed_changes, all_changes)
        assert (files_reviewed, files_total) == (5, len(files))
        assert run["files_total"] == len(files) and run["files_reviewed"] == 5

        # No finding was lost: each one is inline or in the summary, none dropped.
        outcomes = [row["outcome"] for row in run["findings"]]
        assert len(outcomes) == len(expected) + len(BIG_TITLES), outcomes
        assert sum(o == "inline comment" for o in outcomes) == len(expected)
        assert not any(o.startswith("dropped") for o in outcomes)
        assert run["inline_count"] == len(expected)


# ---- 2. real GitHub file lists from the corpus, a model citing random lines ---------------------------

FILES_TWINS = sorted(p.name for p in (CORPUS / "diffs").glob("*.files.json")) if CORPUS.exists() else []


@dataclass(frozen=True)
class Cited:
    path: str
    side: str
    number: int  # the true line
    text: str
    offset: int


class RandomCiter:
    """A brain citing random changed lines (seeded per chunk) with correct quotes and random offsets."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.cited: dict[int, Cited] = {}
        self._lock = threading.Lock()

    def __call__(self, view: ChunkView) -> list[dict[str, Any]]:
        rng = random.Random(f"{self.seed}:{view.path}:{view.part}")
        changed = [line for line in view.lines if line.mark != " "]
        out = []
        for line in rng.sample(changed, min(len(changed), rng.randint(1, 3))):
            offset = rng.choice([0, 0, -3, -2, -1, 1, 2, 3])
            with self._lock:
                key = len(self.cited) + 1
                side = "LEFT" if line.mark == "-" else "RIGHT"
                self.cited[key] = Cited(view.path, side, line.number, line.text, offset)
            # Numbers stay >= 1: the strict schema forbids others, so a real model cannot send them.
            number = max(1, line.number + offset)
            cited = finding(view, line, line=number, title=f"Case {key}", body="Look here.")
            if rng.random() < 0.3:
                cited["start_line"] = max(1, cited["line"] - rng.randint(1, 6))
            out.append(cited)
        return out


@pytest.mark.parametrize("twin", ["factory", *FILES_TWINS])
def test_corpus_file_lists_with_random_citations_land_without_422(tmp_path: Path, twin: str) -> None:
    # The project's own file list always; each real GitHub file list of the corpus when present.
    entries: list[dict[str, Any]] = (
        files_api_entries() if twin == "factory" else json.loads((CORPUS / "diffs" / twin).read_bytes())
    )
    brain = RandomCiter(seed=901)
    with stack_with(tmp_path, brain, MINI_MAX_INLINE_COMMENTS=100) as stack:
        open_pr(stack, entries)
        review, _ = review_after_webhook(stack)
        run = finished_run(stack, review)
        assert stack.github.rejected_reviews == 0
        assert stack.model.internal_errors == []

        patches = {e["filename"]: text_at(patch_lines(e["patch"])) for e in entries if e.get("patch")}
        comments = stack.github.review_comments(OWNER, NAME, NUMBER)
        for comment in comments:
            key = re.search(r"Case (\d+)", comment["body"])
            assert key, comment["body"]
            cited = brain.cited[int(key[1])]
            assert comment["path"] == cited.path
            shown = patches[cited.path][(comment["side"], comment["line"])]
            if len("".join(cited.text.split())) >= 4:  # short quotes may be trusted at the cited line
                assert squash(shown) == squash(cited.text), (cited, comment["side"], comment["line"])
            if cited.offset == 0:
                assert (comment["side"], comment["line"]) == (cited.side, cited.number)
        # Every finding is accounted for: inline or in the summary, never silently gone.
        outcomes = [row["outcome"] for row in run["findings"]]
        assert len(outcomes) == len(brain.cited)
        assert sum(o == "inline comment" for o in outcomes) == len(comments)
        # Two citations of one line in one category share a fingerprint (titles do not count), so the
        # second is folded into the first.
        folded = {"inline comment", "already posted earlier"}
        assert all(o in folded or o.startswith("summary") for o in outcomes), outcomes
        listed = not_reviewed(summary_text(stack, review))
        reviewed = {p for request in stack.model.requests for p in request.paths}
        assert set(listed) | reviewed == {e["filename"] for e in entries}
        assert not set(listed) & reviewed


# ---- 3. a large PR: pagination and the per-PR chunk budget -------------------------------------------


def one_change(path: str, n: int) -> dict[str, Any]:
    body = [" header"] + [f"+line {k} of {path}" for k in range(n)] + [" footer"]
    return {"filename": path, "status": "modified", "patch": hunk(1, 1, *body)}


def test_large_pr_reviews_source_first_and_lists_what_the_budget_left_out(tmp_path: Path) -> None:
    sources = [one_change(f"src/mod_{i:03d}.py", 1 + i % 3) for i in range(12)]
    tests = [one_change(f"tests/test_mod_{i:03d}.py", 1 + i % 5) for i in range(150)]
    docs = [one_change(f"docs/page_{i:03d}.md", 2) for i in range(238)]
    files = sources + tests + docs
    random.Random(7).shuffle(files)  # the files API order must not decide priority

    with stack_with(tmp_path, lambda view: [], MINI_MAX_CHUNKS_PER_PR=20) as stack:
        open_pr(stack, files)
        review, elapsed = review_after_webhook(stack, timeout=40)
        print(f"\n400-file PR: review posted {elapsed:.2f} s after the webhook")
        run = finished_run(stack, review)
        body = summary_text(stack, review)
        assert stack.github.rejected_reviews == 0

        pages = sorted(
            int(r.query.get("page", "1"))
            for r in stack.github.requests
            if r.method == "GET" and r.path.endswith(f"/pulls/{NUMBER}/files")
        )
        assert pages == [1, 2, 3, 4]
        assert run["files_total"] == 400

        seen = [p for request in stack.model.requests for p in request.paths]
        assert len(seen) == len(set(seen)) == 20  # the 20 chunks allowed, each sent once
        assert len(stack.model.requests) < 20  # small files share calls
        changed = {f["filename"]: sum(counts(f["patch"])) for f in files}
        top_tests = sorted((-changed[f["filename"]], f["filename"]) for f in tests)[:8]
        assert set(seen) == {f["filename"] for f in sources} | {path for _, path in top_tests}

        listed = not_reviewed(body)
        assert set(listed) == set(changed) - set(seen)
        assert all(reason.startswith("over the review budget") for reason in listed.values())
        sent, total, reviewed, every = coverage(body)
        assert (sent, total) == (run["lines_sent"], run["lines_total"])
        assert sent == sum(changed[p] for p in seen) and total == sum(changed.values())
        assert (reviewed, every) == (20, 400)


# ---- 4. repository config: excluded paths ------------------------------------------------------------


def test_config_on_the_base_branch_excludes_docs_from_the_model(tmp_path: Path) -> None:
    def brain(view: ChunkView) -> list[dict[str, Any]]:
        return [finding(view, line, title="Bug here") for line in view.lines if BUG in line.text]

    files: list[dict[str, Any]] = [
        {
            "filename": "src/x.py",
            "status": "modified",
            "patch": hunk(3, 3, " a = 1", "+b = 2  # BUG: here", " c = 3"),
        },
        {"filename": "docs/guide.md", "status": "modified", "patch": hunk(1, 1, " # Guide", "+BUG: in docs")},
        {"filename": "docs/api/ref.md", "status": "added", "patch": hunk(0, 1, "+BUG: in nested docs")},
    ]
    with stack_with(tmp_path, brain) as stack:
        stack.github.set_file(
            OWNER, NAME, BASE_REF, ".github/mini-review.yml", 'paths:\n  exclude: ["docs/**"]\n'
        )
        open_pr(stack, files)
        review, _ = review_after_webhook(stack)
        body = summary_text(stack, review)
        assert stack.github.rejected_reviews == 0
        assert {p for request in stack.model.requests for p in request.paths} == {"src/x.py"}
        # The docs' text never reached the model (their paths may appear in the PR's file list).
        sent_text = "".join(request.user for request in stack.model.requests)
        assert "in docs" not in sent_text and "in nested docs" not in sent_text
        listed = not_reviewed(body)
        assert listed == {"docs/guide.md": "excluded by config", "docs/api/ref.md": "excluded by config"}
        comments = stack.github.review_comments(OWNER, NAME, NUMBER)
        assert [(c["path"], c["line"]) for c in comments] == [("src/x.py", 4)]


# ---- rebuilt diffs of patch-less files: regressions found by these tests ----------------------------


def test_rebuilt_diff_keeps_removed_lines_that_start_with_dashes(tmp_path: Path) -> None:
    base = [f"CREATE INDEX idx_{i} ON t (c{i});" for i in range(40)]
    base[20] = "-- legacy index, remove later"  # removed below: difflib writes it as "--- legacy ..."
    head = list(base)
    head[10] = "CREATE INDEX idx_all ON t (c1, c2);  -- BUG: duplicate of idx_1 and idx_2"
    del head[20]
    files: list[dict[str, Any]] = [
        {"filename": "db/schema.sql", "status": "modified", "additions": 1, "deletions": 2},
        {
            "filename": "src/x.py",
            "status": "modified",
            "patch": hunk(3, 3, " a = 1", "+b = 2  # BUG: here", " c"),
        },
    ]
    with stack_with(tmp_path, mixed_brain) as stack:
        open_pr(stack, files)
        stack.github.set_file(OWNER, NAME, BASE, "db/schema.sql", "\n".join(base) + "\n")
        stack.github.set_file(OWNER, NAME, HEAD, "db/schema.sql", "\n".join(head) + "\n")
        review, _ = review_after_webhook(stack, timeout=5)
        run = finished_run(stack, review)
        assert {p for request in stack.model.requests for p in request.paths} == {"db/schema.sql", "src/x.py"}
        assert "duplicate of idx_1 and idx_2" in summary_text(stack, review)
        assert (run["lines_sent"], run["lines_total"]) == (4, 4)


def test_patchless_file_too_large_for_the_contents_api_is_listed_not_fatal(tmp_path: Path) -> None:
    files: list[dict[str, Any]] = [
        {"filename": "data/huge.py", "status": "modified", "additions": 9000, "deletions": 10},
        {
            "filename": "src/x.py",
            "status": "modified",
            "patch": hunk(3, 3, " a = 1", "+b = 2  # BUG: here", " c"),
        },
    ]
    with stack_with(tmp_path, mixed_brain) as stack:
        open_pr(stack, files)
        # What GitHub's contents API answers for a 1-100 MB file without the raw media type.
        too_large = {
            "type": "file",
            "encoding": "none",
            "content": "",
            "size": 5_000_000,
            "path": "data/huge.py",
        }
        stack.github.fail_next("GET", r"/contents/data/huge\.py$", 200, times=4, body=too_large)
        stack.deliver("pull_request", webhook_payload("pull_request.opened.payload.json"))

        def completed_check() -> list[dict[str, Any]]:
            runs = stack.github.check_runs(OWNER, NAME).values()
            return [states[-1] for states in runs if states[-1]["status"] == "completed"]

        check = wait_for(completed_check, what="the completed check run")[0]
        assert "could not complete" not in check["output"]["title"], check["output"]
        reviews = stack.github.reviews(OWNER, NAME, NUMBER)
        assert len(reviews) == 1
        body = summary_text(stack, reviews[0])
        assert not_reviewed(body) == {"data/huge.py": "diff too large for GitHub to show"}
        comments = stack.github.review_comments(OWNER, NAME, NUMBER)
        assert [(c["path"], c["line"]) for c in comments] == [("src/x.py", 4)]
