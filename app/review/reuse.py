"""Keep what each review call produced, so a retried attempt of the same review does not pay again.

A review attempt can fail after some or all of its model calls succeeded (the worker dies, GitHub
answers 5xx while posting, the database drops). The next attempt prepares the same requests; a
request whose result an earlier attempt kept is not sent again: its findings are reused, and its
usage is reported as reused, not as new spend (it was billed to the attempt that made the call).

Only successful calls are kept (a failed or unsent chunk is tried again). The key is a hash of
everything that decides the answer: the exact messages (system prompt, PR context, instructions,
redacted diff), the output schema, the models and their settings, and `RESULT_VERSION`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from app.review.findings import Finding
from app.review.prompts import Message
from app.review.schema import FINDINGS_SCHEMA
from app.review.usage import Usage

# Bump when what a kept result means changes (attribution, escalation, the fields below).
RESULT_VERSION = 1


class SavedCall(BaseModel):
    """What one successful review call (one chunk, or a pack of small ones) came to.

    Secret findings are not kept: they come from local redaction and are found again for free.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    findings: list[Finding] = Field(default_factory=list)  # attributed, escalated: ready to place
    context_cited: list[Finding] = Field(default_factory=list)
    dropped_foreign_path: int = 0
    escalated: int = 0
    rejected: int = 0
    escalation_failed: int = 0
    repaired: bool = False
    usage: Usage = Field(default_factory=Usage)  # what the call cost when it was made
    escalation_usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0


class CallResults(Protocol):
    """The kept results of one review (one PR head, one job, every attempt of it)."""

    async def load(self) -> Mapping[str, SavedCall]:
        """Every result kept so far, by call key (read once, before the calls start)."""
        ...

    async def save(self, key: str, call: SavedCall) -> None:
        """Keep one call's result as soon as it is known (not at the end: the attempt may die)."""
        ...


def call_key(
    messages: Sequence[Message],
    *,
    model: str,
    reasoning_effort: str | None,
    max_completion_tokens: int,
    escalation_model: str | None,
    escalation_reasoning_effort: str | None,
) -> str:
    """Return the hash that identifies one review request and how its answer was judged."""
    material = {
        "version": RESULT_VERSION,
        "schema": FINDINGS_SCHEMA,
        "model": model,
        "effort": reasoning_effort,
        "max_tokens": max_completion_tokens,
        "escalation": [escalation_model, escalation_reasoning_effort],
        "messages": list(messages),
    }
    encoded = json.dumps(material, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()
