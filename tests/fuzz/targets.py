"""Fuzz targets shared by the suite (small budget) and bench/fuzz.py (large budget).

Each target takes hostile input from a hypothesis strategy and checks the contract: it returns a value
or raises the module's documented error, and what it returns keeps its promises (the renderer never
emits a live mention, image, foreign link, HTML tag or unbalanced fence). Strategies mix building
blocks of each grammar with arbitrary text, which reaches deeper than random bytes alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from hypothesis import strategies as st

from app.commands.parse import Command, UnknownCommand, parse_commands
from app.config.policy import PullFacts, auto_review_decision, path_instructions_for
from app.config.repo_config import RepoConfig, effective_config, render_config
from app.diff.parse import DiffParseError, parse_file_patch, parse_unified_diff
from app.publish.fingerprint import markers_in
from app.publish.links import LinkPolicy
from app.publish.markdown import ReviewSummary, comment_body, neutralise, not_understood, summary_body
from app.publish.placement import FileNote, place_findings
from app.review.findings import Category, Finding, Severity
from app.webhooks.intents import BadPayloadError, Intent, decide
from tests.unit.publish.helpers import file_diff, hunk
from tests.unit.publish.rendered import LIVE_FENCES, Rendered, read
from tests.unit.publish.test_markdown import fence_open_at_end

OWN = LinkPolicy("https://github.com/octo/app")
FP = "0123456789abcdef"


def text_from(fragments: list[str], max_size: int = 40) -> st.SearchStrategy[str]:
    """Text made of grammar fragments and arbitrary characters, in any order."""
    piece = st.one_of(st.sampled_from(fragments), st.text(max_size=8))
    return st.lists(piece, max_size=max_size).map("".join)


# --- markdown renderer ---------------------------------------------------------------------------

MARKDOWN_FRAGMENTS = [
    "![",
    "](",
    ")",
    "[",
    "]",
    "]:",
    "!",
    "<",
    ">",
    "<img src=x>",
    "<!--",
    "-->",
    "<details>",
    "`",
    "``",
    "```",
    "~~~",
    "```suggestion",
    "```mermaid",
    "\n",
    "\n\n",
    "    ",
    "> ",
    "- ",
    "@",
    "@octocat",
    "@org/team",
    "#12",
    "https://",
    "http://",
    "www.",
    "attacker.example/?q=",
    "github.com/octo/app/",
    "github.com/octo/application",
    "../",
    "\\",
    "*",
    "_",
    "&",
    "&lbrack;",
    "&#91;",
    "javascript:",
    "<https://attacker.example>",
    "[^1]",
    "|",
    "---",
    "\u200b",
    "\r",
]
markdown_text = text_from(MARKDOWN_FRAGMENTS)


def _assert_safe(rendered: Rendered, where: str) -> None:
    assert rendered.images == [], f"{where}: image {rendered.images}"
    assert rendered.html == [], f"{where}: HTML {rendered.html}"
    assert rendered.mentions == [], f"{where}: live mention in {rendered.mentions}"
    assert all(OWN.allows(link) for link in rendered.links), f"{where}: foreign link {rendered.links}"
    assert not (set(rendered.fence_infos) & LIVE_FENCES), f"{where}: live block {rendered.fence_infos}"


def check_markdown(text: str, title: str) -> None:
    """Every body we build from model text is safe and keeps its trailing marker."""
    out = neutralise(text, OWN)
    assert not fence_open_at_end(out)
    _assert_safe(read(out), "neutralise")
    diff = file_diff("a.py", hunk(1, 1, "+x = 1"))
    finding = Finding(
        category=Category.RISK,
        severity=Severity.MAJOR,
        confidence=0.9,
        path="a.py",
        line=1,
        quote="x = 1",
        title=title,
        body=text,
        suggestion=text or None,
    )
    placed = place_findings({"a.py": diff}, [finding]).inline[0]
    body = comment_body(placed, FP, links=OWN)
    rendered = read(body)
    # Our own suggestion block is the one live block allowed, and only as the body's last block.
    if placed.suggestion_applicable and finding.suggestion is not None:
        assert rendered.fence_infos[-1:] == ["suggestion"]
        rendered.fence_infos.pop()
    _assert_safe(rendered, "comment")
    assert markers_in(body) == {FP}
    note = FileNote(finding=finding, path=title or "p", reason=text[:80])
    summary = summary_body(ReviewSummary(head_sha="a" * 40, file_notes=[note], fingerprints=[FP], links=OWN))
    _assert_safe(read(summary), "summary")
    assert markers_in(summary) == {FP}


# --- slash commands ------------------------------------------------------------------------------

COMMAND_FRAGMENTS = [
    "/mini",
    "/mini ",
    " review",
    " full-review",
    " pause",
    " resume",
    " config",
    " help",
    " --only",
    "=",
    " risk",
    ",test",
    "lint",
    "\n",
    "\n\n",
    "   ",
    "\t",
    "> ",
    "- ",
    "1. ",
    "```",
    "~~~",
    "`",
    "<!--",
    "-->",
    "@octocat",
    "\\",
    "/MINI",
    "\r\n",
    "\u00a0",
]
command_text = text_from(COMMAND_FRAGMENTS)


def check_commands(body: str) -> None:
    """Any comment parses to commands; the reply to an unknown one is safe."""
    for command in parse_commands(body):
        assert isinstance(command, Command | UnknownCommand)
        if isinstance(command, UnknownCommand):
            assert len(command.text) <= 200
            _assert_safe(read(not_understood(command.text, command.reason)), "unknown-command reply")


# --- repository configuration --------------------------------------------------------------------

CONFIG_FRAGMENTS = [
    "enabled: ",
    "auto_review:\n  ",
    "ignore_title: ",
    "ignore_authors: ",
    "base_branches: ",
    "[",
    "]",
    "'/",
    "/'",
    "(a|a)+$",
    "(?<!x)",
    "\\1",
    "paths:\n  exclude: ",
    "- ",
    "**",
    "fail_on: ",
    "major",
    "min_confidence: ",
    "1e999",
    "max_inline_comments: ",
    "true",
    "null",
    "~",
    "&a ",
    "*a",
    "<<: ",
    "!!python/object",
    "{",
    "}",
    ": ",
    "\n",
    "  ",
    "\t",
    "'",
    '"',
    "#",
    "? ",
    "---\n",
    "...",
    "instructions: |\n  ",
    "%YAML 1.1\n",
]
yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
config_keys = st.sampled_from(
    [
        "enabled",
        "auto_review",
        "paths",
        "categories",
        "min_severity",
        "fail_on",
        "min_confidence",
        "max_inline_comments",
        "instructions",
        "path_instructions",
        "incremental",
        "ignore_title",
        "drafts",
    ]
)
structured_config = st.dictionaries(config_keys, yaml_values, max_size=5).map(
    lambda data: yaml.safe_dump(data, allow_unicode=True)
)
config_text = st.one_of(text_from(CONFIG_FRAGMENTS), structured_config)


def check_config(org: str | None, repo: str | None, title: str, path: str) -> None:
    """Any pair of layers yields a config (bad layers reported); policy and rendering accept it."""
    result = effective_config(RepoConfig(), org, repo)
    assert isinstance(result.config, RepoConfig)
    assert all(isinstance(e, str) and e for e in result.errors)
    facts = PullFacts("opened", False, title, title or "someone", "User", title or "main")
    decided, reason = auto_review_decision(facts, result.config)
    assert isinstance(decided, bool) and reason
    path_instructions_for(result.config, path)
    render_config(result.config, sources=result.sources, errors=result.errors)


# --- diffs ---------------------------------------------------------------------------------------

PATCH_FRAGMENTS = [
    "@@ -1 +1 @@",
    "@@ -1,2 +1,3 @@",
    "@@ -0,0 +1 @@",
    "@@ -5,0 +6,2 @@ def f():",
    "@@@ -1 +1 @@@",
    "\n",
    "+",
    "-",
    " ",
    "+x",
    "-y",
    " z",
    "\\ No newline at end of file",
    "\r",
    "\t",
    "@@",
    "+++ b/x",
    "--- a/x",
    "diff --git a/x b/x",
    '"a/q\\"uote"',
    "index 0000..1111 100644",
    "rename from a",
    "rename to b",
    "new file mode 100644",
    "Binary files a/x and b/x differ",
    "GIT binary patch",
    "\udcff",
]
patch_text = text_from(PATCH_FRAGMENTS)
STATUSES = ["added", "removed", "modified", "renamed", "copied", "changed", "unchanged", "weird"]


def check_patch(patch: str, status: str, additions: int, deletions: int) -> None:
    """A files-API patch parses into consistent hunks or raises DiffParseError."""
    try:
        diff = parse_file_patch(
            "x.py", patch, status=status, old_path="o.py", additions=additions, deletions=deletions
        )
    except DiffParseError:
        return
    for h in diff.hunks:
        news = [line.new_no for line in h.lines if line.new_no is not None]
        olds = [line.old_no for line in h.lines if line.old_no is not None]
        assert news == sorted(news) and olds == sorted(olds)


def check_unified(data: bytes) -> None:
    """Whole `git diff` output parses or raises DiffParseError."""
    try:
        files = parse_unified_diff(data)
    except DiffParseError:
        return
    assert all(f.path is not None for f in files)


# --- webhooks ------------------------------------------------------------------------------------

EVENTS = [
    "pull_request",
    "issue_comment",
    "pull_request_review_comment",
    "check_run",
    "installation",
    "installation_repositories",
    "ping",
    "push",
    "pull_request_review",
    "",
]


def skeleton(event: str) -> dict[str, Any]:
    """A minimal valid-looking payload for `event`, for the fuzzer to mutate."""
    repo = {"name": "app", "full_name": "octo/app", "owner": {"login": "octo"}, "private": False}
    pull = {
        "number": 7,
        "title": "t",
        "draft": False,
        "user": {"login": "u", "type": "User"},
        "head": {"sha": "a" * 40, "ref": "f"},
        "base": {"sha": "b" * 40, "ref": "main"},
    }
    base: dict[str, Any] = {
        "action": "opened",
        "repository": repo,
        "installation": {"id": 1},
        "sender": {"login": "u", "type": "User"},
    }
    if event == "issue_comment":
        base |= {
            "action": "created",
            "issue": {"number": 7, "pull_request": {}},
            "comment": {
                "id": 3,
                "body": "/mini review",
                "user": {"login": "u", "type": "User"},
                "author_association": "OWNER",
            },
        }
    elif event == "check_run":
        base |= {
            "action": "rerequested",
            "check_run": {
                "id": 9,
                "name": "mini-review",
                "head_sha": "a" * 40,
                "pull_requests": [{"number": 7}],
            },
        }
    else:
        base["pull_request"] = pull
    return base


def _mutate(payload: Any, path: list[str], value: Any) -> Any:
    if not path or not isinstance(payload, dict):
        return value
    head, rest = path[0], path[1:]
    return {**payload, head: _mutate(payload.get(head), rest, value)}


PAYLOAD_KEYS = [
    "action",
    "repository",
    "installation",
    "pull_request",
    "issue",
    "comment",
    "check_run",
    "number",
    "id",
    "head",
    "base",
    "sha",
    "ref",
    "user",
    "login",
    "type",
    "body",
    "owner",
    "name",
    "draft",
    "title",
    "pull_requests",
    "author_association",
    "full_name",
]
mutation = st.tuples(st.lists(st.sampled_from(PAYLOAD_KEYS), min_size=1, max_size=3), yaml_values)


@st.composite
def webhook_payloads(draw: Callable[..., Any]) -> tuple[str, Any]:
    event = draw(st.sampled_from(EVENTS))
    if draw(st.booleans()):
        return event, draw(yaml_values)
    payload: Any = skeleton(event)
    for path, value in draw(st.lists(mutation, max_size=4)):
        payload = _mutate(payload, path, value)
    return event, payload


def check_decide(event: str, payload: Any) -> None:
    """The receiver's pure step: an Intent, or BadPayloadError (a 400)."""
    if not isinstance(payload, dict):
        return  # the endpoint answers 400 before deciding
    try:
        intent = decide(event, payload, debounce_s=1.0)
    except BadPayloadError:
        return
    assert isinstance(intent, Intent) and intent.outcome
    json.dumps([w.payload for w in intent.work])  # what is queued must be storable


@dataclass
class Counter:
    """Counts executions per target (bench prints them)."""

    runs: dict[str, int] = field(default_factory=dict)

    def tick(self, name: str) -> None:
        self.runs[name] = self.runs.get(name, 0) + 1
