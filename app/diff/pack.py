"""Pack the small chunks of one PR into shared model calls, so the fixed prompt is paid once per pack.

Every call carries the same ~1,300 tokens of instructions and schema; a PR of many small files
paid them once per file. Here whole-file chunks are laid out by language, then directory, then
path (neighbours are related, and the model reads one language at a time) and cut, in that order,
into packs of at most `budget_tokens` rendered tokens and `max_files` files. A file split into
parts is never packed: each part already fills a call. Nothing is dropped or reordered out of
its pack, so every chunk of the input is in exactly one pack.

A pack keeps its chunks apart (one `<chunk path=...>` element each), so a finding names its file
and is placed against that file's diff exactly as before; `attribute` decides which member a
finding belongs to when the model's path is not one of them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.diff.model import Chunk, LineKind
from app.diff.render import render_chunk

__all__ = ["Pack", "attribute", "pack_chunks", "render_pack"]

DEFAULT_MAX_FILES = 12
_SEAM = 1  # the newline between two chunk elements


@dataclass
class Pack:
    """One model call's worth of chunks (a single chunk, or several whole small files)."""

    chunks: list[Chunk] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return sum(chunk.tokens for chunk in self.chunks) + _SEAM * max(len(self.chunks) - 1, 0)

    @property
    def paths(self) -> list[str]:
        return [chunk.path for chunk in self.chunks]


def _language(path: str) -> str:
    name = posixpath.basename(path)
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot and ext else name


def _order(chunk: Chunk) -> tuple[str, str, str]:
    return _language(chunk.path), posixpath.dirname(chunk.path), chunk.path


def pack_chunks(
    chunks: Sequence[Chunk], budget_tokens: int, *, max_files: int = DEFAULT_MAX_FILES
) -> list[Pack]:
    """Group `chunks` into packs (see the module notes); split files keep a pack of their own."""
    alone = [Pack([chunk]) for chunk in chunks if chunk.parts > 1 or chunk.tokens * 2 > budget_tokens]
    small = sorted((c for c in chunks if c.parts == 1 and c.tokens * 2 <= budget_tokens), key=_order)
    packs: list[Pack] = []
    current = Pack()
    for chunk in small:
        grows = current.tokens + _SEAM + chunk.tokens
        if current.chunks and (grows > budget_tokens or len(current.chunks) >= max_files):
            packs.append(current)
            current = Pack()
        current.chunks.append(chunk)
    if current.chunks:
        packs.append(current)
    # The plan's order (source first, biggest first) survives for split files; packs follow.
    return alone + packs


def render_pack(pack: Pack, render: Callable[[Chunk], str] = render_chunk) -> str:
    """Return the model-facing text of a pack: its chunk elements, one after the other."""
    return "\n".join(render(chunk) for chunk in pack.chunks)


def _shown(chunk: Chunk, side: str, line: int) -> str | None:
    """Return the text the chunk shows at (side, line): "old" cites removed lines, "new" the others."""
    for hunk in chunk.hunks:
        for diff_line in hunk.lines:
            removed = diff_line.kind is LineKind.REMOVED
            number = diff_line.old_no if removed else diff_line.new_no
            if number == line and removed == (side == "old"):
                return diff_line.text
    return None


def attribute(pack: Pack, path: str, side: str, line: int, quote: str) -> Chunk | None:
    """Return the member chunk a finding belongs to, or None when its path names no member.

    A path outside the pack is never guessed into it (the model was told which files it sees). A path
    naming a member is trusted unless that member shows the quote nowhere while exactly one other
    member shows it on the cited line: in a pack a model may copy the wrong chunk's path, but
    a wrong line number is more common, and placement re-anchors those by the quote in the file.
    """
    named = next((c for c in pack.chunks if path in (c.path, c.old_path)), None)
    if named is None or len(pack.chunks) == 1:
        return named
    wanted = " ".join(quote.split())

    def shows(chunk: Chunk) -> bool:
        return " ".join((_shown(chunk, side, line) or "").split()) == wanted

    anywhere = any(" ".join(x.text.split()) == wanted for hunk in named.hunks for x in hunk.lines)
    if not wanted or anywhere:
        return named
    others = [c for c in pack.chunks if c is not named and shows(c)]
    return others[0] if len(others) == 1 else named
