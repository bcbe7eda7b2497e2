"""Glob matching: pathspec on RE2 (app/diff/globs.py) beside the same patterns on Python's `re`.

Run: python bench/bench_globs.py
Baseline: pathspec's "simple" backend (Python `re`), which like the removed hand-written matcher
turns `*` into `[^/]*` and backtracks; the hand matcher took over 1 s for a 60-letter name against
`*a*a*a*a*a*a*b` (issue 8). The `re` column stops growing the name once a match passes 2 s.
Also: the built-in generated-file globs over 3,000 paths (throughput of ordinary matching).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pathspec import GitIgnoreSpec  # noqa: E402

from app.diff.filters import GENERATED_GLOBS  # noqa: E402
from app.diff.globs import GlobSet  # noqa: E402

PATHOLOGICAL = "*a*a*a*a*a*a*b"


def timed(fn: object, *args: object) -> float:
    start = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000


def main() -> None:
    ours = GlobSet([PATHOLOGICAL])
    backtracking = GitIgnoreSpec.from_lines([PATHOLOGICAL], backend="simple")
    print(f"{PATHOLOGICAL!r} against a name of n letters 'a' (no match)")
    print(f"{'n':>6} {'RE2 (ours)':>12} {'re (baseline)':>15}")
    slow = False
    for n in (16, 20, 24, 28, 32, 60, 1_000, 100_000):
        name = "a" * n
        re2_ms = timed(ours.matches, name)
        base = "skipped" if slow else f"{timed(backtracking.match_file, name):10.1f} ms"
        slow = slow or (base != "skipped" and float(base.split()[0]) > 2000)
        print(f"{n:>6} {re2_ms:9.3f} ms {base:>15}")
    exts = ("py", "js", "lock", "pb.go", "min.js")
    paths = [f"pkg{i % 37}/sub{i % 11}/file{i}.{exts[i % 5]}" for i in range(3000)]
    gen_re2 = GlobSet(GENERATED_GLOBS)
    gen_re = GitIgnoreSpec.from_lines(list(GENERATED_GLOBS), backend="simple")
    t_re2 = timed(lambda: [gen_re2.matches(p) for p in paths])
    t_re = timed(lambda: [gen_re.match_file(p) for p in paths])
    print(f"{len(GENERATED_GLOBS)} generated-file globs x 3,000 paths: RE2 {t_re2:.1f} ms, re {t_re:.1f} ms")


if __name__ == "__main__":
    main()
