"""Ground a model call in the head version: enclosing definitions as read-only, redacted context.

The context budget is per model call (`MINI_CONTEXT_TOKENS`), shared by the files of a pack in
order. A finding that cites a line shown only as context, not in the diff, is not a comment: the
reviewer hands it back as a note for the summary (see `cites_context_only`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.diff.context import ContextBlock, chunk_context, render_context
from app.diff.model import Chunk
from app.diff.pack import Pack
from app.diff.tokens import estimate_tokens
from app.review.findings import Finding
from app.review.redact import redact_text


@dataclass(frozen=True)
class PackContext:
    text: str  # rendered, redacted `<context>` elements ("" when none)
    tokens: int
    blocks: dict[str, ContextBlock]  # by chunk path


def pack_context(pack: Pack, head_texts: Mapping[str, str], budget_tokens: int) -> PackContext:
    """Return the context of a pack's files, within `budget_tokens` in total."""
    blocks: dict[str, ContextBlock] = {}
    parts: list[str] = []
    left = budget_tokens
    for chunk in pack.chunks:
        head = head_texts.get(chunk.path)
        if head is None or left <= 0:
            continue
        block = chunk_context(chunk, head, left)
        if block is None:
            continue
        text = redact_text(render_context(block))[0]
        left -= estimate_tokens(text)
        blocks[chunk.path] = block
        parts.append(text)
    text = "\n".join(parts)
    return PackContext(text=text, tokens=estimate_tokens(text), blocks=blocks)


def cites_context_only(finding: Finding, chunk: Chunk, block: ContextBlock | None) -> bool:
    """Tell whether `finding` cites a line shown as context but not in the chunk's diff."""
    if block is None or finding.side != "new":
        return False
    shown = {line.new_no for hunk in chunk.hunks for line in hunk.lines if line.new_no is not None}
    cited = {finding.line} | ({finding.start_line} if finding.start_line is not None else set())
    return bool(cited & block.numbers) and not cited <= shown
