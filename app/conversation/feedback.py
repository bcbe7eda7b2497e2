"""Read what a person's reply in one of our threads means: a dismissal (learn from it) or a question.

Pure and linear: the reply is split into sentences and each is checked for a few fixed phrases, so
no attacker-chosen text meets a backtracking pattern. A phrase counts only in a sentence that is
not a question and is not negated ("is this a false positive?" and "not a false positive" ask or
deny, they do not dismiss).
"""

from __future__ import annotations

import re
from enum import StrEnum

from app.commands.parse import Command, CommandName, parse_commands

# Lowercase phrases that, said by a writer, mean "this finding is wrong here, stop raising it".
DISMISS_PHRASES = (
    "false positive",
    "false alarm",
    "not an issue",
    "not a problem",
    "not a bug",
    "not relevant",
    "won't fix",
    "wont fix",
    "wontfix",
    "working as intended",
    "works as intended",
    "by design",
)
_NEGATIONS = frozenset({"not", "never", "no", "hardly"})
_WORD = re.compile(r"[a-z']+")
_SENTENCE_END = re.compile(r"[.!?\n]")
_MAX_SCAN = 4000  # replies longer than this are read only this far for dismissals


class ReplyKind(StrEnum):
    IGNORE = "ignore"  # `/mini ignore` as a command line
    DISMISSAL = "dismissal"  # "false positive", "not an issue", ...
    QUESTION = "question"  # anything else: answer it


def classify_reply(body: str) -> ReplyKind:
    """Return what a reply in one of our review threads asks for."""
    if "/mini" in body.lower() and any(
        isinstance(c, Command) and c.name is CommandName.IGNORE for c in parse_commands(body)
    ):
        return ReplyKind.IGNORE
    return ReplyKind.DISMISSAL if is_dismissal(body) else ReplyKind.QUESTION


def is_dismissal(body: str) -> bool:
    """Return True when some sentence of `body` states (not asks, not denies) that the finding is wrong."""
    text = body[:_MAX_SCAN].lower().replace("\u2019", "'")
    start = 0
    for end_match in _SENTENCE_END.finditer(text + "\n"):
        sentence, end = text[start : end_match.start()], end_match.group()
        start = end_match.end()
        if end == "?" or _quoted(sentence):
            continue
        for phrase in DISMISS_PHRASES:
            at = sentence.find(phrase)
            if at >= 0 and not _negated(sentence[:at]):
                return True
    return False


def _negated(before: str) -> bool:
    # "this is not a false positive", "it isn't a false alarm": the last words before the phrase.
    words = _WORD.findall(before[-40:])[-3:]
    return any(w in _NEGATIONS or w.endswith("n't") for w in words)


def _quoted(sentence: str) -> bool:
    return sentence.lstrip().startswith(">")
