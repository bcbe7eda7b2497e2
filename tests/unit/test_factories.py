"""The payload factories mean what GitHub's real payloads mean: same intent, field for field.

With ../shared/corpus present, each factory twin is compared with the real example of the same
name; without it only the factories' own consistency is checked.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.webhooks.intents import Intent, decide
from tests.conftest import corpus_webhook
from tests.factories import KNOWN_NAMES, payload_named


def event_of(name: str) -> str:
    return name.split(".", 1)[0]


def summary(intent: Intent) -> dict[str, Any]:
    return {
        "outcome": intent.outcome,
        "repo": intent.repo,
        "pr_number": intent.pr_number,
        "head_sha": intent.head_sha,
        "installation_id": intent.installation_id,
        "work": [(w.kind, w.key, w.payload, w.delay_s) for w in intent.work],
        "cancel": (intent.cancel_key, intent.cancel_repo),
    }


@pytest.mark.parametrize("name", KNOWN_NAMES)
def test_factory_payload_decides_like_the_real_one(name: str) -> None:
    real = corpus_webhook(name)
    if real is None:
        pytest.skip("shared/corpus not present")
    if event_of(name) == "ping":
        assert payload_named(name)["hook"]["app_id"] == real["hook"]["app_id"]
        return
    assert summary(decide(event_of(name), payload_named(name))) == summary(decide(event_of(name), real))


@pytest.mark.parametrize("name", KNOWN_NAMES)
def test_factory_payloads_are_fresh_copies_with_the_top_level_keys_github_sends(name: str) -> None:
    first = payload_named(name)
    first.setdefault("sender", {})["login"] = "changed"
    assert payload_named(name)["sender"]["login"] != "changed"
    expected = {"sender"} | ({"action"} if event_of(name) != "ping" else {"zen", "hook", "hook_id"})
    assert expected <= set(first)
