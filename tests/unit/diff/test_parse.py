"""Unit tests of the diff parser (unidiff behind our adapter) on small hand-made inputs.

Tests named `test_unidiff_shortfall_*` pin a case where unidiff alone gets it wrong and the adapter
steps in (see app/diff/parse.py).
"""

from __future__ import annotations

import pytest

from app.diff.gitpaths import GitPathError, unquote_git_path
from app.diff.model import FileStatus, LineKind, Side
from app.diff.parse import (
    DiffParseError,
    PatchAbsence,
    _split_lines,
    _with_placeholders,
    parse_file_patch,
    parse_unified_diff,
    patch_absence,
)

PATCH = "@@ -1,3 +1,4 @@ def f():\n a\n-b\n+B\n+c\n d\n@@ -10 +11 @@\n-x\n\\ No newline at end of file\n+y"


def test_file_patch_numbers_lines_on_both_sides() -> None:
    f = parse_file_patch("m.py", PATCH, status="modified")
    assert (f.additions, f.deletions) == (3, 2)
    first, second = f.hunks
    assert first.section == "def f():"
    assert [(ln.kind, ln.old_no, ln.new_no, ln.text) for ln in first.lines] == [
        (LineKind.CONTEXT, 1, 1, "a"),
        (LineKind.REMOVED, 2, None, "b"),
        (LineKind.ADDED, None, 2, "B"),
        (LineKind.ADDED, None, 3, "c"),
        (LineKind.CONTEXT, 3, 4, "d"),
    ]
    assert (second.old_start, second.old_len, second.new_start, second.new_len) == (10, 1, 11, 1)
    assert [ln.position() for ln in second.lines] == [(Side.LEFT, 10), (Side.RIGHT, 11)]


def test_file_patch_accepts_bytes_and_decodes_invalid_utf8() -> None:
    f = parse_file_patch("x.txt", b"@@ -0,0 +1,2 @@\n+caf\xe9\n+ok\r", status="added")
    assert [ln.text for ln in f.hunks[0].lines] == ["caf\ufffd", "ok"]


def test_patch_missing_when_lines_changed_but_no_patch() -> None:
    f = parse_file_patch("big.sql", None, status="modified", additions=5000, deletions=10)
    assert f.patch_missing and not f.is_binary and not f.hunks
    assert f.changed_lines() == 5010


@pytest.mark.parametrize(
    ("status", "binary", "expect_binary", "absence"),
    [
        ("modified", None, True, PatchAbsence.BINARY_OR_EMPTY),
        ("added", None, True, PatchAbsence.BINARY_OR_EMPTY),
        ("added", False, False, PatchAbsence.EMPTY),
        ("added", True, True, PatchAbsence.BINARY),
        ("renamed", None, False, PatchAbsence.EMPTY),
        ("removed", None, False, PatchAbsence.EMPTY),
    ],
)
def test_no_patch_zero_changes(status: str, binary: bool | None, expect_binary: bool, absence: str) -> None:
    f = parse_file_patch("f.bin", None, status=status, old_path="o.bin", binary=binary)
    assert f.is_binary is expect_binary
    assert not f.patch_missing
    assert patch_absence(status, None, 0, 0, binary) == absence
    assert f.old_path == ("o.bin" if status == "renamed" else None)


def test_patch_with_garbage_or_bad_counts_raises() -> None:
    with pytest.raises(DiffParseError):
        parse_file_patch("a", "not a hunk", status="modified")
    with pytest.raises(DiffParseError):
        parse_file_patch("a", "@@ -1,2 +1,2 @@\n a", status="modified")
    with pytest.raises(DiffParseError):
        parse_file_patch("a", "@@ -1 +1 @@\n-a\n+b\n+c", status="modified")
    with pytest.raises(DiffParseError):
        parse_file_patch("a", "@@ -1 +1 @@\n-a\n+b", status="weird")


def test_removed_sql_comment_lines_are_body_not_headers() -> None:
    data = (
        b"diff --git a/q.sql b/q.sql\nindex 1..2 100644\n--- a/q.sql\n+++ b/q.sql\n"
        b"@@ -1,3 +1,2 @@\n--- a comment\n--- another\n+-- new\n SELECT 1;\n"
    )
    (f,) = parse_unified_diff(data)
    assert (f.additions, f.deletions) == (1, 2)
    assert [ln.text for ln in f.hunks[0].lines][:2] == ["-- a comment", "-- another"]


