"""unidiff agrees with the hand parser it replaced, on every diff of ../shared/corpus (skips without it).

The hand parser's output is recorded as digests in tests/fixtures/hand_parser (see its README).
Two comparisons: raw unidiff (decoding leniently first) on files, added and removed lines; and our
adapter on everything the domain model holds (statuses, old paths, binary flags, every line).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from unidiff.patch import PatchSet

from app.diff.gitpaths import unquote_git_path
from app.diff.model import FileDiff
from app.diff.parse import DiffParseError, parse_unified_diff
from tests.factories import files_api_entries, unified_diff

DIFFS = (Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "diffs").resolve()
RECORD: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "hand_parser" / "corpus_digests.json").read_text()
)


def digest(rows: object) -> str:
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def corpus_diff(name: str) -> bytes:
    path = DIFFS / name
    if not path.is_file():
        pytest.skip("shared/corpus not present")
    return path.read_bytes()


def raw_unidiff_counts(data: bytes) -> list[list[object]]:
    """[path, added, removed] per file from unidiff alone, fed lines split at "\\n" only."""
    text = data.decode("utf-8", errors="replace")
    lines = [line + "\n" for line in text.split("\n")]
    if lines[-1] == "\n":
        lines.pop()
    rows: list[list[object]] = []
    for f in PatchSet(lines):
        # Known shortfall handled by the adapter: unidiff hands git's C-quoted names back quoted.
        rows.append([unquote_git_path(f.path), f.added, f.removed])
    return rows


def adapter_rows(files: list[FileDiff]) -> tuple[list[Any], list[Any]]:
    entries = [[f.path, f.status.value, f.old_path, f.is_binary, f.additions, f.deletions] for f in files]
    lines = [
        [
            f.path,
            [
                [h.old_start, h.old_len, h.new_start, h.new_len, h.section]
                + [[[ln.kind.value, ln.old_no, ln.new_no, ln.text] for ln in h.lines]]
                for h in f.hunks
            ],
        ]
        for f in files
    ]
    return entries, lines


PARSED = sorted(name for name, rec in RECORD.items() if "error" not in rec)
REFUSED = sorted(name for name, rec in RECORD.items() if "error" in rec)


@pytest.mark.parametrize("name", PARSED)
def test_raw_unidiff_agrees_on_files_and_added_and_removed_lines(name: str) -> None:
    rows = raw_unidiff_counts(corpus_diff(name))
    record = RECORD[name]
    assert len(rows) == record["files"]
    assert sum(int(str(r[1])) for r in rows) == record["additions"]
    assert sum(int(str(r[2])) for r in rows) == record["deletions"]
    assert digest(rows) == record["counts_sha256"]


@pytest.mark.parametrize("name", PARSED)
def test_adapter_reproduces_the_hand_parser_line_for_line(name: str) -> None:
    entries, lines = adapter_rows(parse_unified_diff(corpus_diff(name)))
    assert digest(entries) == RECORD[name]["entries_sha256"]
    assert digest(lines) == RECORD[name]["lines_sha256"]


@pytest.mark.parametrize("name", REFUSED)
def test_combined_diffs_are_refused_where_raw_unidiff_swallows_them(name: str) -> None:
    data = corpus_diff(name)
    assert len(PatchSet(data.decode("utf-8", errors="replace"))) >= 0  # unidiff raises nothing
    with pytest.raises(DiffParseError, match="combined"):
        parse_unified_diff(data)


def test_raw_unidiff_and_the_adapter_agree_on_the_factory_diff() -> None:
    data = unified_diff(files_api_entries(seed=3, count=40))
    ours = [[f.path, f.additions, f.deletions] for f in parse_unified_diff(data)]
    assert raw_unidiff_counts(data) == ours
