"""Webhook-to-review time against the model-bound ideal, and fairness between concurrent reviews.

Run: python bench/bench_latency.py

The real app runs against the fake GitHub and a fake model that answers after a fixed latency
(2 s), all over HTTP on 127.0.0.1. A 40-file PR (each file with one flagged line) is delivered;
the time until its review is posted is compared with the ideal `ceil(calls / concurrency) x latency`
(concurrency 8). Two configurations side by side:
- before: one model call per file and a fixed 1 s gap before every GitHub write;
- now: small files packed into shared calls and writes paced by GitHub's budget (bursts allowed).
Fairness: a 200-file PR (one call per file) starts first, a 2-file PR right after it; the small
PR's review time is printed against its own ideal (it must not wait for the big one's 200 calls).
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.harness import Stack, running_stack, wait_for  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402

OWNER, NAME, INSTALLATION = "bench", "latency", 7
LATENCY = 2.0
CONCURRENCY = 8


def files(n: int, prefix: str) -> list[dict[str, Any]]:
    patch = "@@ -1,2 +1,3 @@\n def f():\n+    return 1  # BUG: off by one\n     pass"
    return [{"filename": f"{prefix}/mod_{i:03d}.py", "status": "modified", "patch": patch} for i in range(n)]


def event(number: int, head: str) -> dict[str, Any]:
    user = {"login": "octocat", "type": "User"}
    return {
        "action": "opened",
        "number": number,
        "pull_request": {
            "number": number,
            "title": f"PR {number}",
            "head": {"sha": head, "ref": f"feature-{number}"},
            "base": {"sha": "b" * 40, "ref": "main"},
            "user": user,
        },
        "repository": {
            "name": NAME,
            "owner": {"login": OWNER, "type": "User"},
            "full_name": f"{OWNER}/{NAME}",
        },
        "installation": {"id": INSTALLATION},
        "sender": user,
    }


def open_pr(stack: Stack, number: int, changed: list[dict[str, Any]]) -> str:
    head = f"{number:040x}"
    stack.github.add_pull(OWNER, NAME, number, head_sha=head, base_sha="b" * 40, files=changed)
    return head


def review_time(stack: Stack, number: int, started: float) -> float:
    wait_for(lambda: stack.github.reviews(OWNER, NAME, number), timeout=600, what=f"review of #{number}")
    return time.monotonic() - started


def one_pr(settings: dict[str, Any]) -> tuple[float, int]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp), model=FakeOpenAI(latency=LATENCY), **settings) as stack,
    ):
        stack.github.add_repo(OWNER, NAME, INSTALLATION)
        head = open_pr(stack, 1, files(40, "src"))
        started = time.monotonic()
        assert stack.deliver("pull_request", event(1, head)).status_code == 202
        elapsed = review_time(stack, 1, started)
        return elapsed, len(stack.model.requests)


def fairness(settings: dict[str, Any]) -> tuple[float, float]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_stack(Path(tmp), model=FakeOpenAI(latency=LATENCY), **settings) as stack,
    ):
        stack.github.add_repo(OWNER, NAME, INSTALLATION)
        big, small = open_pr(stack, 1, files(200, "big")), open_pr(stack, 2, files(2, "small"))
        started = time.monotonic()
        stack.deliver("pull_request", event(1, big))
        time.sleep(0.5)  # the big review is under way
        small_started = time.monotonic()
        stack.deliver("pull_request", event(2, small))
        small_time = review_time(stack, 2, small_started)
        big_time = review_time(stack, 1, started)
        return small_time, big_time


def main() -> int:
    common = {
        "MINI_MODEL_CONCURRENCY": CONCURRENCY,
        "MINI_WORKER_CONCURRENCY": 4,
        "MINI_DEBOUNCE_SECONDS": 0,
        "MINI_MAX_CHUNKS_PER_PR": 400,
    }
    configs = {
        "before (1 call/file, 1 s write gap)": {
            **common,
            "MINI_PACK_MAX_FILES": 1,
            "MINI_GITHUB_WRITE_INTERVAL": 1.0,
        },
        "now (packed, budgeted writes)": {**common},
    }
    print(f"40-file PR, model latency {LATENCY:.0f} s, concurrency {CONCURRENCY}")
    print(f"{'':38}{'calls':>6}{'ideal s':>9}{'actual s':>10}{'ratio':>7}  goal <= 1.10")
    for label, settings in configs.items():
        elapsed, calls = one_pr(settings)
        ideal = math.ceil(calls / CONCURRENCY) * LATENCY
        print(f"{label:38}{calls:>6}{ideal:>9.1f}{elapsed:>10.2f}{elapsed / ideal:>7.2f}")
    small, big = fairness({**common, "MINI_PACK_MAX_FILES": 1})
    print(
        f"fairness: 2-file PR started 0.5 s after a 200-call PR: reviewed in {small:.2f} s "
        f"(ideal alone {LATENCY:.1f} s; FIFO would be ~{math.ceil(200 / CONCURRENCY) * LATENCY:.0f} s); "
        f"the 200-call PR took {big:.2f} s (ideal {math.ceil(200 / CONCURRENCY) * LATENCY:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
