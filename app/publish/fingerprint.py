"""Fingerprints that recognise a finding again on later runs, and the hidden markers that carry them.

A fingerprint deliberately ignores line numbers (they move with every push) and the model's wording,
title included (models reword titles between runs); it keys on the file, the category and the code the
finding is about. The marker is appended to every posted body so dedup still works when the database
is lost: the app reads its own earlier comments and collects their markers.

Inline comments posted before titles were left out carry a titled key: `legacy_fingerprint` computes
it so those markers still recognise their finding.
"""

from __future__ import annotations

import hashlib
import re

from app.diff.model import FileDiff, LineKind, Side
from app.publish.placement import FileNote, PlacedComment, PrNote
from app.review.findings import Finding

FINGERPRINT_HEX = 16

_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+")
_MARKER_LINE = re.compile(rf"<!-- mini-review:fp=([0-9a-f]{{{FINGERPRINT_HEX}}}) -->")


def _collapse(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _key(path: str, category: str, code: str, words: str) -> str:
    material = "\x1f".join((path, str(category), _collapse(code), words))
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:FINGERPRINT_HEX]


def fingerprint(path: str, category: str, code: str) -> str:
    """Return a short stable hex key for a finding on `code` in `path` (never its wording)."""
    return _key(path, category, code, "")


def legacy_fingerprint(path: str, category: str, code: str, title: str) -> str:
    """Return the key older versions gave an inline comment: the same, plus the title's words."""
    return _key(path, category, code, " ".join(_WORD.findall(title.lower())))


def _line_text(diff: FileDiff, side: Side, number: int) -> str | None:
    for hunk in diff.hunks:
        for line in hunk.lines:
            if side is Side.RIGHT and line.new_no == number:
                return line.text
            if side is Side.LEFT and line.old_no == number and line.kind is not LineKind.ADDED:
                return line.text
    return None


def finding_code(item: PlacedComment | FileNote | PrNote | Finding, diff: FileDiff | None = None) -> str:
    """Return the code text a finding is about: the anchored diff line when known, else the quote.

    Only the anchored line counts, not the whole range, because models pick range starts
    differently from run to run while the line they quote stays the same.
    """
    if isinstance(item, PlacedComment) and diff is not None:
        text = _line_text(diff, item.side, item.line)
        if text is not None:
            return text
    finding = item if isinstance(item, Finding) else item.finding
    return finding.quote


def marker(fp: str) -> str:
    """Return the hidden HTML comment that carries `fp` in a posted body."""
    return f"<!-- mini-review:fp={fp} -->"


def markers_in(text: str) -> set[str]:
    """Return the fingerprints of the marker lines that end `text`.

    Only the trailing block of marker lines counts: the app always writes its markers last, after
    any code block is closed, so a marker-looking line quoted inside model text cannot be mistaken
    for one (outside code, model text has `<` escaped anyway).
    """
    found: set[str] = set()
    for raw in reversed(text.split("\n")):
        line = raw.strip()
        if not line:
            continue
        match = _MARKER_LINE.fullmatch(line)
        if match is None:
            break
        found.add(match.group(1))
    return found
