"""Benchmark what observability costs per event: a log line (text vs JSON, with bound ids), metric calls,
and one /metrics exposition after many series exist.

Run: python bench/bench_observability.py
Baseline: the text formatter (the default before LOG_FORMAT existed), side by side with JSON.
"""

from __future__ import annotations

import io
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import REGISTRY, generate_latest  # noqa: E402

from app.observability.logs import TEXT_FORMAT, ContextFilter, json_formatter, log_context  # noqa: E402
from app.observability.metrics import (  # noqa: E402
    record_github_call,
    record_model_tokens,
    record_webhook,
    timed_model_call,
)

N = 20_000


def per_call_us(fn: Callable[[], None], n: int = N) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def logger_with(formatter: logging.Formatter) -> logging.Logger:
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(ContextFilter())
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"bench.{id(formatter)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def main() -> None:
    text = logger_with(logging.Formatter(TEXT_FORMAT))
    structured = logger_with(json_formatter())
    delivery = "0f1e2d3c-aaaa-bbbb-cccc-000000000000"
    with log_context(run_id="9" * 32, delivery_id=delivery, repository="octo/repo", pr=42):
        text_us = per_call_us(lambda: text.info("job %s (%s) done in %.2fs", 17, "review", 1.5))
        json_us = per_call_us(lambda: structured.info("job %s (%s) done in %.2fs", 17, "review", 1.5))
    print(f"log line, text (baseline):   {text_us:7.2f} us")
    print(f"log line, json + 4 ids:      {json_us:7.2f} us  ({json_us / text_us:.2f}x)")

    headers = {"x-ratelimit-remaining": "4999", "x-ratelimit-resource": "core"}
    print(f"record_webhook:              {per_call_us(lambda: record_webhook('pull_request', 202)):7.2f} us")
    github_us = per_call_us(lambda: record_github_call("GET", 200, headers))
    print(f"record_github_call:          {github_us:7.2f} us")

    def model_call() -> None:
        with timed_model_call("gpt-5.4-mini"):
            pass
        record_model_tokens("gpt-5.4-mini", prompt=1200, cached=800, completion=300)

    print(f"model call + tokens:         {per_call_us(model_call):7.2f} us")
    for status in range(200, 600, 7):  # many series, as after weeks of traffic
        record_github_call("GET", status)
    scrape_us = per_call_us(lambda: generate_latest(REGISTRY) and None, n=500)
    size = len(generate_latest(REGISTRY))
    print(f"/metrics exposition:         {scrape_us / 1000:7.2f} ms  ({size / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()
