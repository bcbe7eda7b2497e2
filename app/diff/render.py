"""Render a chunk in the model-facing format: a `<chunk>` element of numbered diff lines.

Every line is `{number} {mark} {text}`: "+" added (new number), " " context (new number), "-"
removed (old number). Because each body line starts with its number, a line whose text is
"</chunk>" can never close the element early; attribute values are XML-escaped.
"""

from __future__ import annotations

from app.diff.model import Chunk, DiffLine, FileStatus, Hunk, LineKind

__all__ = ["chunk_open_tag", "render_chunk", "render_hunk", "render_line"]

_CLOSE = "</chunk>"
_ADDED, _REMOVED = LineKind.ADDED, LineKind.REMOVED


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def chunk_open_tag(chunk: Chunk) -> str:
    """Return the opening `<chunk ...>` tag of `chunk`."""
    tag = f'<chunk path="{_attr(chunk.path)}" status="{chunk.status.value}" part="{chunk.part}/{chunk.parts}"'
    if chunk.old_path and chunk.status in (FileStatus.RENAMED, FileStatus.COPIED):
        tag += f' old_path="{_attr(chunk.old_path)}"'
    return tag + ">"


def render_line(line: DiffLine) -> str:
    """Return one numbered diff line."""
    if line.kind is _ADDED:
        return f"{line.new_no} + {line.text}"
    if line.kind is _REMOVED:
        return f"{line.old_no} - {line.text}"
    return f"{line.new_no}   {line.text}"


def render_hunk(hunk: Hunk) -> str:
    """Return a hunk header followed by its numbered lines."""
    return "\n".join([hunk.header, *map(render_line, hunk.lines)])


def render_chunk(chunk: Chunk) -> str:
    """Return the model-facing text of `chunk` (no trailing newline)."""
    parts = [chunk_open_tag(chunk)]
    parts.extend(map(render_hunk, chunk.hunks))
    parts.append(_CLOSE)
    return "\n".join(parts)
