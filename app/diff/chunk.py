"""Cut one file's diff into chunks that each fit a token budget.

A file that fits is one chunk. A bigger one is cut between hunks, packing consecutive hunks. A
hunk too big on its own is cut between lines into pieces; each piece after the first repeats the
`overlap_lines` lines before it (with their real marks and numbers, so nothing shown is untrue)
as context, but a changed line is *counted* (`Chunk.changed_lines`) only in the piece that owns it.

Giant lines: any line longer than `max_line_chars` is shortened, and a line that alone would not
fit the budget is shortened further, both with a visible "…[truncated N chars]" marker. So every
chunk's `tokens` is within the budget, except when the budget cannot hold even the chunk frame,
one hunk header and one empty line (budgets below ~50 tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.diff.model import Chunk, DiffLine, FileDiff, Hunk, LineKind
from app.diff.render import chunk_open_tag, render_chunk, render_hunk, render_line
from app.diff.tokens import estimate_tokens

__all__ = ["DEFAULT_MAX_LINE_CHARS", "chunk_file", "truncate_text"]

DEFAULT_MAX_LINE_CHARS = 2000
# Estimates are not exactly additive: joining two texts can add a piece at the seam.
_JOIN_SLACK = 2
_MAX_CHARS_PER_TOKEN = 16


@dataclass(slots=True)
class _Unit:
    """A hunk (or a piece of one) that goes into a chunk whole."""

    hunk: Hunk
    cost: int
    owned: int  # changed lines this unit is responsible for


def truncate_text(text: str, keep: int) -> str:
    """Return `text` cut to `keep` characters plus a marker saying how much was dropped."""
    if len(text) <= keep:
        return text
    return f"{text[:keep]}…[truncated {len(text) - keep} chars]"


def _shorten_long_lines(hunks: list[Hunk], max_line_chars: int) -> list[Hunk]:
    out: list[Hunk] = []
    for hunk in hunks:
        if all(len(line.text) <= max_line_chars for line in hunk.lines):
            out.append(hunk)
            continue
        lines = [
            line
            if len(line.text) <= max_line_chars
            else DiffLine(line.kind, line.old_no, line.new_no, truncate_text(line.text, max_line_chars))
            for line in hunk.lines
        ]
        out.append(Hunk(hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len, hunk.section, lines))
    return out


def _frame_cost(file: FileDiff) -> int:
    """Tokens of the chunk element around the hunks, with the widest part numbers we might use."""
    probe = Chunk(path=file.path, status=file.status, hunks=[], part=999, parts=999, old_path=file.old_path)
    return estimate_tokens(chunk_open_tag(probe) + "\n</chunk>") + _JOIN_SLACK


def _sub_hunk(hunk: Hunk, lines: list[DiffLine], old_cursor: int, new_cursor: int) -> Hunk:
    """Build a hunk holding `lines` of `hunk`; cursors are the old/new numbers where it begins."""
    old_len = sum(1 for line in lines if line.old_no is not None)
    new_len = sum(1 for line in lines if line.new_no is not None)
    # Unified-diff convention: an empty range names the line *before* it.
    old_start = old_cursor if old_len else old_cursor - 1
    new_start = new_cursor if new_len else new_cursor - 1
    return Hunk(old_start, old_len, new_start, new_len, hunk.section, lines)


def _fit_line(line: DiffLine, room: int) -> DiffLine:
    """Shorten `line` until its rendering costs at most `room` tokens (possibly to no text)."""
    if estimate_tokens(render_line(line)) + _JOIN_SLACK <= room:
        return line
    lo, hi = 0, len(line.text)
    while lo < hi:  # largest prefix whose truncated rendering fits
        mid = (lo + hi + 1) // 2
        candidate = DiffLine(line.kind, line.old_no, line.new_no, truncate_text(line.text, mid))
        if estimate_tokens(render_line(candidate)) + _JOIN_SLACK <= room:
            lo = mid
        else:
            hi = mid - 1
    return DiffLine(line.kind, line.old_no, line.new_no, truncate_text(line.text, lo))


def _split_hunk(hunk: Hunk, room: int, overlap_lines: int) -> list[_Unit]:
    """Cut one over-budget hunk into pieces of at most `room` tokens each."""
    lines = hunk.lines
    costs = [estimate_tokens(render_line(line)) + _JOIN_SLACK for line in lines]
    # Old/new numbers at the start of each line, for the pieces' headers.
    old_at: list[int] = []
    new_at: list[int] = []
    old_cur = hunk.old_start if hunk.old_len else hunk.old_start + 1
    new_cur = hunk.new_start if hunk.new_len else hunk.new_start + 1
    for line in lines:
        old_at.append(old_cur)
        new_at.append(new_cur)
        if line.old_no is not None:
            old_cur = line.old_no + 1
        if line.new_no is not None:
            new_cur = line.new_no + 1
    units: list[_Unit] = []
    start = 0
    while start < len(lines):
        lead = max(0, start - overlap_lines)
        header = estimate_tokens(hunk.header) + _JOIN_SLACK
        used = header + sum(costs[lead:start])
        end = start
        while end < len(lines) and used + costs[end] <= room:
            used += costs[end]
            end += 1
        if end == start and lead < start:
            lead, used = start, header  # the overlap crowds out the line itself: drop it
            while end < len(lines) and used + costs[end] <= room:
                used += costs[end]
                end += 1
        body = lines[lead:end]
        if end == start:  # one line alone is over budget: send it shortened
            body = [_fit_line(lines[start], room - header)]
            end = start + 1
            used = header + estimate_tokens(render_line(body[0])) + _JOIN_SLACK
        owned = sum(1 for line in lines[start:end] if line.kind is not LineKind.CONTEXT)
        if owned or (not units and end >= len(lines)):  # a piece with nothing to review is dropped
            units.append(_Unit(_sub_hunk(hunk, body, old_at[lead], new_at[lead]), used, owned))
        start = end
    return units


def _units(hunks: list[Hunk], room: int, overlap_lines: int) -> list[_Unit]:
    units: list[_Unit] = []
    for hunk in hunks:
        cost = estimate_tokens(render_hunk(hunk)) + _JOIN_SLACK
        if cost <= room:
            units.append(_Unit(hunk, cost, hunk.changed_count()))
        else:
            units.extend(_split_hunk(hunk, room, overlap_lines))
    return units


def _pack(units: list[_Unit], room: int) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    used = 0
    for unit in units:
        if current and used + unit.cost > room:
            groups.append(current)
            current, used = [], 0
        current.append(unit)
        used += unit.cost
    if current:
        groups.append(current)
    return groups


def chunk_file(
    file: FileDiff,
    budget_tokens: int,
    overlap_lines: int = 3,
    *,
    max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
) -> list[Chunk]:
    """Return the chunks of `file`, each within `budget_tokens` (see the module notes); [] if no hunks."""
    if not file.hunks:
        return []
    hunks = _shorten_long_lines(file.hunks, max_line_chars)
    whole = Chunk(path=file.path, status=file.status, hunks=hunks, old_path=file.old_path)
    text = render_chunk(whole)
    # Most files fit: estimate the whole rendering once. Text this long never fits (code runs
    # 2-5 characters a token), so skip the estimate for it.
    if len(text) <= _MAX_CHARS_PER_TOKEN * budget_tokens:
        whole.tokens = estimate_tokens(text)
        if whole.tokens <= budget_tokens:
            whole.changed_lines = sum(hunk.changed_count() for hunk in hunks)
            return [whole]
    room = budget_tokens - _frame_cost(file)
    groups = _pack(_units(hunks, room, overlap_lines), room)
    chunks = [
        Chunk(
            path=file.path,
            status=file.status,
            hunks=[unit.hunk for unit in group],
            part=index,
            parts=len(groups),
            old_path=file.old_path,
            changed_lines=sum(unit.owned for unit in group),
        )
        for index, group in enumerate(groups, start=1)
    ]
    for chunk in chunks:
        chunk.tokens = estimate_tokens(render_chunk(chunk))
    return chunks