def test_statuses_of_header_only_entries() -> None:
    data = (
        b"diff --git a/old name.py b/new name.py\nsimilarity index 100%\n"
        b"rename from old name.py\nrename to new name.py\n"
        b"diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
        b"diff --git a/empty b/empty\nnew file mode 100644\nindex 0000000..e69de29\n"
        b"diff --git a/gone b/gone\ndeleted file mode 100644\nindex e69de29..0000000\n"
        b"diff --git a/img.png b/img.png\nindex 1..2 100644\nBinary files a/img.png and b/img.png differ\n"
        b"diff --git a/x.c b/y.c\nsimilarity index 90%\ncopy from x.c\ncopy to y.c\n"
    )
    files = parse_unified_diff(data)
    assert [(f.path, f.status, f.old_path, f.is_binary) for f in files] == [
        ("new name.py", FileStatus.RENAMED, "old name.py", False),
        ("run.sh", FileStatus.CHANGED, None, False),
        ("empty", FileStatus.ADDED, None, False),
        ("gone", FileStatus.REMOVED, None, False),
        ("img.png", FileStatus.MODIFIED, None, True),
        ("y.c", FileStatus.COPIED, "x.c", False),
    ]
    assert all(not f.hunks for f in files)


def test_mode_change_with_edit_is_modified() -> None:
    data = b"diff --git a/r b/r\nold mode 100644\nnew mode 100755\nindex 1..2\n"
    data += b"--- a/r\n+++ b/r\n@@ -1 +1 @@\n-a\n+b\n"
    assert parse_unified_diff(data)[0].status is FileStatus.MODIFIED


def test_spaces_in_paths_with_trailing_tab_and_equal_names() -> None:
    data = (
        b"diff --git a/my dir/a b.txt b/my dir/a b.txt\nindex 1..2 100644\n"
        b"--- a/my dir/a b.txt\t\n+++ b/my dir/a b.txt\t\n@@ -1 +1 @@\n-a\n+b\n"
        b"diff --git a/x y b/x y\nold mode 100644\nnew mode 100755\n"
    )
    assert [f.path for f in parse_unified_diff(data)] == ["my dir/a b.txt", "x y"]


def test_quoted_paths_are_unquoted() -> None:
    assert unquote_git_path('"a/\\303\\251t\\303\\251 \\"q\\".txt"') == 'a/été "q".txt'
    assert unquote_git_path("plain/path") == "plain/path"
    data = b'diff --git "a/\\346\\226\\207.md" "b/\\346\\226\\207.md"\n'
    data += b"new file mode 100644\nindex 0..e69de29\n"
    assert parse_unified_diff(data)[0].path == "文.md"
    with pytest.raises(GitPathError):
        unquote_git_path('"unterminated')
    with pytest.raises(DiffParseError, match="unterminated"):
        parse_unified_diff(b'diff --git "a/x\nindex 1..2\n')


def test_crlf_and_lone_cr() -> None:
    data = b"diff --git a/w b/w\n--- a/w\n+++ b/w\n@@ -1,2 +1,2 @@\r\n-a\rb\r\n+a\rc\r\n keep\r\n"
    (f,) = parse_unified_diff(data)
    assert [ln.text for ln in f.hunks[0].lines] == ["a\rb", "a\rc", "keep"]
    assert (f.additions, f.deletions) == (1, 1)


def test_no_newline_marker_on_both_sides_is_not_a_line() -> None:
    marker = b"\\ No newline at end of file\n"
    data = b"--- a/f\n+++ b/f\n@@ -1 +1 @@\n-old\n" + marker + b"+new\n" + marker
    (f,) = parse_unified_diff(data)
    assert (f.path, f.additions, f.deletions, len(f.hunks[0].lines)) == ("f", 1, 1, 2)


def test_plain_unified_diff_without_git_headers() -> None:
    data = b"--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,2 @@\n+1\n+2\n"
    data += b"--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
    files = parse_unified_diff(data)
    assert [(f.path, f.status, f.additions, f.deletions) for f in files] == [
        ("new.txt", FileStatus.ADDED, 2, 0),
        ("old.txt", FileStatus.REMOVED, 0, 1),
    ]


