"""Prometheus series, one place: names, labels and the small calls the adapters and pipeline make.

Counters and histograms are per process (prometheus-client's default registry): web processes serve
them on GET /metrics, a `mini-review worker` on MINI_METRICS_PORT; sum over processes in PromQL.
Queue depth and age are read from the shared database at scrape time, so every process reports the
same cluster-wide value (use max(), not sum()). Labels take values from small fixed sets only: an
attacker-chosen header must not mint new series.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram

WEBHOOK_EVENTS = frozenset(
    {
        "pull_request",
        "issue_comment",
        "pull_request_review_comment",
        "check_run",
        "check_suite",
        "installation",
        "installation_repositories",
        "ping",
    }
)
DURATION_BUCKETS = (1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200)
LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120)

WEBHOOKS = Counter(
    "mini_review_webhooks_total", "Webhook deliveries received, by event and outcome.", ["event", "outcome"]
)
QUEUE_DEPTH = Gauge("mini_review_queue_depth", "Jobs waiting to run (whole deployment), by kind.", ["kind"])
QUEUE_OLDEST_AGE = Gauge(
    "mini_review_queue_oldest_age_seconds", "Age of the oldest waiting job (whole deployment); 0 when none."
)
RUNS = Counter(
    "mini_review_runs_total", "Review runs finished, by status and trigger.", ["status", "trigger"]
)
RUN_DURATION = Histogram(
    "mini_review_run_duration_seconds", "Wall time of a review run.", ["status"], buckets=DURATION_BUCKETS
)
MODEL_CALLS = Counter(
    "mini_review_model_calls_total", "Model API calls, by model and outcome.", ["model", "outcome"]
)
MODEL_LATENCY = Histogram(
    "mini_review_model_latency_seconds", "Latency of one model API call.", ["model"], buckets=LATENCY_BUCKETS
)
MODEL_TOKENS = Counter(
    "mini_review_model_tokens_total",
    "Tokens billed, by model and kind (prompt, cached, completion).",
    ["model", "kind"],
)
COST = Counter("mini_review_cost_usd_total", "Model cost of finished runs, in US dollars.")
GITHUB_CALLS = Counter(
    "mini_review_github_api_calls_total", "GitHub API calls, by method and status.", ["method", "status"]
)
GITHUB_RATE_REMAINING = Gauge(
    "mini_review_github_rate_limit_remaining",
    "Last x-ratelimit-remaining GitHub reported, by resource.",
    ["resource"],
)
REVIEW_FALLBACKS = Counter(
    "mini_review_review_422_fallbacks_total",
    "Reviews GitHub refused (422) and that were re-posted with comments moved.",
)
COMMENTS = Counter(
    "mini_review_comments_total",
    "Findings by what became of them: posted, summarised, deduplicated.",
    ["disposition"],
)


def webhook_outcome(status: int) -> str:
    """Name what the receiver did from its status code (see the README's webhook contract)."""
    return {
        202: "accepted",
        200: "ignored",
        400: "bad_payload",
        401: "bad_signature",
        413: "too_large",
    }.get(status, "error" if status >= 500 else f"http_{status // 100}xx")


def record_webhook(event: str, status: int) -> None:
    WEBHOOKS.labels(event if event in WEBHOOK_EVENTS else "other", webhook_outcome(status)).inc()


def record_model_call(model: str, outcome: str, seconds: float) -> None:
    MODEL_CALLS.labels(model, outcome).inc()
    MODEL_LATENCY.labels(model).observe(seconds)


def record_model_tokens(model: str, *, prompt: int, cached: int, completion: int) -> None:
    MODEL_TOKENS.labels(model, "prompt").inc(prompt)
    MODEL_TOKENS.labels(model, "cached").inc(cached)
    MODEL_TOKENS.labels(model, "completion").inc(completion)


def record_github_call(method: str, status: int | str, headers: object = None) -> None:
    """Count one GitHub answer; remember the rate limit it reported."""
    GITHUB_CALLS.labels(method.upper(), str(status)).inc()
    get = getattr(headers, "get", None)
    if get is None:
        return
    remaining = get("x-ratelimit-remaining")
    if remaining is not None and str(remaining).isdigit():
        GITHUB_RATE_REMAINING.labels(str(get("x-ratelimit-resource") or "core")[:32]).set(int(remaining))


def record_run(trigger: str, status: str, seconds: float, cost_usd: float) -> None:
    # Triggers are ours ("pull_request.opened", "command", "check_run.rerequested"...), never free text.
    RUNS.labels(status, trigger[:64]).inc()
    RUN_DURATION.labels(status).observe(max(seconds, 0.0))
    COST.inc(max(cost_usd, 0.0))


def record_comments(*, posted: int, summarised: int, deduplicated: int) -> None:
    COMMENTS.labels("posted").inc(posted)
    COMMENTS.labels("summarised").inc(summarised)
    COMMENTS.labels("deduplicated").inc(deduplicated)


def record_review_fallback() -> None:
    REVIEW_FALLBACKS.inc()


def _outcome_of(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return f"http_{status}"
    if "timeout" in type(exc).__name__.lower():
        return "timeout"
    return "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"


@contextmanager
def timed_model_call(model: str) -> Iterator[None]:
    """Count one model API call and its latency, by how it ended (ok, http_429, timeout...)."""
    started = time.monotonic()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    except BaseException as exc:
        outcome = _outcome_of(exc)
        raise
    finally:
        record_model_call(model, outcome, time.monotonic() - started)
