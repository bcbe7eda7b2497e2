"""Decide whether a pull request event starts an automatic review, and which path instructions apply.

Matching rules (see also the pattern notes in repo_config):
- base branches: `*`/`?` wildcards that match any character including `/` (`release/*` matches
  `release/1.2`), case-sensitive like git refs; or `/regex/`, searched (anchor with ^ and $).
- author logins: the same wildcards, case-insensitive like GitHub logins (`[bot]` is literal text).
- titles: a plain entry matches case-insensitively where it is not glued to other letters or digits,
  so `WIP` matches "WIP: foo" and "[wip] foo" but not "Swipe fix"; `/regex/` is searched
  case-insensitively.
Titles, logins and branch names are chosen by whoever opens the PR, so every pattern runs on RE2
(linear time); only plain titles use `re`, for their lookaround guards around an escaped literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from app.commands.permissions import is_bot
from app.config.repo_config import RepoConfig, regex_of
from app.diff.globs import glob_match
from app.linear_regex import LinearPattern, compile_linear

# `pull_request` actions that can start an automatic review; everything else never does.
AUTO_REVIEW_ACTIONS = frozenset({"opened", "reopened", "synchronize", "ready_for_review"})
_ACTION_REASONS = {
    "opened": "pull request opened",
    "reopened": "pull request reopened",
    "synchronize": "new commits pushed",
    "ready_for_review": "pull request marked ready for review",
}
_MAX_TITLE = 1024  # GitHub caps titles at 256; this bounds regex work on anything odd


@dataclass(frozen=True)
class PullFacts:
    """What the policy needs to know about one `pull_request` event."""

    action: str
    draft: bool
    title: str
    author_login: str
    author_type: str | None
    base_ref: str
    from_fork: bool = False


def auto_review_decision(facts: PullFacts, cfg: RepoConfig) -> tuple[bool, str]:
    """Return whether to review automatically, and a human reason either way."""
    auto = cfg.auto_review
    login = facts.author_login
    if not cfg.enabled:
        return False, "reviews disabled for this repo (enabled: false)"
    if facts.action not in AUTO_REVIEW_ACTIONS:
        return False, f"action '{facts.action}' does not start a review"
    if not auto.enabled:
        return False, "automatic reviews are off (auto_review.enabled: false); `/mini review` still works"
    if facts.draft and not auto.drafts:
        return False, "draft PR (auto_review.drafts is off)"
    if facts.from_fork and not auto.forks:
        return False, "PR from a fork (auto_review.forks is off); a writer's `/mini review` starts a review"
    if auto.ignore_bots and is_bot(login, facts.author_type):
        return False, f"author {login} is a bot (auto_review.ignore_bots is on)"
    author_pattern = next((p for p in auto.ignore_authors if _name_match(p, login, ignore_case=True)), None)
    if author_pattern is not None:
        return False, f"author {login} matches auto_review.ignore_authors '{author_pattern}'"
    title_pattern = next((p for p in auto.ignore_title if title_matches(p, facts.title)), None)
    if title_pattern is not None:
        return False, f"title matches '{title_pattern}' (auto_review.ignore_title)"
    if auto.base_branches and not any(
        _name_match(p, facts.base_ref, ignore_case=False) for p in auto.base_branches
    ):
        return False, f"base branch {facts.base_ref} not in auto_review.base_branches"
    return True, _ACTION_REASONS[facts.action]


def path_instructions_for(cfg: RepoConfig, path: str) -> list[str]:
    """Return the instructions of every `path_instructions` entry whose glob matches, in file order."""
    return [entry.instructions for entry in cfg.path_instructions if glob_match(entry.path, path)]


def title_matches(pattern: str, title: str) -> bool:
    """Return whether an `ignore_title` entry matches a pull request title."""
    return _title_regex(pattern).search(title[:_MAX_TITLE]) is not None


@lru_cache(maxsize=512)
def _title_regex(pattern: str) -> re.Pattern[str] | LinearPattern:
    body = regex_of(pattern)
    if body is not None:
        return compile_linear(body, ignore_case=True)
    # Word guards only on word-character edges: "WIP" must not match inside "Swipe", while
    # "[skip review]" may follow any character.
    before = r"(?<!\w)" if re.match(r"\w", pattern[:1]) else ""
    after = r"(?!\w)" if re.match(r"\w", pattern[-1:]) else ""
    return re.compile(before + re.escape(pattern) + after, re.IGNORECASE)


def _name_match(pattern: str, name: str, *, ignore_case: bool) -> bool:
    """Match a branch name or login against a wildcard pattern or `/regex/`."""
    body = regex_of(pattern)
    if body is not None:
        return _compiled(body, ignore_case).search(name) is not None
    return _compiled(_wildcard_regex(pattern), ignore_case).fullmatch(name) is not None


def _wildcard_regex(pattern: str) -> str:
    """Translate `*` (any run, `/` included) and `?` (one character); everything else is literal."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


@lru_cache(maxsize=512)
def _compiled(regex: str, ignore_case: bool) -> LinearPattern:
    return compile_linear(regex, ignore_case=ignore_case, dot_all=True)
