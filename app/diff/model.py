"""The diff domain model: files, hunks and lines with their old/new numbers.

Pure data. Parsing lives in `parse.py`; what GitHub accepts as a comment position is derived here
because it is a property of the diff itself (a comment may sit on any line shown in a hunk).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class LineKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CONTEXT = "context"


class Side(StrEnum):
    """GitHub's review-comment sides: RIGHT is the new file, LEFT the old one."""

    RIGHT = "RIGHT"
    LEFT = "LEFT"


class FileStatus(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"
    RENAMED = "renamed"
    COPIED = "copied"
    CHANGED = "changed"  # mode-only or type change
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: LineKind
    old_no: int | None  # set for REMOVED and CONTEXT
    new_no: int | None  # set for ADDED and CONTEXT
    text: str  # without the leading marker and without the line ending

    def position(self) -> tuple[Side, int]:
        """Return where GitHub anchors a comment on this line (RIGHT by new number unless removed)."""
        if self.kind is LineKind.REMOVED:
            assert self.old_no is not None
            return Side.LEFT, self.old_no
        assert self.new_no is not None
        return Side.RIGHT, self.new_no


@dataclass(slots=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str  # the text after the second @@ (often the enclosing function)
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def header(self) -> str:
        head = f"@@ -{self.old_start},{self.old_len} +{self.new_start},{self.new_len} @@"
        return f"{head} {self.section}" if self.section else head

    def changed_count(self) -> int:
        return sum(1 for line in self.lines if line.kind is not LineKind.CONTEXT)


@dataclass(slots=True)
class FileDiff:
    path: str  # the new path (the old one for removed files)
    status: FileStatus
    hunks: list[Hunk] = field(default_factory=list)
    old_path: str | None = None  # set for renames and copies
    is_binary: bool = False
    patch_missing: bool = False  # GitHub omitted the patch (too large) and we could not rebuild it
    additions: int = 0
    deletions: int = 0

    def changed_lines(self) -> int:
        return self.additions + self.deletions

    def commentable(self) -> dict[tuple[Side, int], int]:
        """Map each (side, line number) GitHub accepts a comment on to the index of its hunk."""
        spots: dict[tuple[Side, int], int] = {}
        for index, hunk in enumerate(self.hunks):
            for line in hunk.lines:
                spots[line.position()] = index
                # Context lines exist on both sides; GitHub accepts either anchor.
                if line.kind is LineKind.CONTEXT and line.old_no is not None:
                    spots[(Side.LEFT, line.old_no)] = index
        return spots


@dataclass(slots=True)
class Chunk:
    """One unit of model work: a whole file, or a slice of its hunks, under the token budget.

    A giant hunk is cut at line boundaries into several synthetic `Hunk`s holding a subset of its
    lines (with a little overlap); line numbers stay the real ones from the file.
    """

    path: str
    status: FileStatus
    hunks: list[Hunk]
    part: int = 1  # 1-based
    parts: int = 1
    old_path: str | None = None
    changed_lines: int = 0  # added + removed lines this chunk is responsible for (overlap not counted)
    tokens: int = 0  # estimated prompt tokens of the rendered chunk
