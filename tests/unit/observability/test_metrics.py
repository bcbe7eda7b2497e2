"""Metric recording: label values come from fixed sets, whatever a request says."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from app.observability.metrics import (
    record_github_call,
    record_webhook,
    timed_model_call,
    webhook_outcome,
)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_outcomes_follow_the_receiver_contract() -> None:
    assert [webhook_outcome(s) for s in (202, 200, 400, 401, 413, 503, 404)] == [
        "accepted",
        "ignored",
        "bad_payload",
        "bad_signature",
        "too_large",
        "error",
        "http_4xx",
    ]


def test_an_invented_event_name_does_not_mint_a_series() -> None:
    before = value("mini_review_webhooks_total", event="other", outcome="bad_signature")
    record_webhook("x" * 40, 401)
    assert value("mini_review_webhooks_total", event="other", outcome="bad_signature") == before + 1
    assert (
        REGISTRY.get_sample_value(
            "mini_review_webhooks_total", {"event": "x" * 40, "outcome": "bad_signature"}
        )
        is None
    )


def test_github_calls_remember_the_rate_limit() -> None:
    before = value("mini_review_github_api_calls_total", method="GET", status="200")
    record_github_call("get", 200, {"x-ratelimit-remaining": "4321", "x-ratelimit-resource": "core"})
    record_github_call("get", 200, {"x-ratelimit-remaining": "not a number"})
    assert value("mini_review_github_api_calls_total", method="GET", status="200") == before + 2
    assert value("mini_review_github_rate_limit_remaining", resource="core") == 4321


def test_model_calls_are_timed_by_outcome() -> None:
    class Throttled(Exception):
        status_code = 429

    before_ok = value("mini_review_model_calls_total", model="m-test", outcome="ok")
    with timed_model_call("m-test"):
        pass
    with pytest.raises(Throttled), timed_model_call("m-test"):
        raise Throttled
    assert value("mini_review_model_calls_total", model="m-test", outcome="ok") == before_ok + 1
    assert value("mini_review_model_calls_total", model="m-test", outcome="http_429") >= 1
    assert value("mini_review_model_latency_seconds_count", model="m-test") >= 2
