"""Unit tests of the diff parser on small hand-made inputs."""

from __future__ import annotations

import pytest

from app.diff.model import FileStatus, LineKind, Side
from app.diff.parse import (
    DiffParseError,
    PatchAbsence,
    parse_file_patch,
    parse_unified_diff,
    patch_absence,
    unquote_git_path,
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
    with pytest.raises(DiffParseError):
        unquote_git_path('"unterminated')


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
