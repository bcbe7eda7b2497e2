"""Benchmark the diff stage: parse GitHub files-API patches, then filter, chunk, render and count tokens.

Run: python bench/bench_diff.py
Target: a 3,000-file / 20,000-changed-line pull request in under 1 s and 200 MB.
The PR is synthetic but deterministic (fixed seed); the githubkit 1,597-file corpus diff is
measured too when shared/corpus is present.
"""

from __future__ import annotations

import gc
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.diff.filters import FilterRules  # noqa: E402
from app.diff.model import FileDiff  # noqa: E402
from app.diff.parse import parse_file_patch, parse_unified_diff  # noqa: E402
from app.diff.plan import ReviewPlan, plan_review  # noqa: E402

CORPUS_DIFF = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "corpus"
    / "diffs"
    / "githubkit-0e823b7a-1597-files-lint.diff"
)

_WORDS = [
    "self",
    "value",
    "items",
    "total",
    "result",
    "config",
    "request",
    "response",
    "user",
    "client",
    "token",
    "error",
    "data",
    "index",
]
_DIRS = [
    "app/core",
    "app/api",
    "app/models",
    "src/lib",
    "pkg/server",
    "web/src/components",
    "tests/unit",
    "docs",
]
_EXTS = ["py", "py", "py", "go", "ts", "tsx", "md", "yml"]


def _code_line(rng: random.Random) -> str:
    indent = " " * (4 * rng.randint(0, 3))
    a, b, c = rng.choice(_WORDS), rng.choice(_WORDS), rng.choice(_WORDS)
    shape = rng.randint(0, 4)
    if shape == 0:
        return f"{indent}{a}_{b} = {c}.get({rng.randint(0, 999)!r}, None)"
    if shape == 1:
        return f"{indent}if {a}.{b} is not None and len({c}) > {rng.randint(1, 99)}:"
    if shape == 2:
        return f'{indent}raise ValueError(f"bad {a} {{{b}!r}} for {c}")'
    if shape == 3:
        return f"{indent}return {a}({b}, {c}=True)"
    return f"{indent}# {a} {b} {c} {rng.randint(0, 10**6)}"


def _patch(rng: random.Random, changed: int, status: str) -> str:
    """Build a hunks-only patch with `changed` +/- lines spread over hunks with 3 lines of context."""
    out: list[str] = []
    old_no = new_no = rng.randint(1, 50)
    left = changed
    while left > 0:
        size = min(left, rng.randint(1, 40))
        left -= size
        adds = size if status == "added" else rng.randint(size // 3, size)
        dels = size - adds
        ctx = 0 if status == "added" else 3
        body = [" " + _code_line(rng) for _ in range(ctx)]
        body += ["-" + _code_line(rng) for _ in range(dels)]
        body += ["+" + _code_line(rng) for _ in range(adds)]
        body += [" " + _code_line(rng) for _ in range(ctx)]
        old_len, new_len = 2 * ctx + dels, 2 * ctx + adds
        start_old = 0 if status == "added" else old_no
        out.append(f"@@ -{start_old},{old_len} +{new_no},{new_len} @@ def f_{rng.randint(0, 99)}():")
        out.extend(body)
        gap = rng.randint(5, 60)
        old_no += old_len + gap
        new_no += new_len + gap
    return "\n".join(out)


def synthetic_pr(n_files: int, n_lines: int, seed: int = 7) -> list[dict[str, Any]]:
    """Return files-API entries: mostly small edits, a few big files, lockfiles, binaries, renames.

    The changed lines add up to exactly `n_lines`.
    """
    rng = random.Random(seed)
    kinds = [
        rng.choices(["lock", "binary", "rename", "added", "modified"], [2, 2, 2, 14, 80])[0]
        for _ in range(n_files)
    ]
    text = [i for i, kind in enumerate(kinds) if kind in ("lock", "added", "modified")]
    # A skewed split of the changed lines: a few files carry much of the PR, as in real ones.
    weights = [rng.paretovariate(1.3) for _ in text]
    scale = n_lines / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    counts[counts.index(max(counts))] += n_lines - sum(counts)
    changed_of = dict(zip(text, counts, strict=True))
    entries: list[dict[str, Any]] = []
    for index, kind in enumerate(kinds):
        path = f"{rng.choice(_DIRS)}/m{index}.{rng.choice(_EXTS)}"
        if kind == "binary":
            entries.append(
                {"filename": f"assets/img{index}.png", "status": "added", "additions": 0, "deletions": 0}
            )
            continue
        if kind == "rename":
            entries.append({"filename": path, "status": "renamed", "previous_filename": "old/" + path})
            entries[-1].update(additions=0, deletions=0)
            continue
        if kind == "lock":
            path, kind = f"pkg{index}/package-lock.json", "modified"
        patch = _patch(rng, changed_of[index], kind)
        lines = patch.split("\n")
        entries.append(
            {
                "filename": path,
                "status": kind,
                "patch": patch,
                "additions": sum(1 for ln in lines if ln.startswith("+")),
                "deletions": sum(1 for ln in lines if ln.startswith("-")),
            }
        )
    return entries


def run_pipeline(entries: list[dict[str, Any]]) -> tuple[list[FileDiff], ReviewPlan]:
    files = [
        parse_file_patch(
            e["filename"],
            e.get("patch"),
            status=e["status"],
            old_path=e.get("previous_filename"),
            additions=e["additions"],
            deletions=e["deletions"],
        )
        for e in entries
    ]
    return files, plan_review(files, FilterRules())


def _timed(fn: Any, *args: Any) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def _peak_mb(fn: Any, *args: Any) -> float:
    gc.collect()
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _report(label: str, entries: list[dict[str, Any]]) -> float:
    times = []
    plan: ReviewPlan | None = None
    for _ in range(3):
        elapsed, (_, plan) = _timed(run_pipeline, entries)
        times.append(elapsed)
    assert plan is not None
    best = min(times)
    changed = sum(e["additions"] + e["deletions"] for e in entries)
    print(
        f"{label:<28} files={len(entries):>5} changed={changed:>6} chunks={len(plan.chunks):>5} "
        f"skipped={len(plan.skipped):>4} tokens={plan.tokens_planned:>8} "
        f"time={best * 1000:7.1f} ms (best of 3) peak_alloc={_peak_mb(run_pipeline, entries):6.1f} MB"
    )
    return best


def main() -> None:
    print("diff stage benchmark (parse_file_patch for every file + plan_review)")
    entries = synthetic_pr(3000, 20_000)
    best = _report("target PR", entries)
    print("size sweep (lines scale with files):")
    for n_files in (750, 1500, 3000):
        _report(f"  {n_files} files", synthetic_pr(n_files, n_files * 20_000 // 3000))
    if CORPUS_DIFF.is_file():
        data = CORPUS_DIFF.read_bytes()

        def whole(raw: bytes) -> ReviewPlan:
            return plan_review(parse_unified_diff(raw), FilterRules())

        elapsed, plan = _timed(whole, data)
        print(
            f"corpus githubkit 1597 files: parse_unified_diff+plan_review {elapsed * 1000:.1f} ms, "
            f"chunks={len(plan.chunks)} lines_total={plan.lines_total} lines_sent={plan.lines_sent} "
            f"peak_alloc={_peak_mb(whole, data):.1f} MB"
        )
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS: {maxrss_mb:.1f} MB")
    print(f"target (<1000 ms, <200 MB): {'MET' if best < 1.0 and maxrss_mb < 200 else 'NOT MET'}")


if __name__ == "__main__":
    main()
