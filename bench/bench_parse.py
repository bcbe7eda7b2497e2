"""Time diff parsing (unidiff behind app/diff/parse.py) beside the hand parser it replaced.

Run: python bench/bench_parse.py
Baseline: the hand-written parser (removed; last in commit c687e3b) measured on this machine on
2026-11-30 under the same load, best of 5: files-API 3,000 files / 20,000 lines 185-205 ms,
githubkit 1,597-file diff 265-285 ms, httpx 9,800-line diff 39-46 ms. unidiff is ~3x slower; the
whole diff stage (bench_diff.py) still fits its budget on an idle machine.
The corpus rows appear when ../shared/corpus is present.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_diff import synthetic_pr  # noqa: E402

from app.diff.parse import parse_file_patch, parse_unified_diff  # noqa: E402

DIFFS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "diffs"
BASELINE_MS = {
    "files-API 3000 files / 20k lines": 185.0,
    "githubkit 1597-file diff": 265.0,
    "httpx 9800-line diff": 39.0,
}


def best_ms(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    entries = synthetic_pr(3000, 20_000)

    def files_api() -> None:
        for e in entries:
            parse_file_patch(
                e["filename"],
                e.get("patch"),
                status=e["status"],
                old_path=e.get("previous_filename"),
                additions=e["additions"],
                deletions=e["deletions"],
            )

    cases: dict[str, Callable[[], object]] = {"files-API 3000 files / 20k lines": files_api}
    for label, name in (
        ("githubkit 1597-file diff", "githubkit-0e823b7a-1597-files-lint.diff"),
        ("httpx 9800-line diff", "httpx-db9072f9-large-9800-lines.diff"),
    ):
        if (DIFFS / name).is_file():
            data = (DIFFS / name).read_bytes()
            cases[label] = lambda data=data: parse_unified_diff(data)  # type: ignore[misc]
    print(f"{'case':<34} {'unidiff':>10} {'hand (baseline)':>16}")
    for label, fn in cases.items():
        print(f"{label:<34} {best_ms(fn):8.1f} ms {BASELINE_MS[label]:13.1f} ms")


if __name__ == "__main__":
    main()
