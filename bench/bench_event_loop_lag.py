"""Event-loop lag while a hostile 3,000-file pull request is reviewed (goal: p99 < 100 ms).

Run: python bench/bench_event_loop_lag.py [FILES]   (default 3,000)
One real ReviewRun on the in-process GitHub and store fakes, with the real model client and reviewer
talking over HTTP to the fake OpenAI gateway. The PR is hostile: 3,000 files with long, odd names and
secret-looking lines, a 64 K description built to make regexes backtrack, and `/regex/` config
patterns. A probe task sleeps 2 ms at a time and records how late it wakes: that lateness is what the
webhook endpoint, heartbeats and other reviews in the same process would suffer.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.diff.render import render_chunk  # noqa: E402
from app.github.models import PullFile  # noqa: E402
from app.jobs.models import ReviewJob  # noqa: E402
from app.pipeline.run import ReviewRun  # noqa: E402
from app.review.factory import build_model_client, build_openai_client, reviewer_config  # noqa: E402
from app.review.reviewer import ModelReviewer  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402
from tests.fakes.ports import BOT, MemoryGitHub, MemoryStore  # noqa: E402
from tests.fakes.server import serve_in_thread  # noqa: E402
from tests.unit.pipeline.builders import CONFIG, REPO, pull, settings  # noqa: E402

PROBE_S = 0.002
HOSTILE_CONFIG = """
auto_review:
  ignore_title: ["/(a|a)+$/", "/^(\\\\w+\\\\s?)+$/"]
  ignore_authors: ["/(x+x+)+y/"]
paths:
  exclude: ["**/*.min.js", "a*a*a*a*a*a*a*a*b"]
"""


def hostile_files(n: int) -> list[PullFile]:
    files = []
    for i in range(n):
        name = f"src/{'a' * 40}/{'.-' * 30}{i}/{'x' * 60}_{i}.py"
        lines = [f"+token_{k} = 'sk-{'a' * 30}{i}{k}'  # TODO auth{'auth' * 20}" for k in range(6)]
        lines += [f"+value_{k} = compute({k})  # BUG sk-sk-sk-{'sk-' * 30}" for k in range(6)]
        patch = f"@@ -0,0 +1,{len(lines)} @@\n" + "\n".join(lines)
        files.append(
            PullFile(filename=name, status="added", additions=len(lines), changes=len(lines), patch=patch)
        )
    return files


async def probe(samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(PROBE_S)
        samples.append(time.perf_counter() - start - PROBE_S)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def idle_lag(seconds: float) -> list[float]:
    """The same probe with nothing else running: the machine's own noise, to read the result against."""
    samples: list[float] = []
    stop = asyncio.Event()
    task = asyncio.create_task(probe(samples, stop))
    await asyncio.sleep(seconds)
    stop.set()
    await task
    return samples


def describe(samples: list[float]) -> str:
    ms = [x * 1000 for x in samples]
    return (
        f"p50 {statistics.median(ms):6.1f} ms  p99 {percentile(ms, 0.99):7.1f} ms  max {max(ms):7.1f} ms"
        f"  ({len(ms):,} probes)"
    )


async def main(n: int) -> None:
    baseline = await idle_lag(3.0)
    model = FakeOpenAI()
    with serve_in_thread(model.app) as model_url:
        s = settings(
            OPENAI_BASE_URL=f"{model_url}/v1", MINI_MODEL_BACKOFF_BASE=0.01, MINI_MAX_CHUNKS_PER_PR=200
        )
        reviewer = ModelReviewer(
            build_model_client(s, build_openai_client(s)), reviewer_config(s), render=render_chunk
        )
        github = MemoryGitHub()
        title = "a" * 200 + "!"
        body = ("auth" * 4_000 + "sk-" * 5_000 + "a." * 8_000 + "[x](https://attacker.example/?q=" * 300)[
            :65_536
        ]
        github.add_pull(pull().model_copy(update={"title": title, "body": body}), hostile_files(n))
        github.set_file(CONFIG, "main", HOSTILE_CONFIG)
        job = ReviewJob.model_validate(
            {"repo": REPO, "number": 7, "head_sha": pull().head_sha, "trigger": "command:review"}
        )
        run = ReviewRun(
            job,
            api=github,
            store=MemoryStore(),
            reviewer=reviewer,
            settings=s,
            final_attempt=True,
            bot_login=BOT,
        )
        samples: list[float] = []
        stop = asyncio.Event()
        prober = asyncio.create_task(probe(samples, stop))
        started = time.perf_counter()
        status = await run.execute()
        elapsed = time.perf_counter() - started
        stop.set()
        await prober
    stored = run.store.runs[run.run_id]  # type: ignore[attr-defined]
    print(
        f"hostile PR: {n:,} files, status {status.value}, {elapsed:.1f} s, {len(model.requests)} model calls"
    )
    print(f"stage timings (s): {stored.timings}")
    print(f"event-loop lag, idle baseline : {describe(baseline)}")
    print(f"event-loop lag, during review: {describe(samples)}   (goal: p99 < 100 ms)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3_000))
