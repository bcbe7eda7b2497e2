"""Fuzz every parser and the renderer with a large budget; print executions, time and findings.

Run: python bench/fuzz.py [EXAMPLES_PER_TARGET]   (default 5,000; the test suite runs ~120)
Each target is the one in tests/fuzz/targets.py. A finding is printed with hypothesis's shrunk
input; the exit status is 1 when there is any. The slowest single execution of each target is
printed too: the budget is where super-linear behaviour shows up.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.fuzz import targets as t  # noqa: E402

TARGETS: dict[str, tuple[Callable[..., None], tuple[st.SearchStrategy[Any], ...]]] = {
    "markdown renderer": (t.check_markdown, (t.markdown_text, t.markdown_text)),
    "command parsing": (t.check_commands, (t.command_text,)),
    "repo config loader": (
        t.check_config,
        (st.none() | t.config_text, st.none() | t.config_text, t.markdown_text, st.text(max_size=30)),
    ),
    "files-API patch parsing": (
        t.check_patch,
        (t.patch_text, st.sampled_from(t.STATUSES), st.integers(0, 5), st.integers(0, 5)),
    ),
    "unified diff parsing": (
        t.check_unified,
        (t.patch_text.map(lambda s: s.encode("utf-8", "surrogateescape")),),
    ),
    "webhook intents": (lambda case: t.check_decide(*case), (t.webhook_payloads(),)),
}


def run(name: str, check: Callable[..., None], strategies: tuple[Any, ...], examples: int) -> dict[str, Any]:
    stats = {"runs": 0, "slowest": 0.0}

    def timed(args: tuple[Any, ...]) -> None:
        stats["runs"] += 1
        start = time.perf_counter()
        try:
            check(*args)
        finally:
            stats["slowest"] = max(stats["slowest"], time.perf_counter() - start)

    fuzz = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate, Phase.shrink],
    )(given(st.tuples(*strategies))(timed))
    started = time.perf_counter()
    finding = ""
    try:
        fuzz()
    except Exception:  # noqa: BLE001 - a finding, reported below
        finding = traceback.format_exc(limit=-3)
    return {"name": name, "elapsed": time.perf_counter() - started, "finding": finding, **stats}


def main() -> int:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
    print(f"{'target':<26} {'executions':>10} {'seconds':>8} {'slowest ms':>10}  findings")
    failed = 0
    for name, (check, strategies) in TARGETS.items():
        result = run(name, check, strategies, examples)
        verdict = "none" if not result["finding"] else "FOUND (below)"
        slowest_ms = result["slowest"] * 1000
        row = f"{name:<26} {result['runs']:>10,} {result['elapsed']:>8.1f} {slowest_ms:>10.1f}  {verdict}"
        print(row, flush=True)
        if result["finding"]:
            failed += 1
            print(result["finding"])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
