"""ModelClient policy, driven through the real openai SDK against the fake gateway over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import openai
import pytest

from app.errors import ModelError, ModelOutputError, ModelRetryableError
from app.review.findings import Category, Finding, Severity
from app.review.llm import ModelClient, NotAdmitted, RetryPolicy, parse_findings, retry_after_seconds
from app.review.prompts import STABLE_PREFIX, PrContext, build_messages
from app.review.usage import Usage, UsageMeter
from tests.fakes.openai_server import FakeOpenAI, Fault
from tests.fakes.server import serve_in_thread

from .chunk_text import make_chunk, render

API_KEY = "sk-test-" + "k3y" * 12
MODEL = "gpt-5.4-mini"
FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_retry_after=5.0)


class Sleeps:
    """Record the waits the client asks for, without waiting them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI()


@pytest.fixture
def url(fake: FakeOpenAI) -> Iterator[str]:
    with serve_in_thread(fake.app) as base:
        yield base


@pytest.fixture
async def sdk(url: str) -> AsyncIterator[openai.AsyncOpenAI]:
    # max_retries left at the SDK default on purpose: ModelClient must switch it off.
    client = openai.AsyncOpenAI(api_key=API_KEY, base_url=f"{url}/v1")
    yield client
    await client.close()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sdk: openai.AsyncOpenAI, sleeps: Sleeps) -> ModelClient:
    return ModelClient(sdk, retry=FAST, sleep=sleeps, timeout=5.0)


def messages(path: str = "app/a.py") -> list[dict[str, str]]:
    chunk = make_chunk(path, [(" ", "def f():"), ("+", "    x = 1  # BUG"), ("+", "    # TODO tidy")])
    return build_messages(render(chunk), PrContext("Title", "Body", [path]))


async def test_answer_is_parsed_and_the_request_is_strict_json_schema(
    client: ModelClient, fake: FakeOpenAI
) -> None:
    answer = await client.review(messages(), model=MODEL)
    assert [(f.category, f.severity, f.line, f.quote) for f in answer.findings] == [
        (Category.RISK, Severity.MAJOR, 11, "    x = 1  # BUG"),
        (Category.LINT, Severity.NIT, 12, "    # TODO tidy"),
    ]
    assert answer.mode == "json_schema"
    assert not answer.repaired
    (sent,) = fake.requests
    assert sent.model == MODEL
    assert sent.response_format is not None
    assert sent.response_format["type"] == "json_schema"
    assert sent.response_format["json_schema"]["strict"] is True
    assert sent.reasoning_effort == "low"
    assert sent.max_completion_tokens == 4096
    assert sent.system == STABLE_PREFIX
    assert answer.usage.calls == 1
    assert answer.usage.reasoning_tokens == 64
    assert answer.usage.prompt_tokens > 0
    assert answer.usage.completion_tokens > answer.usage.reasoning_tokens


async def test_second_request_reports_the_shared_system_prefix_as_cached(client: ModelClient) -> None:
    first = await client.review(messages("a.py"), model=MODEL)
    second = await client.review(messages("b.py"), model=MODEL)
    assert first.usage.cached_tokens == 0
    assert second.usage.cached_tokens == len(STABLE_PREFIX) // 4


async def test_rate_limit_waits_what_retry_after_says(
    client: ModelClient, fake: FakeOpenAI, sleeps: Sleeps
) -> None:
    fake.script(Fault.rate_limit(retry_after=0.25))
    answer = await client.review(messages(), model=MODEL)
    assert len(answer.findings) == 2
    assert sleeps.waits == [0.25]
    assert [r.status for r in fake.requests] == [429, 200]
    assert answer.usage.calls == 1  # a 429 is not billed


async def test_retry_after_ms_wins_and_long_waits_are_capped(
    sdk: openai.AsyncOpenAI, fake: FakeOpenAI, sleeps: Sleeps
) -> None:
    client = ModelClient(sdk, retry=RetryPolicy(base_delay=0.01, max_retry_after=0.5), sleep=sleeps)
    fake.script(Fault.rate_limit(retry_after=9, retry_after_ms=150), Fault.rate_limit(retry_after=3600))
    await client.review(messages(), model=MODEL)
    assert sleeps.waits == [0.15, 0.5]


