"""Learnings: what writers told us was not worth raising, and which later findings that silences.

A learning keys on the finding's *kind*, not its exact words or lines: its category, a normalised
signature of its title (lowercase words, light stemming, no filler), and a path pattern (the first
directory and the file's extension, `app/**/*.py`). A later finding matches when its category is the
same, its path matches the pattern and its signature shares most words with the learning's (Jaccard
similarity), or when it is about the very same code (same fingerprint). Everything here is pure and
linear in the text it reads.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from app.diff.globs import glob_match

SIMILARITY = 0.6  # share of signature words two findings must have in common to be "the same kind"
MAX_WORDS_KEPT = 500  # a person's words are stored and shown: keep them short
MAX_GUIDANCE = 30  # learnings told to the model per review
_WORD = re.compile(r"[a-z][a-z0-9_]*")
_FILLER = frozenset(
    " ".join(
        (
            "a an the in of to is are be been this that it its on for with and or not no may might can",
            "could should would will was were as at by from into than then there here when where which",
            "who left use used using via",
        )
    ).split(" ")
)


class LearningSource(StrEnum):
    REACTION = "reaction"  # a thumbs-down on our comment
    REPLY = "reply"  # "false positive", "not an issue", ... in our thread
    IGNORE = "ignore"  # `/mini ignore` in our thread


class Learning(BaseModel):
    """One thing a writer taught the repository's reviewer."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    repo: str
    signature: str
    path_pattern: str
    category: str
    title: str
    fingerprint: str | None = None
    person: str
    words: str
    source: LearningSource
    created_at: dt.datetime


def _stem(word: str) -> str:
    # Plurals only: heavier stemming merges words that mean different things in code ("used"/"use").
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def signature_words(title: str) -> frozenset[str]:
    """Return the normalised words that stand for a finding title."""
    return frozenset(_stem(w) for w in _WORD.findall(title.lower()) if w not in _FILLER and len(w) > 1)


def signature(category: str, title: str) -> str:
    """Return the stored, human-readable signature: `category: word word ...` (sorted words)."""
    return f"{category}: " + " ".join(sorted(signature_words(title)))


def path_pattern(path: str) -> str:
    """Return the pattern a learning about `path` covers: same top directory, same extension."""
    parts = path.strip("/").split("/")
    ext = posixpath.splitext(parts[-1])[1]
    leaf = f"*{ext}" if ext else "*"
    return f"{parts[0]}/**/{leaf}" if len(parts) > 1 else leaf


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= SIMILARITY


@lru_cache(maxsize=4096)
def _words_of(sig: str) -> frozenset[str]:
    return frozenset(sig.partition(": ")[2].split())


def _matches(learning: Learning, path: str, category: str, words: frozenset[str], fp: str | None) -> bool:
    if fp is not None and learning.fingerprint == fp:
        return True
    if category != learning.category or not _similar(_words_of(learning.signature), words):
        return False
    return glob_match(learning.path_pattern, path)  # the dearest test last


def matches(learning: Learning, *, path: str, category: str, title: str, fp: str | None = None) -> bool:
    """Return True when a finding is of the kind `learning` silences."""
    return _matches(learning, path, category, signature_words(title), fp)


def first_match(
    learnings: Iterable[Learning], *, path: str, category: str, title: str, fp: str | None = None
) -> Learning | None:
    """Return the first learning that silences the finding, or None."""
    words = signature_words(title)
    for learning in learnings:
        if _matches(learning, path, category, words, fp):
            return learning
    return None


def new_learning(
    *,
    repo: str,
    path: str,
    category: str,
    title: str,
    fp: str | None,
    person: str,
    words: str,
    source: LearningSource,
    now: dt.datetime,
) -> Learning:
    """Build the learning a writer's feedback on one finding records."""
    return Learning(
        repo=repo,
        signature=signature(category, title),
        path_pattern=path_pattern(path),
        category=category,
        title=" ".join(title.split())[:200],
        fingerprint=fp,
        person=person,
        words=" ".join(words.split())[:MAX_WORDS_KEPT],
        source=source,
        created_at=now,
    )


def guidance(learnings: Sequence[Learning]) -> str:
    """Return the repository's learnings as review preferences (placed in the data section, escaped)."""
    if not learnings:
        return ""
    lines = ["Maintainers of this repository marked these kinds of findings as not useful; skip them:"]
    for item in list(learnings)[-MAX_GUIDANCE:]:
        lines.append(f'- {item.category} findings like "{item.title}" in files matching {item.path_pattern}')
    return "\n".join(lines)
