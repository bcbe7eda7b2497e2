"""Redaction stays linear on hostile text, and means what the backtracking version meant."""

from __future__ import annotations

import re
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from app.review import redact
from app.review.prompts import (
    MAX_DESCRIPTION_CHARS,
    MAX_INSTRUCTIONS_CHARS,
    MAX_TITLE_CHARS,
    PrContext,
    build_messages,
)
from app.review.redact import redact_text
from app.review.reviewer import redact_context

from .secrets import PLANTED

# The rules as they were written for Python's `re` (lookahead, a backreference): the oracle the RE2
# rules must agree with on text short enough for backtracking not to matter.
_WORDS = redact._SECRET_WORDS
_ORACLE_ASSIGNMENT = re.compile(
    rf"(?i)(?P<name>(?:{_WORDS})[\w.-]*)[\"']?\s*(?::=|=>|[:=])\s*"
    r"(?:(?P<q>[\"'`])(?P<quoted>[^\"'`\n]+)(?P=q)|(?P<bare>[^\s\"'`,;)\]}]+))"
)
_ORACLE_OPENAI = re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}")

FRAGMENTS = [
    "sk-",
    "proj-",
    "token",
    "Auth",
    "pwd",
    "=",
    ":",
    "=>",
    " ",
    "'",
    '"',
    "`",
    "\n",
    "a.",
    "x://",
    "u:",
    "@",
    "Bearer ",
    "7",
    "Zq9",
    "_",
    "-",
    "#!",
    "ab3D",
    "eyJ",
    "ghp_",
    "(",
    "]",
]
hostile_text = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


@given(hostile_text)
@settings(max_examples=300, deadline=None)
def test_assignment_rule_agrees_with_the_backreference_version(text: str) -> None:
    expected = [
        (m.group("name"), m.group("quoted") if m.group("quoted") is not None else m.group("bare"))
        for m in _ORACLE_ASSIGNMENT.finditer(text)
    ]
    actual = []
    for m in redact._ASSIGNMENT.finditer(text):
        group = next((g for g in redact._QUOTED_GROUPS if m.group(g) is not None), "bare")
        actual.append((m.group("name"), m.group(group)))
    assert actual == expected


@given(hostile_text)
@settings(max_examples=300, deadline=None)
def test_openai_rule_agrees_with_the_lookahead_version(text: str) -> None:
    expected = [m.group(0) for m in _ORACLE_OPENAI.finditer(text)]
    actual = [
        m.group(0) for m in redact._OPENAI_KEY_RULE.finditer(text) if redact._has_digit(m.group(0) or "")
    ]
    assert actual == expected


def test_planted_secrets_inside_hostile_padding_are_still_found() -> None:
    padding = "sk-" * 2_000 + "auth" * 2_000
    for line, secret, kind in PLANTED:
        text, kinds = redact_text(padding + "\n" + line + "\n" + padding)
        assert secret not in text and kind in kinds


def test_quadratic_inputs_finish() -> None:
    """These took seconds at 16 K characters and minutes at 256 K with backtracking rules; a child
    process with a generous deadline turns a regression into a failure instead of a hung suite."""
    script = (
        "from app.review.redact import redact_text\n"
        "for unit in ('auth', 'sk-', 'a.', 'eyJ-', 'token=', 'x://a.', '-----BEGIN '):\n"
        "    redact_text(unit * (262144 // len(unit)))\n"
        "print('done')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "done"


def test_pr_text_is_trimmed_before_it_is_redacted() -> None:
    line, secret, _ = PLANTED[1]
    huge = line + "\n" + "auth " * 400_000  # 2 MB of description
    context = redact_context(PrContext(title=line * 200, body=huge, files=[], instructions=huge))
    assert len(context.body) <= 2 * MAX_DESCRIPTION_CHARS
    assert len(context.title) <= 2 * MAX_TITLE_CHARS
    assert len(context.instructions) <= 2 * MAX_INSTRUCTIONS_CHARS
    assert secret not in context.body + context.title + context.instructions


def test_a_secret_across_the_prompt_cut_is_redacted_whole() -> None:
    _, secret, _ = PLANTED[1]
    body = "x" * (MAX_DESCRIPTION_CHARS - 10) + " " + secret + " tail"
    context = redact_context(PrContext(title="t", body=body, files=[]))
    prompt = build_messages("chunk", context)[1]["content"]
    assert secret[:10] not in prompt and secret not in context.body
