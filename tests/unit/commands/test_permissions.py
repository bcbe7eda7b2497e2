"""Who may run commands: association shortcut, permission levels, bot detection."""

from __future__ import annotations

import pytest

from app.commands.permissions import (
    TRUSTED_ASSOCIATIONS,
    association_decision,
    is_bot,
    permission_allows,
)
from tests.conftest import corpus_webhook, webhook_payload


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR", "owner", " Member "])
def test_trusted_associations_are_allowed(association: str) -> None:
    assert association_decision(association) == "allow"


@pytest.mark.parametrize(
    "association", ["CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "MANNEQUIN", "NONE", ""]
)
def test_other_associations_need_a_permission_check(association: str) -> None:
    assert association_decision(association) == "check"


def test_trusted_set_is_exactly_the_three_write_level_associations() -> None:
    assert sorted(TRUSTED_ASSOCIATIONS) == ["COLLABORATOR", "MEMBER", "OWNER"]


@pytest.mark.parametrize(
    ("permission", "allowed"),
    [
        ("admin", True),
        ("maintain", True),
        ("write", True),
        ("WRITE", True),
        ("triage", False),
        ("read", False),
        ("none", False),
        ("", False),
        ("pull", False),
    ],
)
def test_permission_levels(permission: str, allowed: bool) -> None:
    assert permission_allows(permission) is allowed


@pytest.mark.parametrize(
    ("login", "user_type", "bot"),
    [
        ("dependabot[bot]", "Bot", True),
        ("mini-review[bot]", None, True),
        ("some-app", "Bot", True),
        ("Renovate[BOT]", "User", True),
        ("dependabot", "User", True),
        ("renovate", None, True),
        ("github-actions", None, True),
        ("octocat", "User", False),
        ("botanist", "User", False),
        ("robot", None, False),
        ("dependabot-fan", "User", False),
    ],
)
def test_is_bot(login: str, user_type: str | None, bot: bool) -> None:
    assert is_bot(login, user_type) is bot


@pytest.mark.parametrize("source", ["factory", "corpus"])
def test_real_comment_author_is_a_trusted_human(source: str) -> None:
    name = "issue_comment.created.payload.json"
    payload = webhook_payload(name) if source == "factory" else corpus_webhook(name)
    if payload is None:
        pytest.skip("shared/corpus not present")
    comment = payload["comment"]
    assert association_decision(comment["author_association"]) == "allow"
    assert not is_bot(comment["user"]["login"], comment["user"]["type"])
