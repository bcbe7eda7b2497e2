"""Build small chunks for review tests; `render` is the real model-facing renderer."""

from __future__ import annotations

from app.diff.model import Chunk, DiffLine, FileStatus, Hunk, LineKind
from app.diff.render import render_chunk as render

__all__ = ["make_chunk", "render"]


def make_chunk(
    path: str,
    lines: list[tuple[str, str]],
    *,
    new_start: int = 10,
    old_start: int = 10,
    part: int = 1,
    parts: int = 1,
    status: FileStatus = FileStatus.MODIFIED,
    old_path: str | None = None,
) -> Chunk:
    """Return a one-hunk chunk from (mark, text) pairs, numbering lines like a real diff."""
    old_no, new_no = old_start, new_start
    diff_lines: list[DiffLine] = []
    for mark, text in lines:
        if mark == "+":
            diff_lines.append(DiffLine(LineKind.ADDED, None, new_no, text))
            new_no += 1
        elif mark == "-":
            diff_lines.append(DiffLine(LineKind.REMOVED, old_no, None, text))
            old_no += 1
        else:
            diff_lines.append(DiffLine(LineKind.CONTEXT, old_no, new_no, text))
            old_no += 1
            new_no += 1
    hunk = Hunk(old_start, old_no - old_start, new_start, new_no - new_start, "def f():", diff_lines)
    changed = hunk.changed_count()
    return Chunk(path, status, [hunk], part, parts, old_path, changed, 0)
