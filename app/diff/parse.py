"""Parse unified diffs (GitHub files-API patches, whole `git diff` output) with unidiff, into `model.py`.

unidiff reads the structure: entries, hunks by their line counts (a removed `-- comment` showing
as `--- ` stays body), line numbers, `\\ No newline` markers, binary markers, modes. This adapter
adds what unidiff lacks, each pinned by a test named after the case in tests/unit/diff/test_parse.py:
- lenient decoding (invalid UTF-8 becomes U+FFFD) and lines split only at "\\n": a lone CR stays
  inside its line, and the CR of a CRLF ending is not content;
- header lines reach unidiff as short placeholders, with the real paths read by `gitpaths.py`:
  unidiff's header regexes backtrack on long crafted names (a 16 KB name takes seconds), keep
  git's C-quoting, and split `diff --git a/x b/y` at the last " b/";
- combined merge diffs (`diff --cc`, `@@@`) are refused loudly (unidiff skips them silently);
- a files-API patch (hunks only) gets a synthetic header, and text after its last hunk is an error.

Errors: malformed input raises `DiffParseError` (a `ValueError`). A caller reviewing many files
should catch it per file and treat that file as `patch_missing`.
"""

from __future__ import annotations

from enum import StrEnum

from unidiff.constants import DEV_NULL
from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk as UniHunk
from unidiff.patch import PatchedFile, PatchSet

from app.diff.gitpaths import GitPathError, git_line_paths, header_path, unquote_git_path
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


_KINDS = {"+": LineKind.ADDED, "-": LineKind.REMOVED, " ": LineKind.CONTEXT}
_TAG = "\x00"
_HEADER_FIRST = frozenset("dB@")
_COMBINED = "combined merge diff (diff --cc / @@@) is not supported; diff the merge against one parent"
# Extended header lines git writes between `diff --git` and the first hunk.
_GIT_HEADER_PREFIXES = (
    "index ", "old mode ", "new mode ", "new file mode ", "deleted file mode ", "similarity index ",
    "dissimilarity index ", "rename from ", "rename to ", "copy from ", "copy to ",
)  # fmt: skip


def _decode(data: str | bytes) -> str:
    # "replace" rather than "surrogateescape": the text goes to JSON and HTTP later, where lone
    # surrogates fail to encode; comment anchors use numbers, so a U+FFFD costs nothing.
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


def _split_lines(text: str) -> list[str]:
    """Lines ending in "\\n", split at "\\n" only (str.splitlines would also split at a lone CR)."""
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    return [part + "\n" for part in parts]


def _convert_hunk(hunk: UniHunk) -> Hunk:
    lines: list[DiffLine] = []
    for line in hunk:
        kind = _KINDS.get(line.line_type)
        if kind is None:
            continue  # "\ No newline at end of file", or a blank line unidiff keeps after a hunk
        text = line.value[:-1] if line.value.endswith("\n") else line.value
        if text.endswith("\r"):
            text = text[:-1]
        lines.append(DiffLine(kind, line.source_line_no, line.target_line_no, text))
    section = hunk.section_header.rstrip("\r")
    return Hunk(hunk.source_start, hunk.source_length, hunk.target_start, hunk.target_length, section, lines)


def _run_unidiff(lines: list[str]) -> PatchSet:
    try:
        return PatchSet(lines)
    except UnidiffParseError as exc:
        message = str(exc)
        if "shorter than expected" in message:
            message = "a hunk ends early (fewer lines than its header says)"
        raise DiffParseError(message[:200]) from exc


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


def _hunks_of_patch(path: str, patch: str | bytes) -> tuple[list[Hunk], int, int]:
    lines = _split_lines(_decode(patch))
    if not lines or not lines[0].startswith("@@"):
        head = lines[0][:60] if lines else ""
        raise DiffParseError(f"patch of {path} does not start with a hunk header: {head!r}")
    if lines[0].startswith("@@@"):
        raise DiffParseError(_COMBINED)
    # unidiff wants file headers before hunks; the files API gives hunks only.
    (entry, *more) = _run_unidiff(["--- a/file\n", "+++ b/file\n", *lines]) or [None]
    # unidiff keeps every hunk line, marker and blank line it read; anything else it skipped.
    read = sum(1 + len(h) for h in entry or ())
    if entry is None or more or read < len(lines):
        extra = lines[min(read, len(lines) - 1)][:60]
        raise DiffParseError(f"unexpected text after the hunks of {path}: {extra!r}")
    hunks = [_convert_hunk(h) for h in entry]
    return hunks, entry.added, entry.removed


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
    hunks, adds, dels = _hunks_of_patch(path, patch)
    return FileDiff(
        path=path, status=file_status, hunks=hunks, old_path=keep_old, additions=adds, deletions=dels
    )


class _Paths:
    """The real paths of each `diff --git` entry, which unidiff sees as placeholders `a/<n>`, `b/<n>`."""

    def __init__(self) -> None:
        self.entries: list[tuple[str | None, str | None]] = []

    def add(self, old: str | None, new: str | None) -> str:
        self.entries.append((old, new))
        return f"{_TAG}{len(self.entries) - 1}"  # NUL never occurs in a git path

    def lookup(self, entry: PatchedFile) -> tuple[str | None, str | None] | None:
        for name in (entry.source_file, entry.target_file):
            if name[2:3] == _TAG:
                return self.entries[int(name[3:])]
        return None


