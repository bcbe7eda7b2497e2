"""Turn model findings into review comments GitHub accepts, or notes for the summary.

GitHub rejects a whole review (422) when one comment cites a line its diff does not show, so every
inline comment is checked against the hunks here; anything that cannot be placed safely becomes a
note instead. Rules: https://docs.github.com/en/rest/pulls/comments#create-a-review-comment-for-a-pull-request
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.diff.model import FileDiff, LineKind, Side
from app.review.findings import Finding

SHORT_QUOTE_CHARS = 4  # quotes with fewer non-space characters are too weak to search the file for

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class PlacedComment:
    """A finding anchored on lines GitHub shows in the PR's diff."""

    finding: Finding
    path: str
    line: int
    side: Side
    start_line: int | None
    start_side: Side | None
    suggestion_applicable: bool
    reanchored: bool


@dataclass(frozen=True, slots=True)
class FileNote:
    """A finding about a file of the PR that cannot be placed inline."""

    finding: Finding
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class PrNote:
    """A finding about the PR as a whole (no file given), or a note from the app itself."""

    finding: Finding
    reason: str


@dataclass(frozen=True, slots=True)
class Placement:
    """Where every finding went; each input finding is in exactly one list."""

    inline: list[PlacedComment] = field(default_factory=list)
    file_notes: list[FileNote] = field(default_factory=list)
    pr_notes: list[PrNote] = field(default_factory=list)
    dropped: list[tuple[Finding, str]] = field(default_factory=list)


def normalise(text: str) -> str:
    """Return `text` with whitespace runs collapsed and ends stripped, for tolerant comparison."""
    return _WHITESPACE.sub(" ", text).strip()


def is_short_quote(quote: str) -> bool:
    """Tell whether a quote has too few non-space characters to identify a line."""
    return len(_WHITESPACE.sub("", quote)) < SHORT_QUOTE_CHARS


@dataclass(frozen=True, slots=True)
class _Changed:
    side: Side  # RIGHT for added lines, LEFT for removed ones
    number: int
    coord_new: int  # where the line sits in new-file numbering (insertion point for removed lines)
    coord_old: int  # where the line sits in old-file numbering (insertion point for added lines)

    def distance(self, side: Side, cited: int) -> int:
        """Return how far this line is from a number cited on `side`."""
        across = abs((self.coord_new if side is Side.RIGHT else self.coord_old) - cited)
        # The model sees each line with its own side's number, so a wrong side label often comes
        # with the line's own number: count that as near too.
        return min(across, abs(self.number - cited))


class _FileIndex:
    """Lookups over one file's hunks: shown positions, their text, their hunk, the changed lines."""

    def __init__(self, diff: FileDiff) -> None:
        self.hunk_of = diff.commentable()
        self.text_at: dict[tuple[Side, int], str] = {}
        self.changed: dict[str, list[_Changed]] = {}  # by normalised text
        self.by_hunk: list[dict[Side, list[int]]] = []
        for hunk in diff.hunks:
            shown: dict[Side, list[int]] = {Side.RIGHT: [], Side.LEFT: []}
            # An empty side's start names the line before the hunk (`@@ -5,0 +6,2 @@`).
            old_no = hunk.old_start + (1 if hunk.old_len == 0 else 0)
            new_no = hunk.new_start + (1 if hunk.new_len == 0 else 0)
            for line in hunk.lines:
                text = normalise(line.text)
                if line.old_no is not None:
                    self.text_at[(Side.LEFT, line.old_no)] = text
                    shown[Side.LEFT].append(line.old_no)
                if line.new_no is not None:
                    self.text_at[(Side.RIGHT, line.new_no)] = text
                    shown[Side.RIGHT].append(line.new_no)
                # A changed line has a number on one side only; on the other it sits at the
                # insertion point, the number the next line on that side will have.
                if line.kind is LineKind.ADDED and line.new_no is not None:
                    changed = _Changed(Side.RIGHT, line.new_no, line.new_no, old_no)
                    self.changed.setdefault(text, []).append(changed)
                elif line.kind is LineKind.REMOVED and line.old_no is not None:
                    changed = _Changed(Side.LEFT, line.old_no, new_no, line.old_no)
                    self.changed.setdefault(text, []).append(changed)
                if line.old_no is not None:
                    old_no = line.old_no + 1
                if line.new_no is not None:
                    new_no = line.new_no + 1
            self.by_hunk.append({side: sorted(numbers) for side, numbers in shown.items()})

    def first_in_hunk_from(self, hunk: int, side: Side, start: int) -> int | None:
        """Return the first line of `hunk` on `side` numbered at least `start`."""
        return next((n for n in self.by_hunk[hunk][side] if n >= start), None)


@dataclass(frozen=True, slots=True)
class _Search:
    spot: tuple[Side, int] | None
    ambiguous: bool


def _search_quote(index: _FileIndex, side: Side, cited: int, quote: str, window: int) -> _Search:
    """Find the changed line a mis-numbered quote refers to; prefer the cited side, then nearness."""
    matches = index.changed.get(quote, [])
    same = [c for c in matches if c.side is side]
    other = [c for c in matches if c.side is not side]
    # Nearness to the cited number is stronger evidence than the side label models often get wrong,
    # so both sides' windows are tried before either side's whole file.
    for candidates in (same, other):
        near = sorted((c.distance(side, cited), c.side, c.number) for c in candidates)
        near = [entry for entry in near if entry[0] <= window]
        if near:
            if len(near) == 1 or near[0][0] < near[1][0]:
                return _Search((near[0][1], near[0][2]), ambiguous=False)
            return _Search(None, ambiguous=True)
    if is_short_quote(quote):
        return _Search(None, ambiguous=False)
    for candidates in (same, other):
        if len(candidates) == 1:
            return _Search((candidates[0].side, candidates[0].number), ambiguous=False)
        if candidates:
            return _Search(None, ambiguous=True)
    return _Search(None, ambiguous=False)


