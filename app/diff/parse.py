"""Parse unified diffs (GitHub files-API patches and whole `git diff` output) into the domain model.

A hand-written parser rather than unidiff: it reads hunks by their line counts (so a removed
`-- comment` that shows as `--- ` is body, not a header), decodes bytes leniently, splits only at
"\\n" (a lone CR inside a line stays in the line), undoes git's C-quoting of paths, and refuses
combined diffs loudly instead of swallowing them. It is also several times faster than unidiff.

Errors: malformed input raises `DiffParseError` (a `ValueError`). A caller reviewing many files
should catch it per file and treat that file as `patch_missing`.
"""

from __future__ import annotations

import re
from enum import StrEnum

from app.diff.model import DiffLine, FileDiff, FileStatus, Hunk, LineKind

__all__ = [
    "DiffParseError",
    "PatchAbsence",
    "parse_file_patch",
    "parse_unified_diff",
    "patch_absence",
    "unquote_git_path",
]


class DiffParseError(ValueError):
    """The diff text is malformed or in a format we do not review (e.g. a combined merge diff)."""


class PatchAbsence(StrEnum):
    """Why a files-API entry came without a `patch`."""

    PRESENT = "present"
    BINARY = "binary"  # the caller said so
    TOO_LARGE = "too_large"  # lines changed but GitHub omitted the patch
    EMPTY = "empty"  # no line changes: pure rename, mode change, empty file, removal of one
    # Added/modified with 0/0: GitHub's signature of a binary file, but an empty file looks the same.
    BINARY_OR_EMPTY = "binary_or_empty"


_HUNK_RE = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)")

_ADDED, _REMOVED, _CONTEXT = LineKind.ADDED, LineKind.REMOVED, LineKind.CONTEXT

_C_ESCAPES = {
    "a": 7,
    "b": 8,
    "t": 9,
    "n": 10,
    "v": 11,
    "f": 12,
    "r": 13,
    '"': 34,
    "\\": 92,
}


def _decode(data: str | bytes) -> str:
    # "replace" rather than "surrogateescape": the text goes to JSON and HTTP later, where lone
    # surrogates fail to encode; comment anchors use numbers, so a U+FFFD costs nothing.
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Decode the C-quoted string that opens at `text[start]`; return it and the index after it."""
    out = bytearray()
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            return out.decode("utf-8", errors="replace"), i + 1
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if "0" <= nxt <= "7":
                j = i + 1
                while j < n and j < i + 4 and "0" <= text[j] <= "7":
                    j += 1
                out.append(int(text[i + 1 : j], 8) & 0xFF)
                i = j
                continue
            out.append(_C_ESCAPES.get(nxt, ord(nxt) if nxt.isascii() else 63))
            i += 2
            continue
        out += ch.encode("utf-8", errors="replace")
        i += 1
    raise DiffParseError(f"unterminated quoted path: {text[start:]!r}")


def unquote_git_path(raw: str) -> str:
    """Undo git's C-quoting of a path (`"a/\\303\\251"` -> `a/é`); plain paths pass through."""
    if raw.startswith('"'):
        return _read_quoted(raw, 0)[0]
    return raw


def _header_path(raw: str, prefix: str) -> str | None:
    """Read the path of a `---`/`+++` line body; None for /dev/null."""
    if raw.startswith('"'):
        path = _read_quoted(raw, 0)[0]
    else:
        # git appends a tab when the name has spaces; classic diff puts a timestamp after it.
        tab = raw.find("\t")
        path = raw if tab < 0 else raw[:tab]
    if path == "/dev/null":
        return None
    return path[len(prefix) :] if path.startswith(prefix) else path


def _git_line_paths(rest: str) -> tuple[str | None, str | None]:
    """Split the body of a `diff --git` line into (old, new) paths, when it is unambiguous."""
    if rest.startswith('"'):
        old, end = _read_quoted(rest, 0)
        tail = rest[end + 1 :]
        new = _read_quoted(tail, 0)[0] if tail.startswith('"') else tail
        return _strip(old, "a/"), _strip(new, "b/")
    if rest.endswith('"'):
        cut = rest.find(' "')
        if cut > 0:
            return _strip(rest[:cut], "a/"), _strip(_read_quoted(rest, cut + 1)[0], "b/")
    # Unquoted names may hold spaces; the common case of equal names is split exactly in the middle.
    half = (len(rest) - 1) // 2
    if len(rest) % 2 == 1 and rest[half] == " " and rest[2:half] == rest[half + 3 :]:
        return rest[2:half], rest[half + 3 :]
    cut = rest.find(" b/")
    if cut > 0:
        return _strip(rest[:cut], "a/"), rest[cut + 3 :]
    return None, None


def _strip(path: str, prefix: str) -> str:
    return path[len(prefix) :] if path.startswith(prefix) else path