def _git_header_end(lines: list[str], i: int) -> int:
    """Index of the first line after the extended header that starts at `lines[i]`."""
    n = len(lines)
    while i < n:
        line = lines[i]
        if line.startswith("GIT binary patch"):
            i += 1
            while i < n and not lines[i].startswith("diff "):
                i += 1  # base85 data: lines open with a length letter, never "@@" or "diff "
            return i
        if not line.startswith((*_GIT_HEADER_PREFIXES, "--- ", "+++ ", "Binary files ")):
            return i
        i += 1
    return i


def _entry_paths(git_line: str, header: list[str]) -> tuple[str | None, str | None]:
    """Read an entry's (old, new) paths: rename/copy lines, then ---/+++ lines, then the git line."""
    old, new = git_line_paths(git_line[len("diff --git ") :].rstrip("\r\n"))
    for line in header:
        body = line.rstrip("\r\n")
        if body.startswith(("rename from ", "copy from ")):
            old = unquote_git_path(body.split(" from ", 1)[1])
        elif body.startswith(("rename to ", "copy to ")):
            new = unquote_git_path(body.split(" to ", 1)[1])
        elif body.startswith("--- "):
            old = header_path(body[4:], "a/") or old
        elif body.startswith("+++ "):
            new = header_path(body[4:], "b/") or new
    return old, new


def _placeholder(line: str, tag: str) -> str:
    """The header line unidiff sees: same meaning, short placeholder names (its regexes backtrack)."""
    if line.startswith(("--- ", "+++ ")):
        if line[4:].rstrip("\r\n").partition("\t")[0] == DEV_NULL:
            return line[:4] + DEV_NULL + "\n"
        return f"{line[:4]}{'a' if line[0] == '-' else 'b'}/{tag}\n"
    if line.startswith("Binary files "):
        return f"Binary files a/{tag} and b/{tag} differ\n"
    return line


def _plain_binary(line: str, paths: _Paths) -> str:
    """A "Binary files X and Y differ" line of a plain `diff -r`, outside any git entry."""
    names = line[len("Binary files ") :].rstrip("\r\n").removesuffix(" differ")
    old, _, new = names.partition(" and ")
    return _placeholder(line, paths.add(old, new or old))


def _with_placeholders(lines: list[str]) -> tuple[list[str], _Paths]:
    """The lines unidiff reads: headers as placeholders; combined diffs refused on the way."""
    paths = _Paths()
    out: list[str] = []
    copied = i = 0  # lines[copied:i] pass through unchanged
    n = len(lines)
    while i < n:
        line = lines[i]
        # Hunk body lines open with " ", "+", "-" or "\\": only these first letters start a header.
        if line[:1] not in _HEADER_FIRST:
            i += 1
            continue
        if line.startswith(("diff --cc ", "diff --combined ", "@@@ ")):
            raise DiffParseError(_COMBINED)
        if line.startswith("Binary files "):
            out.extend(lines[copied:i])
            out.append(_plain_binary(line, paths))
            i = copied = i + 1
        elif line.startswith("diff --git "):
            out.extend(lines[copied:i])
            end = _git_header_end(lines, i + 1)
            header = lines[i + 1 : end]
            tag = paths.add(*_entry_paths(line, header))
            out.append(f"diff --git a/{tag} b/{tag}\n")
            out.extend(_placeholder(h, tag) for h in header)
            i = copied = end
        else:
            i += 1
    out.extend(lines[copied:])
    return out, paths


def _plain_path(name: str, prefix: str) -> str | None:
    if name == DEV_NULL:
        return None
    path = unquote_git_path(name) if name.startswith('"') else name
    return path[len(prefix) :] if path.startswith(prefix) else path


def _status(entry: PatchedFile, info: list[str]) -> FileStatus:
    if entry.source_file == DEV_NULL:
        return FileStatus.ADDED
    if entry.target_file == DEV_NULL:
        return FileStatus.REMOVED
    if any(line.startswith("rename from ") for line in info):
        return FileStatus.RENAMED
    if any(line.startswith("copy from ") for line in info):
        return FileStatus.COPIED
    mode_changed = any(line.startswith("old mode ") for line in info)
    if mode_changed and not entry and not entry.is_binary_file:
        return FileStatus.CHANGED
    return FileStatus.MODIFIED


def _to_file_diff(entry: PatchedFile, paths: _Paths) -> FileDiff:
    info = list(entry.patch_info or ())
    known = paths.lookup(entry)
    if known is None:  # a plain unified diff (no `diff --git` line): unidiff read the ---/+++ names
        known = (_plain_path(entry.source_file, "a/"), _plain_path(entry.target_file, "b/"))
    old, new = known
    status = _status(entry, info)
    path = (old if status is FileStatus.REMOVED else new) or new or old
    if path is None:
        raise DiffParseError("diff entry without a recognisable path")
    moved = status in (FileStatus.RENAMED, FileStatus.COPIED)
    return FileDiff(
        path=path,
        status=status,
        hunks=[_convert_hunk(h) for h in entry],
        old_path=old if moved else None,
        is_binary=entry.is_binary_file,
        additions=entry.added,
        deletions=entry.removed,
    )


def parse_unified_diff(data: bytes) -> list[FileDiff]:
    """Parse whole `git diff`/`git show` output (or a plain unified diff) into one FileDiff per entry.

    A type change (file -> symlink) is two entries for one path, as git prints it. Combined merge
    diffs (`diff --cc`) raise `DiffParseError`.
    """
    lines = _split_lines(_decode(data))
    try:
        fed, paths = _with_placeholders(lines)
    except GitPathError as exc:
        raise DiffParseError(str(exc)) from exc
    return [_to_file_diff(entry, paths) for entry in _run_unidiff(fed)]
