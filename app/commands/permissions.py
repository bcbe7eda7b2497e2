"""Decide who may run `/mini` commands, from facts the webhook and the permission API give."""

from __future__ import annotations

from typing import Literal

# `author_association` values that prove write-level standing without another API call.
# https://docs.github.com/en/graphql/reference/enums#commentauthorassociation
TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})

# Repository permission levels that may start a review (the collaborator-permission API returns
# `permission` admin/write/read/none and `role_name`, which may also be maintain or triage).
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})

# Accounts that act as bots without being GitHub App bots (type "User", no "[bot]" suffix).
KNOWN_BOT_LOGINS = frozenset(
    {"dependabot", "dependabot-preview", "renovate", "renovate-bot", "github-actions"}
)


def association_decision(author_association: str) -> Literal["allow", "check"]:
    """Return "allow" for trusted associations, else "check" (ask the collaborator-permission API)."""
    return "allow" if author_association.strip().upper() in TRUSTED_ASSOCIATIONS else "check"


def permission_allows(permission: str) -> bool:
    """Return True when a repository permission level may run commands (write or above)."""
    return permission.strip().lower() in WRITE_PERMISSIONS


def is_bot(login: str, user_type: str | None) -> bool:
    """Return True when the account is a bot (App bot, "[bot]" login, or a well-known bot account)."""
    if user_type is not None and user_type.strip().lower() == "bot":
        return True
    name = login.strip().lower()
    return name.endswith("[bot]") or name in KNOWN_BOT_LOGINS
