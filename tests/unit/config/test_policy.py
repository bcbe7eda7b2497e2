"""Auto-review policy: which pull request events start a review, with a reason either way."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from typing import Any

import pytest

from app.config.policy import (
    AUTO_REVIEW_ACTIONS,
    PullFacts,
    auto_review_decision,
    path_instructions_for,
    title_matches,
)
from app.config.repo_config import RepoConfig
from tests.conftest import corpus_webhook, webhook_payload

FACTS = PullFacts(
    action="opened",
    draft=False,
    title="Add caching to the fetcher",
    author_login="octocat",
    author_type="User",
    base_ref="main",
)


def cfg(**auto_review: Any) -> RepoConfig:
    return RepoConfig.model_validate({"auto_review": auto_review})


def decide(facts: PullFacts = FACTS, config: RepoConfig | None = None, **changes: Any) -> tuple[bool, str]:
    return auto_review_decision(replace(facts, **changes), config or RepoConfig())


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("opened", "pull request opened"),
        ("reopened", "pull request reopened"),
        ("synchronize", "new commits pushed"),
        ("ready_for_review", "pull request marked ready for review"),
    ],
)
def test_review_actions(action: str, reason: str) -> None:
    assert decide(action=action) == (True, reason)


@pytest.mark.parametrize("action", ["closed", "labeled", "edited", "converted_to_draft", "assigned"])
def test_other_actions_never_review(action: str) -> None:
    assert action not in AUTO_REVIEW_ACTIONS
    assert decide(action=action) == (False, f"action '{action}' does not start a review")


def test_disabled_repo() -> None:
    assert decide(config=RepoConfig(enabled=False)) == (
        False,
        "reviews disabled for this repo (enabled: false)",
    )


def test_auto_review_off() -> None:
    ok, reason = decide(config=cfg(enabled=False))
    assert not ok and "auto_review.enabled" in reason


def test_drafts() -> None:
    assert decide(draft=True) == (False, "draft PR (auto_review.drafts is off)")
    assert decide(draft=True, config=cfg(drafts=True))[0]


@pytest.mark.parametrize(
    ("login", "user_type"),
    [("dependabot[bot]", "Bot"), ("renovate[bot]", None), ("some-app", "Bot"), ("github-actions", "User")],
)
def test_bots_are_skipped_unless_allowed(login: str, user_type: str | None) -> None:
    assert decide(author_login=login, author_type=user_type) == (
        False,
        f"author {login} is a bot (auto_review.ignore_bots is on)",
    )
    assert decide(author_login=login, author_type=user_type, config=cfg(ignore_bots=False))[0]


@pytest.mark.parametrize(
    ("pattern", "login", "ignored"),
    [
        ("octocat", "octocat", True),
        ("octocat", "OctoCat", True),  # logins are case-insensitive
        ("octo*", "octocat", True),
        ("octo?at", "octocat", True),
        ("octo", "octocat", False),
        ("snyk-bot[bot]", "snyk-bot[bot]", True),  # brackets are literal, not a character class
        ("snyk-bot[bot]", "snyk-bott", False),
        ("/^release-bot-\\d+$/", "release-bot-7", True),
        ("/^release-bot-\\d+$/", "release-bot-x", False),
    ],
)
def test_ignore_authors(pattern: str, login: str, ignored: bool) -> None:
    config = cfg(ignore_authors=[pattern], ignore_bots=False)
    ok, reason = decide(author_login=login, config=config)
    assert ok is not ignored
    if ignored:
        assert reason == f"author {login} matches auto_review.ignore_authors '{pattern}'"


@pytest.mark.parametrize(
    ("pattern", "title", "matches"),
    [
        ("WIP", "WIP: foo", True),
        ("WIP", "[WIP] foo", True),
        ("WIP", "wip foo", True),
        ("WIP", "Finish the WIP", True),
        ("WIP", "Swipe fix", False),
        ("WIP", "WIPE the cache", False),
        ("WIP", "wip2 cleanup", False),
        ("[skip review]", "Bump deps [skip review]", True),
        ("[skip review]", "Bump deps[SKIP REVIEW]", True),  # punctuation edges need no word boundary
        ("[skip review]", "Bump deps [skip-review]", False),
        ("do not merge", "DO NOT MERGE: experiment", True),
        ("/^draft:/", "Draft: new parser", True),
        ("/^draft:/", "Re-draft: parser", False),
        ("/\\bspike\\b/", "Spike on caching", True),
    ],
)
def test_title_matching(pattern: str, title: str, matches: bool) -> None:
    assert title_matches(pattern, title) is matches


def test_default_ignore_title() -> None:
    assert decide(title="WIP: foo") == (False, "title matches 'WIP' (auto_review.ignore_title)")
    assert decide(title="Swipe fix")[0]
    assert decide(title="Refactor [no review]") == (
        False,
        "title matches '[no review]' (auto_review.ignore_title)",
    )
    assert decide(title="WIP: foo", config=cfg(ignore_title=[]))[0]


@pytest.mark.parametrize(
    ("patterns", "base", "reviewed"),
    [
        ([], "anything/at/all", True),  # empty = every base branch
        (["main"], "main", True),
        (["main"], "Main", False),  # git refs are case-sensitive
        (["main"], "main2", False),
        (["release/*"], "release/1", True),
        (["release/*"], "release/1/hotfix", True),  # `*` crosses "/" for branch names
        (["release/*"], "release", False),
        (["main", "release/*"], "develop", False),
        (["/^hotfix-\\d+$/"], "hotfix-12", True),
        (["/^hotfix-\\d+$/"], "hotfix-x", False),
        (["v?"], "v2", True),
    ],
)
def test_base_branches(patterns: list[str], base: str, reviewed: bool) -> None:
    ok, reason = decide(base_ref=base, config=cfg(base_branches=patterns))
    assert ok is reviewed
    if not reviewed:
        assert reason == f"base branch {base} not in auto_review.base_branches"


def test_checks_run_in_a_stable_order() -> None:
    # Everything is wrong at once: the repo switch is reported first, then the action, then drafts...
    facts = PullFacts("opened", True, "WIP", "dependabot[bot]", "Bot", "develop")
    config = cfg(base_branches=["main"])
    assert decide(facts, config)[1].startswith("draft PR")
    assert decide(facts, config, draft=False)[1].startswith("author dependabot[bot] is a bot")
    assert decide(facts, config, draft=False, author_type="User", author_login="me")[1].startswith("title")
    assert decide(facts, config, draft=False, author_login="me", author_type="User", title="x")[1].startswith(
        "base branch develop"
    )
    assert decide(facts, RepoConfig(enabled=False), action="closed")[1].startswith("reviews disabled")
    assert decide(facts, config, action="closed")[1].startswith("action 'closed'")


def test_path_instructions_for() -> None:
    config = RepoConfig.model_validate(
        {
            "path_instructions": [
                {"path": "migrations/**", "instructions": "Check rollbacks."},
                {"path": "*.sql", "instructions": "Watch for full table scans."},
                {"path": "docs/**", "instructions": "Prose only."},
            ]
        }
    )
    assert path_instructions_for(config, "migrations/0001_init.sql") == [
        "Check rollbacks.",
        "Watch for full table scans.",
    ]
    assert path_instructions_for(config, "app/db/query.sql") == ["Watch for full table scans."]
    assert path_instructions_for(config, "app/main.py") == []
    assert path_instructions_for(RepoConfig(), "anything") == []


@pytest.mark.parametrize(
    ("name", "reviewed"),
    [
        ("pull_request.opened.payload.json", True),
        ("pull_request.synchronize.payload.json", True),
        ("pull_request.reopened.payload.json", True),
        ("pull_request.ready_for_review.with-installation.payload.json", True),
        ("pull_request.converted_to_draft.with-installation.payload.json", False),
        ("pull_request.closed.payload.json", False),
        ("pull_request.labeled.payload.json", False),
    ],
)
@pytest.mark.parametrize("source", ["factory", "corpus"])
def test_documented_payloads(name: str, reviewed: bool, source: str) -> None:
    payload = webhook_payload(name) if source == "factory" else corpus_webhook(name)
    if payload is None:
        pytest.skip("shared/corpus not present")
    pull = payload["pull_request"]
    facts = PullFacts(
        action=payload["action"],
        draft=pull["draft"],
        title=pull["title"],
        author_login=pull["user"]["login"],
        author_type=pull["user"]["type"],
        base_ref=pull["base"]["ref"],
    )
    assert auto_review_decision(facts, RepoConfig())[0] is reviewed
    assert auto_review_decision(facts, cfg(base_branches=["main"]))[0] is False  # base is `master`


CATASTROPHIC = ["/(a|a)+$/", "/(a+)+$/", "/(x+x+)+y/", "/^(.*a){12}$/", "/(\\w+\\s?)+$/"]


def test_backtracking_patterns_run_in_linear_time_on_hostile_text() -> None:
    """Python's `re` needs 2^n steps for these; the policy must answer at once (checked in a child
    process so that a regression fails on the deadline instead of hanging the suite)."""
    script = (
        "from app.config.policy import PullFacts, auto_review_decision\n"
        "from app.config.repo_config import RepoConfig\n"
        f"patterns = {CATASTROPHIC!r}\n"
        "cfg = RepoConfig.model_validate({'auto_review': {'ignore_title': patterns,"
        " 'ignore_authors': patterns, 'base_branches': patterns, 'ignore_bots': False}})\n"
        "hostile = 'a' * 60 + '!'\n"
        "facts = PullFacts('opened', False, hostile, hostile, 'User', hostile)\n"
        "print(auto_review_decision(facts, cfg))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert "base branch" in done.stdout  # nothing matched, and every pattern was tried


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [("/(a|a)+$/", "aaaa", True), ("/(a|a)+$/", "aaab", False), ("/^(.*a){3}$/", "xaxaxa", True)],
)
def test_linear_patterns_still_mean_what_they_say(pattern: str, text: str, matches: bool) -> None:
    assert title_matches(pattern, text) is matches