def _parse_hunks(lines: list[str], i: int) -> tuple[list[Hunk], int, int, int]:
    """Read consecutive hunks starting at `lines[i]` (an "@@" line); return hunks, next index, +, -."""
    hunks: list[Hunk] = []
    n = len(lines)
    adds = dels = 0
    while i < n and lines[i].startswith("@@"):
        head = lines[i]
        if head.startswith("@@@"):
            raise DiffParseError("combined diff hunk (@@@) is not supported; diff against one parent")
        m = _HUNK_RE.match(head)
        if m is None:
            raise DiffParseError(f"bad hunk header at line {i + 1}: {head[:80]!r}")
        old_start = int(m.group(1))
        old_len = 1 if m.group(2) is None else int(m.group(2))
        new_start = int(m.group(3))
        new_len = 1 if m.group(4) is None else int(m.group(4))
        section = m.group(5).rstrip("\r")
        body: list[DiffLine] = []
        append = body.append
        old_no, new_no = old_start, new_start
        old_left, new_left = old_len, new_len
        i += 1
        while old_left > 0 or new_left > 0:
            if i >= n:
                raise DiffParseError(f"hunk {head[:60]!r} ends early (missing {old_left}/{new_left} lines)")
            raw = lines[i]
            i += 1
            mark = raw[:1]
            text = raw[1:]
            if text.endswith("\r"):
                text = text[:-1]
            if mark == "+":
                if new_left <= 0:
                    raise DiffParseError(f"hunk {head[:60]!r} has more added lines than its header says")
                append(DiffLine(_ADDED, None, new_no, text))
                new_no += 1
                new_left -= 1
                adds += 1
            elif mark == "-":
                if old_left <= 0:
                    raise DiffParseError(f"hunk {head[:60]!r} has more removed lines than its header says")
                append(DiffLine(_REMOVED, old_no, None, text))
                old_no += 1
                old_left -= 1
                dels += 1
            elif mark == " " or not raw:
                # An empty line is a context line whose trailing space an editor or mailer stripped.
                if old_left <= 0 or new_left <= 0:
                    raise DiffParseError(f"hunk {head[:60]!r} has more context lines than its header says")
                append(DiffLine(_CONTEXT, old_no, new_no, text))
                old_no += 1
                new_no += 1
                old_left -= 1
                new_left -= 1
            elif mark == "\\":
                continue  # "\ No newline at end of file" describes the previous line; it is not one
            else:
                raise DiffParseError(f"unexpected line {i} inside hunk {head[:60]!r}: {raw[:60]!r}")
        while i < n and lines[i].startswith("\\"):
            i += 1
        hunks.append(Hunk(old_start, old_len, new_start, new_len, section, body))
    return hunks, i, adds, dels


def patch_absence(
    status: str, patch: str | bytes | None, additions: int, deletions: int, binary: bool | None = None
) -> PatchAbsence:
    """Classify a files-API entry's missing patch (see `PatchAbsence`)."""
    if binary:
        return PatchAbsence.BINARY
    if patch:
        return PatchAbsence.PRESENT
    if additions + deletions > 0:
        return PatchAbsence.TOO_LARGE
    if binary is None and status in ("added", "modified"):
        return PatchAbsence.BINARY_OR_EMPTY
    return PatchAbsence.EMPTY


def parse_file_patch(
    path: str,
    patch: str | bytes | None,
    *,
    status: str,
    old_path: str | None = None,
    additions: int = 0,
    deletions: int = 0,
    binary: bool | None = None,
) -> FileDiff:
    """Parse one entry of GitHub's "list pull request files" (hunks-only `patch`) into a FileDiff.

    Without a patch: lines changed means GitHub omitted it as too large (`patch_missing`, counts
    kept from the entry so budgets stay exact). With 0/0 changes, `binary` decides when the caller
    knows; when it is None an added/modified entry is taken as binary, because that is how GitHub
    reports binaries, though an empty file looks the same (`patch_absence` tells the two cases apart
    as BINARY_OR_EMPTY). Either way such a file has nothing to review.
    """
    try:
        file_status = FileStatus(status)
    except ValueError as exc:
        raise DiffParseError(f"unknown file status {status!r} for {path}") from exc
    keep_old = old_path if file_status in (FileStatus.RENAMED, FileStatus.COPIED) else None
    absence = patch_absence(status, patch, additions, deletions, binary)
    if absence is not PatchAbsence.PRESENT:
        return FileDiff(
            path=path,
            status=file_status,
            old_path=keep_old,
            is_binary=absence in (PatchAbsence.BINARY, PatchAbsence.BINARY_OR_EMPTY),
            patch_missing=absence is PatchAbsence.TOO_LARGE,
            additions=additions if absence is PatchAbsence.TOO_LARGE else 0,
            deletions=deletions if absence is PatchAbsence.TOO_LARGE else 0,
        )
    assert patch is not None
    lines = _decode(patch).split("\n")
    if not lines[0].startswith("@@"):
        raise DiffParseError(f"patch of {path} does not start with a hunk header: {lines[0][:60]!r}")
    hunks, i, adds, dels = _parse_hunks(lines, 0)
    if any(line for line in lines[i:]):
        raise DiffParseError(f"unexpected text after the hunks of {path}: {lines[i][:60]!r}")
    return FileDiff(
        path=path, status=file_status, hunks=hunks, old_path=keep_old, additions=adds, deletions=dels
    )


