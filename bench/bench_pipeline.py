"""Benchmark the review pipeline around the model: gather, decide and publish on in-process port fakes.

Run: python bench/bench_pipeline.py
Target: the pipeline's own work (everything but the model call) on a 400-file PR with 800 findings
stays under 2 s, so a review's time and cost are the model's. The scripted reviewer answers at once,
so the "model" stage measures the secret scan and the bookkeeping around the calls.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.diff.model import Chunk  # noqa: E402
from app.pipeline.run import ReviewRun  # noqa: E402
from app.review.findings import Severity  # noqa: E402
from tests.fakes.ports import BOT, Answer, MemoryGitHub, MemoryStore, ScriptedReviewer  # noqa: E402
from tests.unit.pipeline.builders import added_file, finding, job, pull, settings, source  # noqa: E402

FILES = 400
LINES = 60
FINDINGS_PER_FILE = 2
TARGET_S = 2.0


def _script(chunk: Chunk) -> Answer:
    severities = [Severity.MAJOR, Severity.NIT]
    return [
        finding(chunk.path, 10 * (i + 1), severity=severities[i % 2], title=f"Issue {i}")
        for i in range(FINDINGS_PER_FILE)
    ]


async def one_run(files: int = FILES) -> tuple[float, dict[str, float]]:
    """Review one synthetic PR of `files` files; return the wall time and the run's stage timings."""
    github = MemoryGitHub()
    github.add_pull(pull(), [added_file(f"src/m{n:03}.py", source(LINES)) for n in range(files)])
    store = MemoryStore()
    run = ReviewRun(
        job(),
        api=github,
        store=store,
        reviewer=ScriptedReviewer(script=_script),
        settings=settings(),
        final_attempt=True,
        bot_login=BOT,
    )
    start = time.perf_counter()
    await run.execute()
    elapsed = time.perf_counter() - start
    return elapsed, store.only_run().timings


def main() -> None:
    results = [asyncio.run(one_run()) for _ in range(5)]
    total = statistics.median(r[0] for r in results)
    stages = results[len(results) // 2][1]
    print(
        f"pipeline on a {FILES}-file PR, {FILES * FINDINGS_PER_FILE} findings (median of {len(results)} runs)"
    )
    for name, seconds in stages.items():
        print(f"  {name:<12} {seconds * 1000:9.1f} ms")
    verdict = "ok" if total < TARGET_S else "OVER TARGET"
    print(f"  {'wall':<12} {total * 1000:9.1f} ms   target < {TARGET_S * 1000:.0f} ms   {verdict}")


if __name__ == "__main__":
    main()