async def test_server_errors_back_off_with_jitter_under_the_exponential_ceiling(
    client: ModelClient, fake: FakeOpenAI, sleeps: Sleeps
) -> None:
    fake.script(Fault.server_error(502), Fault.server_error(503))
    answer = await client.review(messages(), model=MODEL)
    assert answer.findings
    assert len(sleeps.waits) == 2
    assert 0 <= sleeps.waits[0] <= 0.01
    assert 0 <= sleeps.waits[1] <= 0.02


async def test_persistent_failure_gives_up_after_max_attempts_with_no_sdk_retries(
    client: ModelClient, fake: FakeOpenAI
) -> None:
    fake.script(Fault.server_error(times=None))
    with pytest.raises(ModelRetryableError) as raised:
        await client.review(messages(), model=MODEL)
    assert len(fake.requests) == FAST.max_attempts
    assert "500" in str(raised.value)
    assert raised.value.retry_after is not None


async def test_timeouts_are_retried(sdk: openai.AsyncOpenAI, fake: FakeOpenAI, sleeps: Sleeps) -> None:
    client = ModelClient(sdk, retry=FAST, sleep=sleeps, timeout=0.2)
    fake.script(Fault.hang(0.8))
    answer = await client.review(messages(), model=MODEL)
    assert answer.findings
    assert len(sleeps.waits) == 1
    assert len(fake.requests) == 2


@pytest.mark.parametrize("fault", [Fault.invalid_json, Fault.truncated, Fault.schema_violation])
async def test_one_unusable_answer_is_repaired_once(
    client: ModelClient, fake: FakeOpenAI, fault: type
) -> None:
    fake.script(fault())
    answer = await client.review(messages(), model=MODEL)
    assert answer.repaired
    assert len(answer.findings) == 2
    assert answer.usage.calls == 2  # the unusable answer was billed too
    first, second = fake.requests
    assert len(second.messages) == len(first.messages) + 1
    assert second.messages[-1]["role"] == "user"
    assert "could not be used" in second.messages[-1]["content"]


async def test_two_unusable_answers_raise_an_output_error(client: ModelClient, fake: FakeOpenAI) -> None:
    fake.script(Fault.truncated(), Fault.invalid_json())
    meter = UsageMeter()
    with pytest.raises(ModelOutputError, match="not valid JSON"):
        await client.review(messages(), model=MODEL, meter=meter)
    assert len(fake.requests) == 2
    assert meter.total.calls == 2  # what failed answers cost is still counted


async def test_gateway_without_json_schema_falls_back_once_per_model() -> None:
    fake = FakeOpenAI(reject_json_schema=True)
    with serve_in_thread(fake.app) as base:
        raw = openai.AsyncOpenAI(api_key=API_KEY, base_url=f"{base}/v1")
        client = ModelClient(raw, retry=FAST)
        first = await client.review(messages(), model=MODEL)
        second = await client.review(messages("b.py"), model=MODEL)
        await raw.close()
    assert first.mode == second.mode == "json_object"
    assert len(first.findings) == len(second.findings) == 2
    assert [(r.status, r.mode) for r in fake.requests] == [
        (400, "json_schema"),
        (200, "json_object"),
        (200, "json_object"),
    ]
    assert client.uses_json_object(MODEL)
    assert not client.uses_json_object("another-model")
    system = fake.requests[1].system
    assert system.startswith(STABLE_PREFIX)
    assert '"chunk_findings"' not in system  # the schema is embedded as JSON, its name in the prose
    assert "```json" in system


async def test_other_bad_requests_are_permanent(client: ModelClient, fake: FakeOpenAI) -> None:
    fake.script(Fault.bad_request("The model `nope` does not exist"))
    with pytest.raises(ModelError) as raised:
        await client.review(messages(), model=MODEL)
    assert not isinstance(raised.value, ModelRetryableError)
    assert len(fake.requests) == 1


async def test_api_key_never_appears_in_errors(client: ModelClient, fake: FakeOpenAI) -> None:
    fake.script(Fault.bad_request(f"Incorrect API key provided: {API_KEY}"))
    with pytest.raises(ModelError) as raised:
        await client.review(messages(), model=MODEL)
    assert API_KEY not in str(raised.value)
    assert API_KEY[:12] not in str(raised.value)
    assert fake.requests[0].authorization == f"Bearer {API_KEY}"  # it was sent, only to the gateway


async def test_concurrency_is_bounded_by_the_shared_semaphore(
    sdk: openai.AsyncOpenAI, fake: FakeOpenAI
) -> None:
    fake.latency = 0.15
    client = ModelClient(sdk, max_concurrency=2, retry=FAST)
    await asyncio.gather(*(client.review(messages(f"f{i}.py"), model=MODEL) for i in range(6)))
    assert fake.max_in_flight == 2
    assert len(fake.requests) == 6


