"""Parse every corpus diff and files-API twin and compare with git's own numbers (and our factory twin)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.diff.model import FileStatus
from app.diff.parse import DiffParseError, parse_file_patch, parse_unified_diff
from tests.factories import files_api_entries, unified_diff

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"
DIFFS = CORPUS / "diffs"
INDEX = DIFFS / "INDEX.json"


def _cases() -> list[dict[str, Any]]:
    return json.loads(INDEX.read_text("utf-8")) if INDEX.is_file() else []


def _twins() -> list[str]:
    return [c["files_json"] for c in _cases() if c.get("files_json")]


_GIT_STATUS = {"A": {FileStatus.ADDED}, "D": {FileStatus.REMOVED}, "R": {FileStatus.RENAMED}}
_GIT_STATUS["M"] = {FileStatus.MODIFIED, FileStatus.CHANGED}
_GIT_STATUS["T"] = {FileStatus.ADDED, FileStatus.REMOVED}  # a type change is a delete plus an add


@pytest.fixture(scope="session")
def diffs_dir() -> Path:
    if not INDEX.is_file():
        pytest.skip("shared/corpus not present")
    return DIFFS.resolve()


@pytest.mark.parametrize("case", [c for c in _cases() if c["additions"] is not None], ids=lambda c: c["file"])
def test_whole_diff_counts_match_git_numstat(case: dict[str, Any], diffs_dir: Path) -> None:
    files = parse_unified_diff((diffs_dir / case["file"]).read_bytes())
    by_path: dict[str, list[Any]] = defaultdict(list)
    for f in files:
        by_path[f.path].append(f)
    # git counts a type change (file -> symlink) once; it prints it as a removal plus an addition.
    pair = {FileStatus.ADDED, FileStatus.REMOVED}
    type_changes = sum(1 for entries in by_path.values() if {e.status for e in entries} == pair)
    assert len(files) - type_changes == case["files_changed"]
    assert sum(f.additions for f in files) == case["additions"]
    assert sum(f.deletions for f in files) == case["deletions"]
    assert all(f.additions + f.deletions == sum(h.changed_count() for h in f.hunks) for f in files)


@pytest.mark.parametrize("case", [c for c in _cases() if c.get("git_files")], ids=lambda c: c["file"])
def test_per_file_status_paths_and_counts_match_git(case: dict[str, Any], diffs_dir: Path) -> None:
    files = parse_unified_diff((diffs_dir / case["file"]).read_bytes())
    by_path: dict[str, list[Any]] = defaultdict(list)
    for f in files:
        by_path[f.path].append(f)
    for entry in case["git_files"]:
        ours = by_path[entry["path"]]
        assert ours, entry["path"]
        assert {f.status for f in ours} <= _GIT_STATUS[entry["status"][0]], entry
        assert sum(f.additions for f in ours) == (entry["additions"] or 0)
        assert sum(f.deletions for f in ours) == (entry["deletions"] or 0)
        assert any(f.is_binary for f in ours) == entry["binary"]
        if entry["status"].startswith("R"):
            assert ours[0].old_path == entry["old_path"]
        if entry["status"] == "M" and entry["old_mode"] != entry["new_mode"] and not ours[0].hunks:
            assert ours[0].status is FileStatus.CHANGED


def test_combined_diff_is_rejected_not_swallowed(diffs_dir: Path) -> None:
    data = (diffs_dir / "procrastinate-e8666e09-merge-combined-cc.diff").read_bytes()
    with pytest.raises(DiffParseError, match="combined"):
        parse_unified_diff(data)


def test_quoted_non_ascii_paths_equal_their_raw_utf8_twin(diffs_dir: Path) -> None:
    quoted = parse_unified_diff((diffs_dir / "huey-84be63fd-pr871-non-ascii-path-quoted.diff").read_bytes())
    raw = parse_unified_diff((diffs_dir / "huey-84be63fd-pr871-non-ascii-path-utf8.diff").read_bytes())
    assert [f.path for f in quoted] == [f.path for f in raw]
    assert "异常处理与自愈机制文档.md" in [f.path for f in quoted]
    empty = parse_unified_diff((diffs_dir / "pydantic-ai-4e0478e0-quoted-path-empty-file.diff").read_bytes())
    assert empty[0].path == "finally\uf03a"
    assert empty[0].status is FileStatus.ADDED and not empty[0].hunks


def test_non_utf8_lone_cr_diff_keeps_cr_inside_lines(diffs_dir: Path) -> None:
    files = parse_unified_diff((diffs_dir / "dramatiq-9e2413f1-non-utf8-lone-cr.diff").read_bytes())
    texts = [line.text for f in files for h in f.hunks for line in h.lines]
    assert any("\r" in t for t in texts)  # a bare CR never splits a line
    assert any("\ufffd" in t for t in texts)  # invalid bytes decoded leniently
    assert not any(t.endswith("\r") for t in texts)  # CRLF endings are line endings, not content


def test_big_diff_parses_whole(diffs_dir: Path) -> None:
    # Its speed is measured by bench/bench_diff.py, not asserted here (no wall-clock assertions in tests).
    data = (diffs_dir / "githubkit-0e823b7a-1597-files-lint.diff").read_bytes()
    assert len(parse_unified_diff(data)) == 1597


@pytest.mark.parametrize("twin", _twins())
def test_files_api_twin_counts_match(twin: str, diffs_dir: Path) -> None:
    entries = json.loads((diffs_dir / twin).read_text("utf-8"))
    for entry in entries:
        f = parse_file_patch(
            entry["filename"],
            entry.get("patch"),
            status=entry["status"],
            old_path=entry.get("previous_filename"),
            additions=entry["additions"],
            deletions=entry["deletions"],
        )
        assert (f.additions, f.deletions) == (entry["additions"], entry["deletions"]), entry["filename"]
        assert f.old_path == entry.get("previous_filename")
        assert f.status.value == entry["status"]
        assert not f.patch_missing
        if "patch" not in entry:
            assert not f.hunks


@pytest.mark.parametrize("twin", _twins())
def test_files_api_twin_agrees_with_whole_diff(twin: str, diffs_dir: Path) -> None:
    whole = parse_unified_diff((diffs_dir / twin.replace(".files.json", ".diff")).read_bytes())
    by_path = {f.path: f for f in whole}
    for entry in json.loads((diffs_dir / twin).read_text("utf-8")):
        if "patch" not in entry:
            continue
        f = parse_file_patch(entry["filename"], entry["patch"], status=entry["status"])
        assert [h.lines for h in f.hunks] == [h.lines for h in by_path[entry["filename"]].hunks]


def test_text_detected_binary_asset_is_skipped_as_binary(diffs_dir: Path) -> None:
    from app.diff.filters import FilterRules, SkipReason, skip_reason

    files = parse_unified_diff((diffs_dir / "dramatiq-9e2413f1-non-utf8-lone-cr.diff").read_bytes())
    reasons = {f.path: skip_reason(f, FilterRules()) for f in files}
    assert reasons == {
        "artwork/LICENSE": None,
        "artwork/logo.ai": SkipReason.BINARY,
        "artwork/logo.png": SkipReason.BINARY,
    }


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**20))
def test_factory_files_api_list_agrees_with_its_whole_diff(seed: int) -> None:
    # The same twin check as above on a file list the project builds itself (no corpus needed).
    entries = files_api_entries(seed=seed, count=30)
    whole = {f.path: f for f in parse_unified_diff(unified_diff(entries))}
    assert set(whole) == {e["filename"] for e in entries}
    for entry in entries:
        f = parse_file_patch(
            entry["filename"],
            entry.get("patch"),
            status=entry["status"],
            old_path=entry.get("previous_filename"),
            additions=entry["additions"],
            deletions=entry["deletions"],
        )
        twin = whole[entry["filename"]]
        facts = (f.status, f.old_path, f.is_binary, f.additions, f.deletions)
        assert facts == (twin.status, twin.old_path, twin.is_binary, twin.additions, twin.deletions)
        assert [h.lines for h in f.hunks] == [h.lines for h in twin.hunks]
