from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.conversation.feedback import ReplyKind, classify_reply, is_dismissal


@pytest.mark.parametrize(
    "body",
    [
        "False positive.",
        "This is a false positive, the input is validated upstream",
        "not an issue here: we own both ends",
        "Not a bug - intended",
        "wontfix",
        "Won\u2019t fix, this is by design.",
        "Thanks! Works as intended though.",
    ],
)
def test_dismissals_are_recognised(body: str) -> None:
    assert is_dismissal(body)
    assert classify_reply(body) is ReplyKind.DISMISSAL


@pytest.mark.parametrize(
    "body",
    [
        "why?",
        "Is this a false positive?",
        "This is not a false positive, good catch",
        "It isn't a false alarm, fixing",
        "> false positive\nI disagree with the above",
        "Could you explain what breaks?",
        "",
    ],
)
def test_questions_denials_and_quotes_are_not_dismissals(body: str) -> None:
    assert not is_dismissal(body)
    assert classify_reply(body) is ReplyKind.QUESTION


def test_mini_ignore_on_its_own_line_is_an_ignore_even_with_other_text() -> None:
    assert classify_reply("Good point but we accept it.\n/mini ignore") is ReplyKind.IGNORE
    assert classify_reply("`/mini ignore`") is ReplyKind.QUESTION  # inside code: just text
    assert classify_reply("> /mini ignore") is ReplyKind.QUESTION  # a quote of someone else


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=3000))
def test_classification_never_fails_on_any_text(body: str) -> None:
    assert classify_reply(body) in set(ReplyKind)