def test_preamble_is_ignored_and_git_binary_patch_is_binary() -> None:
    data = (
        b"From abc Mon Sep 17 00:00:00 2001\nSubject: x\n\n---\n"
        b"diff --git a/b.bin b/b.bin\nnew file mode 100644\nindex 0..1\n"
        b"GIT binary patch\nliteral 3\nKcmZ?\n\nliteral 0\n"
        b"diff --git a/t b/t\n--- a/t\n+++ b/t\n@@ -1 +1 @@\n-a\n+b\n"
    )
    files = parse_unified_diff(data)
    assert [(f.path, f.is_binary, f.status) for f in files] == [
        ("b.bin", True, FileStatus.ADDED),
        ("t", False, FileStatus.MODIFIED),
    ]


def test_combined_diff_raises() -> None:
    with pytest.raises(DiffParseError, match="combined"):
        parse_unified_diff(b"diff --cc f\nindex 1,2..3\n--- a/f\n+++ b/f\n@@@ -1,1 -1,1 +1,1 @@@\n- a\n +b\n")
    with pytest.raises(DiffParseError, match="combined"):
        parse_unified_diff(b"--- a/f\n+++ b/f\n@@@ -1,1 -1,1 +1,1 @@@\n- a\n")


def test_truncated_hunk_raises() -> None:
    with pytest.raises(DiffParseError, match="ends early"):
        parse_unified_diff(b"--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n")


def test_empty_input_gives_no_files() -> None:
    assert parse_unified_diff(b"") == []


def test_unidiff_shortfall_name_holding_space_b_slash() -> None:
    # unidiff splits `diff --git a/P b/P` at the last " b/", so it would read "b/y.txt" here.
    data = (
        b"diff --git a/Plan b/x.md b/Plan b/x.md\nindex 1..2 100644\n"
        b"--- a/Plan b/x.md\n+++ b/Plan b/x.md\n@@ -1 +1 @@\n-a\n+b\n"
        b"diff --git a/k b/old.md b/k b/new.md\nsimilarity index 100%\n"
        b"rename from k b/old.md\nrename to k b/new.md\n"
    )
    files = parse_unified_diff(data)
    assert [(f.path, f.old_path, f.status) for f in files] == [
        ("Plan b/x.md", None, FileStatus.MODIFIED),
        ("k b/new.md", "k b/old.md", FileStatus.RENAMED),
    ]


def test_unidiff_shortfall_quoted_names_come_back_decoded() -> None:
    data = b'diff --git "a/caf\\303\\251 \\"x\\".txt" "b/caf\\303\\251 \\"x\\".txt"\n'
    data += b'--- "a/caf\\303\\251 \\"x\\".txt"\n+++ "b/caf\\303\\251 \\"x\\".txt"\n@@ -1 +1 @@\n-a\n+b\n'
    assert [f.path for f in parse_unified_diff(data)] == ['café "x".txt']


def test_unidiff_shortfall_crafted_long_names_reach_unidiff_as_short_placeholders() -> None:
    # unidiff's header regexes backtrack (quadratic) on names like these: a 16 KB one takes seconds.
    # By construction no header line it sees is longer than a placeholder, whatever the name.
    uri = "://x" * 5000
    ands = "a and " * 3000
    data = (
        f"diff --git a/{uri} b/{uri}\nindex 1..2 100644\n--- a/{uri}\n+++ b/{uri}\n@@ -1 +1 @@\n-a\n+b\n"
        f"diff --git a/{ands}.png b/{ands}.png\nindex 1..2 100644\n"
        f"Binary files a/{ands}.png and b/{ands}.png differ\n"
    )
    fed, _ = _with_placeholders(_split_lines(data))
    headers = [line for line in fed if line.startswith(("diff --git", "Binary files", "--- a", "+++ b"))]
    assert len(headers) == 5 and max(map(len, headers)) < 40
    files = parse_unified_diff(data.encode())
    assert [(f.path, f.is_binary, f.additions) for f in files] == [(uri, False, 1), (f"{ands}.png", True, 0)]


def test_plain_recursive_diff_binary_line_names_its_file() -> None:
    files = parse_unified_diff(b"Binary files old/logo.png and new/logo.png differ\n")
    assert [(f.path, f.is_binary, f.status) for f in files] == [("new/logo.png", True, FileStatus.MODIFIED)]


def test_files_api_patch_with_file_headers_inside_is_refused() -> None:
    with pytest.raises(DiffParseError, match="unexpected text"):
        parse_file_patch("a", "@@ -1 +1 @@\n-a\n+b\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-c\n+d", status="modified")
