"""The fake GitHub's own reading of a files-API `patch`: which (side, line) pairs a review comment may use.

Deliberately independent of app/diff: the fake exists to catch the app's placement bugs, so it must not
share the app's parser. Counting follows the hunk header ("@@ -a,b +c,d @@"): a hunk ends when both
counts are used up, so body lines that merely look like headers ("--- x", "+++ y", "@@ z") stay data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass
class PatchHunk:
    """One hunk: every commentable (side, line) mapped to its order inside the hunk."""

    old_start: int
    old_len: int
    new_start: int
    new_len: int
    order: dict[tuple[str, int], int] = field(default_factory=dict)
    added: int = 0
    removed: int = 0


class PatchError(ValueError):
    """The patch text is not a sequence of well-formed hunks."""


def parse_patch(patch: str) -> list[PatchHunk]:
    """Split a files-API patch into hunks with the RIGHT/LEFT line numbers each one shows."""
    hunks: list[PatchHunk] = []
    lines = patch.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line == "" and i == len(lines):
            break  # trailing newline at the very end
        match = _HEADER.match(line)
        if not match:
            raise PatchError(f"expected a hunk header, got {line[:40]!r}")
        old_start, new_start = int(match[1]), int(match[3])
        old_len = int(match[2]) if match[2] is not None else 1
        new_len = int(match[4]) if match[4] is not None else 1
        hunk = PatchHunk(old_start, old_len, new_start, new_len)
        old_no, new_no = old_start, new_start
        old_left, new_left = old_len, new_len
        seq = 0
        while (old_left > 0 or new_left > 0) and i < len(lines):
            body = lines[i]
            i += 1
            mark = body[:1]
            if mark == "\\":  # "\ No newline at end of file"
                continue
            if mark == "+" and new_left > 0:
                hunk.order[("RIGHT", new_no)] = seq
                hunk.added += 1
                new_no += 1
                new_left -= 1
            elif mark == "-" and old_left > 0:
                hunk.order[("LEFT", old_no)] = seq
                hunk.removed += 1
                old_no += 1
                old_left -= 1
            elif mark in (" ", "") and old_left > 0 and new_left > 0:
                hunk.order[("RIGHT", new_no)] = seq
                hunk.order[("LEFT", old_no)] = seq
                old_no += 1
                new_no += 1
                old_left -= 1
                new_left -= 1
            else:
                raise PatchError(f"line {body[:40]!r} does not fit the hunk counts")
            seq += 1
        if old_left > 0 or new_left > 0:
            raise PatchError("patch ended inside a hunk")
        while i < len(lines) and lines[i].startswith("\\"):
            i += 1
        hunks.append(hunk)
    return hunks


def locate(hunks: list[PatchHunk], side: str, line: int) -> tuple[int, int] | None:
    """Return (hunk index, order in hunk) of a commentable line, or None when the diff does not show it."""
    for index, hunk in enumerate(hunks):
        seq = hunk.order.get((side, line))
        if seq is not None:
            return index, seq
    return None
