"""Time the offline token estimate on 20,000 typical diff lines (was a wall-clock test; timings live here).

Run: python bench/bench_tokens.py
Baseline: the old test's limit (250 ms) and the docstring's figure (~50 ms) on an idle machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.diff.tokens import estimate_tokens  # noqa: E402

LINE = '11 +     self.value = compute_total(items, tax_rate=0.2)  # "ok" \n'
LIMIT_MS = 250.0
DOCUMENTED_MS = 50.0


def main() -> None:
    text = LINE * 20_000
    times = []
    for _ in range(5):
        start = time.perf_counter()
        tokens = estimate_tokens(text)
        times.append((time.perf_counter() - start) * 1000)
    best, worst = min(times), max(times)
    print(f"estimate_tokens, 20,000 lines ({len(text):,} chars) -> {tokens:,} tokens")
    print(f"  best {best:6.1f} ms  worst {worst:6.1f} ms")
    print(f"  baseline ~{DOCUMENTED_MS:.0f} ms (idle machine), limit {LIMIT_MS:.0f} ms")
    print(f"  {'within' if best < LIMIT_MS else 'OVER'} the limit")


if __name__ == "__main__":
    main()
