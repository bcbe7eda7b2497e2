"""bench/bench_pipeline.py still drives a real ReviewRun (a bench nobody runs rots silently)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "bench_pipeline.py"


async def test_the_pipeline_bench_runs_a_small_pr() -> None:
    spec = importlib.util.spec_from_file_location("bench_pipeline", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    _, timings = await bench.one_run(files=3)
    assert {"fetch_files", "plan", "model", "place", "publish", "total"} <= set(timings)