class _Header:
    """What the extended header lines of one `diff --git` entry said."""

    __slots__ = ("old", "new", "added", "removed", "renamed", "copied", "mode_changed", "binary")

    def __init__(self, old: str | None, new: str | None) -> None:
        self.old = old
        self.new = new
        self.added = self.removed = self.renamed = self.copied = False
        self.mode_changed = self.binary = False

    def build(self, hunks: list[Hunk], adds: int, dels: int) -> FileDiff:
        if self.added:
            status = FileStatus.ADDED
        elif self.removed:
            status = FileStatus.REMOVED
        elif self.renamed:
            status = FileStatus.RENAMED
        elif self.copied:
            status = FileStatus.COPIED
        elif self.mode_changed and not hunks and not self.binary:
            status = FileStatus.CHANGED
        else:
            status = FileStatus.MODIFIED
        path = self.old if status is FileStatus.REMOVED else self.new
        path = path or self.new or self.old
        if path is None:
            raise DiffParseError("diff entry without a recognisable path")
        moved = status in (FileStatus.RENAMED, FileStatus.COPIED)
        return FileDiff(
            path=path,
            status=status,
            hunks=hunks,
            old_path=self.old if moved else None,
            is_binary=self.binary,
            additions=adds,
            deletions=dels,
        )


def _read_header(lines: list[str], i: int, head: _Header) -> int:
    """Consume extended header lines after `diff --git` up to the first hunk; return the next index."""
    n = len(lines)
    while i < n:
        line = lines[i]
        if line.startswith(("@@", "diff ")):
            return i
        if line.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ "):
            old = _header_path(line[4:], "a/")
            new = _header_path(lines[i + 1][4:], "b/")
            if old is None:
                head.added = True
            else:
                head.old = old
            if new is None:
                head.removed = True
            else:
                head.new = new
            return i + 2
        if line.startswith("GIT binary patch"):
            head.binary = True
            i += 1
            while i < n and not lines[i].startswith("diff "):
                i += 1
            return i
        if line.startswith("new file mode"):
            head.added = True
        elif line.startswith("deleted file mode"):
            head.removed = True
        elif line.startswith(("old mode", "new mode")):
            head.mode_changed = True
        elif line.startswith("rename from "):
            head.renamed = True
            head.old = unquote_git_path(line[12:])
        elif line.startswith("rename to "):
            head.new = unquote_git_path(line[10:])
        elif line.startswith("copy from "):
            head.copied = True
            head.old = unquote_git_path(line[10:])
        elif line.startswith("copy to "):
            head.new = unquote_git_path(line[8:])
        elif line.startswith("Binary files ") and line.rstrip("\r").endswith(" differ"):
            head.binary = True
        elif not line.startswith(("index ", "similarity index", "dissimilarity index")) and line:
            # Anything else ends the header: the entry had no hunks (e.g. a pure rename).
            return i
        i += 1
    return i


def parse_unified_diff(data: bytes) -> list[FileDiff]:
    """Parse whole `git diff`/`git show` output (or a plain unified diff) into one FileDiff per entry.

    A type change (file -> symlink) is two entries for one path, as git prints it. Combined merge
    diffs (`diff --cc`) raise `DiffParseError`.
    """
    lines = _decode(data).split("\n")
    n = len(lines)
    files: list[FileDiff] = []
    i = 0
    while i < n:
        line = lines[i]
        if line.startswith("diff --git "):
            old, new = _git_line_paths(line[11:].rstrip("\r"))
            head = _Header(old, new)
            i = _read_header(lines, i + 1, head)
        elif line.startswith(("diff --cc ", "diff --combined ")):
            raise DiffParseError(
                "combined merge diff (diff --cc) is not supported; diff the merge against one parent"
            )
        elif line.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ "):
            head = _Header(None, None)
            i = _read_header(lines, i, head)
        else:
            i += 1  # preamble (commit message, mail headers) or trailer between entries
            continue
        hunks, i, adds, dels = _parse_hunks(lines, i)
        files.append(head.build(hunks, adds, dels))
    return files