async def test_missing_usage_details_count_as_zero() -> None:
    fake = FakeOpenAI(omit_usage_details=True)
    with serve_in_thread(fake.app) as base:
        raw = openai.AsyncOpenAI(api_key=API_KEY, base_url=f"{base}/v1")
        answer = await ModelClient(raw, retry=FAST).review(messages(), model=MODEL)
        await raw.close()
    assert answer.usage.cached_tokens == answer.usage.reasoning_tokens == 0
    assert answer.usage.prompt_tokens > 0


async def test_refused_admission_sends_nothing(client: ModelClient, fake: FakeOpenAI) -> None:
    with pytest.raises(NotAdmitted):
        await client.review(messages(), model=MODEL, admit=lambda: False)
    assert fake.requests == []


async def test_admission_is_asked_once_even_across_retries_and_repairs(
    client: ModelClient, fake: FakeOpenAI
) -> None:
    asked: list[int] = []
    fake.script(Fault.server_error(), Fault.invalid_json())

    def admit() -> bool:
        asked.append(1)
        return True

    await client.review(messages(), model=MODEL, admit=admit)
    assert asked == [1]


async def test_reasoning_effort_and_token_cap_are_configurable(client: ModelClient, fake: FakeOpenAI) -> None:
    await client.review(messages(), model="m", reasoning_effort=None, max_completion_tokens=999)
    await client.review(messages(), model="m", reasoning_effort="high")
    assert [(r.reasoning_effort, r.max_completion_tokens) for r in fake.requests] == [
        (None, 999),
        ("high", 4096),
    ]
    assert "reasoning_effort" not in fake.requests[0].body


async def test_escalation_returns_the_verdict() -> None:
    fake = FakeOpenAI(
        verdict=lambda f, view: ("reject", "not a bug") if "x = 1" in f["quote"] else ("confirm", "ok")
    )
    finding = Finding(
        category=Category.RISK,
        severity=Severity.MAJOR,
        confidence=0.8,
        path="a.py",
        line=11,
        quote="x = 1",
        title="t",
        body="b",
    )
    with serve_in_thread(fake.app) as base:
        raw = openai.AsyncOpenAI(api_key=API_KEY, base_url=f"{base}/v1")
        client = ModelClient(raw, retry=FAST)
        text = render(make_chunk("a.py", [("+", "x = 1")]))
        rejected = await client.escalate(finding, text, model="gpt-5.4")
        confirmed = await client.escalate(finding.model_copy(update={"quote": "y"}), text, model="gpt-5.4")
        await raw.close()
    assert rejected[:2] == (False, "not a bug")
    assert confirmed[:2] == (True, "ok")
    assert isinstance(rejected[2], Usage) and rejected[2].calls == 1
    assert {r.model for r in fake.requests} == {"gpt-5.4"}
    assert fake.requests[0].response_format is not None
    assert fake.requests[0].response_format["json_schema"]["name"] == "escalation_verdict"


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after": "1.5", "retry-after-ms": "20"}) == 0.02
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    wait = retry_after_seconds({"retry-after": later})
    assert wait is not None and 25 <= wait <= 31
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds({"retry-after": past}) == 0.0


def test_out_of_range_confidence_is_clamped_not_rejected() -> None:
    item = {
        "category": "lint",
        "severity": "nit",
        "confidence": 7,
        "path": "a",
        "side": "new",
        "line": 1,
        "start_line": None,
        "quote": "q",
        "title": "t",
        "body": "b",
        "suggestion": None,
    }
    (finding,) = parse_findings(json.dumps({"findings": [item]}))
    assert finding.confidence == 1.0


def test_one_malformed_finding_does_not_cost_the_others() -> None:
    good = {
        "category": "risk",
        "severity": "major",
        "confidence": 0.9,
        "path": "a.py",
        "side": "new",
        "line": 3,
        "start_line": None,
        "quote": "x = 1",
        "title": "t",
        "body": "b",
        "suggestion": None,
    }
    bad = {**good, "line": -4, "category": "praise"}
    (kept,) = parse_findings(json.dumps({"findings": [bad, good]}))
    assert kept.line == 3
    with pytest.raises(Exception, match="schema"):
        parse_findings(json.dumps({"findings": [bad]}))
