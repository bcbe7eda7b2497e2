"""Build chunks and their model-facing text (COMMON.md format) for review tests."""

from __future__ import annotations

from app.diff.model import Chunk, DiffLine, FileStatus, Hunk, LineKind

_MARKS = {LineKind.ADDED: "+", LineKind.REMOVED: "-", LineKind.CONTEXT: " "}


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


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def render(chunk: Chunk) -> str:
    """Render a chunk in the shared model-facing format."""
    attrs = f'path="{_attr(chunk.path)}" status="{chunk.status.value}" part="{chunk.part}/{chunk.parts}"'
    if chunk.old_path:
        attrs += f' old_path="{_attr(chunk.old_path)}"'
    out = [f"<chunk {attrs}>"]
    for hunk in chunk.hunks:
        out.append(hunk.header)
        for line in hunk.lines:
            number = line.old_no if line.kind is LineKind.REMOVED else line.new_no
            out.append(f"{number} {_MARKS[line.kind]} {line.text}")
    out.append("</chunk>")
    return "\n".join(out) + "\n"
