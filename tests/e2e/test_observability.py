"""/metrics after a real review, and LOG_FORMAT=json from the real command: ids bound, no secrets."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.harness import OPENAI_KEY, WEBHOOK_SECRET, Stack, running_stack, settings_for, wait_for
from tests.e2e.test_backbone import NAME, NUMBER, OWNER, open_pr
from tests.e2e.test_deploy_compose import deliver, pr_opened
from tests.e2e.test_service_process import CLI, _env
from tests.fakes.github import FakeGitHub
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.server import free_port, serve_in_thread


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def total(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """Sum of a series over every label set that includes `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def test_metrics_show_the_review(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        open_pr(stack)
        before = scrape(stack.url)
        assert deliver(stack.url).status_code == 202
        assert stack.deliver("pull_request", b"{}", signature="sha256=00").status_code == 401
        reviews = wait_for(lambda: stack.github.reviews(OWNER, NAME, NUMBER), what="the review")
        found = re.search(r"/runs/([0-9a-f]{32})", reviews[0]["body"])
        assert found
        # The review is on GitHub a moment before its run record is closed.
        wait_for(lambda: stack.run_json(found.group(1)).get("status") == "posted", what="the run to close")
        after = scrape(stack.url)

    def grew(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert grew("mini_review_webhooks_total", event="pull_request", outcome="accepted") == 1
    assert grew("mini_review_webhooks_total", event="pull_request", outcome="bad_signature") == 1
    assert grew("mini_review_model_calls_total", outcome="ok") >= 1
    assert grew("mini_review_model_latency_seconds_count") >= 1
    assert grew("mini_review_model_tokens_total", kind="prompt") > 0
    assert grew("mini_review_model_tokens_total", kind="completion") > 0
    assert grew("mini_review_github_api_calls_total", status="200") >= 1
    # Counters are per process and other tests' stacks share it: assert growth, not exact counts.
    assert grew("mini_review_runs_total", status="posted", trigger="pull_request.opened") >= 1
    assert grew("mini_review_run_duration_seconds_count", status="posted") >= 1
    assert grew("mini_review_cost_usd_total") > 0
    assert grew("mini_review_comments_total", disposition="posted") >= 1
    assert ("mini_review_review_422_fallbacks_total", frozenset()) in after
    assert ("mini_review_comments_total", frozenset({("disposition", "deduplicated")})) in after
    assert total(after, "mini_review_github_rate_limit_remaining", resource="core") > 0
    assert after[("mini_review_queue_depth", frozenset({("kind", "review")}))] == 0


def test_queue_gauges_read_the_shared_queue(tmp_path: Path) -> None:
    with running_stack(tmp_path, MINI_WORKER="off") as stack:  # a web process: nothing takes the job
        open_pr(stack)
        idle = scrape(stack.url)
        assert deliver(stack.url).status_code == 202
        waiting = scrape(stack.url)
    assert idle[("mini_review_queue_depth", frozenset({("kind", "review")}))] == 0
    assert idle[("mini_review_queue_oldest_age_seconds", frozenset())] == 0
    assert waiting[("mini_review_queue_depth", frozenset({("kind", "review")}))] == 1
    assert waiting[("mini_review_queue_oldest_age_seconds", frozenset())] >= 0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_json_logs_carry_ids_and_no_secrets(tmp_path: Path) -> None:
    github, model = FakeGitHub(), FakeOpenAI()
    with serve_in_thread(github.app) as gh_url, serve_in_thread(model.app) as model_url:
        open_pr(Stack(github=github, model=model, url="", client=httpx.Client()))
        values = settings_for(gh_url, model_url, tmp_path / "svc.db", LOG_FORMAT="json", LOG_LEVEL="DEBUG")
        values["GITHUB_APP_PRIVATE_KEY"] = github.private_key_pem
        port = free_port()
        log_file = tmp_path / "serve.log"
        with log_file.open("wb") as sink:  # a file, not a pipe: DEBUG output would fill a pipe and block
            proc = subprocess.Popen(
                [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=_env(values),
                cwd=tmp_path,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:

            def up() -> bool:
                assert proc.poll() is None, "mini-review serve exited"
                try:
                    return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(up, timeout=30, what="the service")
            response = deliver(url)
            assert response.status_code == 202
            delivery = response.json()["delivery"]
            wait_for(lambda: github.reviews(OWNER, NAME, NUMBER), timeout=30, what="the review")
        finally:
            _stop(proc)
    output = log_file.read_text()

    lines: list[dict[str, Any]] = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    received = [line for line in lines if line.get("delivery_id") == delivery]
    # The receiver's own lines carry the delivery, the repository and the PR together.
    assert any(line.get("repository") == f"{OWNER}/{NAME}" and line.get("pr") == NUMBER for line in received)
    assert any(line.get("run_id") and line.get("repository") == f"{OWNER}/{NAME}" for line in lines)
    key_body = github.private_key_pem.splitlines()[1]
    for secret in (WEBHOOK_SECRET, OPENAI_KEY, key_body, "ghs_"):
        assert secret not in output
    assert pr_opened()["pull_request"]["number"] == NUMBER