def _resolve_path(files: Mapping[str, FileDiff], cited: str) -> FileDiff | None:
    """Map the path a model wrote to a file of the PR, tolerating diff-style prefixes."""
    tries = [cited]
    stripped = cited
    while stripped.startswith("./"):
        stripped = stripped[2:]
    stripped = stripped.lstrip("/")
    tries.append(stripped)
    if stripped.startswith(("a/", "b/")):
        tries.append(stripped[2:])
    for candidate in tries:
        if candidate in files:
            return files[candidate]
    by_old = {diff.old_path: diff for diff in files.values() if diff.old_path}
    for candidate in tries:
        if candidate in by_old:
            return by_old[candidate]
    return None


def _unplaceable_file_reason(diff: FileDiff) -> str | None:
    if diff.is_binary:
        return "binary file"
    if diff.patch_missing:
        return "GitHub did not provide this file's diff"
    if not diff.hunks:
        return "the file has no diff lines to comment on"
    return None


def _place_one(diff: FileDiff, index: _FileIndex, finding: Finding, window: int) -> PlacedComment | FileNote:
    side = Side.RIGHT if finding.side == "new" else Side.LEFT
    cited = (side, finding.line)
    quote = normalise(finding.quote)
    shown = cited in index.hunk_of
    trusted_mismatch = False
    if shown and (not quote or index.text_at[cited] == quote):
        spot = cited
    elif not quote:
        return FileNote(finding, diff.path, f"line {finding.line} is not part of the diff")
    else:
        found = _search_quote(index, side, finding.line, quote, window)
        if found.spot is not None:
            spot = found.spot
        elif shown and is_short_quote(quote):
            spot, trusted_mismatch = cited, True
        elif found.ambiguous:
            return FileNote(finding, diff.path, "the quoted line appears several times in the diff")
        elif shown:
            return FileNote(finding, diff.path, f"line {finding.line} does not match the quoted code")
        else:
            return FileNote(finding, diff.path, f"line {finding.line} is not part of the diff")
    return _with_range(diff.path, index, finding, spot, trusted_mismatch)


def _with_range(
    path: str, index: _FileIndex, finding: Finding, spot: tuple[Side, int], trusted_mismatch: bool
) -> PlacedComment:
    """Attach the cited range to the anchored end line, shifted with it and kept inside its hunk."""
    side, line = spot
    cited_side = Side.RIGHT if finding.side == "new" else Side.LEFT
    reanchored = spot != (cited_side, finding.line)
    wants_range = finding.start_line is not None and finding.start_line < finding.line
    start: int | None = None
    kept_span = finding.start_line is None or finding.start_line <= finding.line
    if wants_range and finding.start_line is not None:
        if side is cited_side:
            shifted = finding.start_line + (line - finding.line)
            hunk = index.hunk_of[spot]
            first = index.first_in_hunk_from(hunk, side, shifted)
            if first is not None and first < line:
                start = first
            kept_span = start == shifted
        else:
            # Numbers on the other side are on another scale; a range cannot be carried over.
            kept_span = False
    applicable = finding.suggestion is not None and side is Side.RIGHT and kept_span and not trusted_mismatch
    return PlacedComment(
        finding=finding,
        path=path,
        line=line,
        side=side,
        start_line=start,
        start_side=side if start is not None else None,
        suggestion_applicable=applicable,
        reanchored=reanchored,
    )


def place_findings(
    files: Mapping[str, FileDiff], findings: Sequence[Finding], *, search_window: int = 10
) -> Placement:
    """Place each finding inline, as a file or PR note, or drop it when it cites a file outside the PR."""
    placement = Placement()
    indexes: dict[str, _FileIndex] = {}
    for finding in findings:
        if not finding.path.strip():
            placement.pr_notes.append(PrNote(finding, "no file given"))
            continue
        diff = _resolve_path(files, finding.path)
        if diff is None:
            # Model output is untrusted: never comment on files this PR does not change.
            placement.dropped.append((finding, "the file is not part of this pull request"))
            continue
        reason = _unplaceable_file_reason(diff)
        if reason is not None:
            placement.file_notes.append(FileNote(finding, diff.path, reason))
            continue
        index = indexes.get(diff.path)
        if index is None:
            index = indexes[diff.path] = _FileIndex(diff)
        placed = _place_one(diff, index, finding, search_window)
        if isinstance(placed, PlacedComment):
            placement.inline.append(placed)
        else:
            placement.file_notes.append(placed)
    return placement


def to_review_comment(placed: PlacedComment, body: str) -> dict[str, object]:
    """Return one entry of `comments` for POST /repos/{o}/{r}/pulls/{n}/reviews."""
    comment: dict[str, object] = {
        "path": placed.path,
        "line": placed.line,
        "side": placed.side.value,
        "body": body,
    }
    if placed.start_line is not None and placed.start_side is not None:
        comment["start_line"] = placed.start_line
        comment["start_side"] = placed.start_side.value
    return comment
