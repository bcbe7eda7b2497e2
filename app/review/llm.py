"""The model gateway adapter: structured Chat Completions calls with our retry and repair policy.

One `ModelClient` per process (and event loop) is shared by all reviews: its semaphore bounds the
calls in flight, and it remembers which models' gateways cannot do strict `json_schema` output.
The SDK's own retries are switched off so that this module alone decides about waiting and trying
again (https://platform.openai.com/docs/guides/rate-limits).
Not tenacity: retrying, repairing an answer that broke the schema, and falling back from strict
`json_schema` output are one loop sharing its state (attempts, usage, the model's capabilities);
a retry decorator would cover only the first and hide the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any, Literal, TypeVar, cast

import openai
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError

from app.errors import ModelError, ModelOutputError, ModelRetryableError
from app.observability.metrics import record_model_tokens, timed_model_call
from app.review.fair import FairGate
from app.review.findings import ChunkFindings, Finding
from app.review.prompts import Message, build_escalation_messages, repair_message, with_schema_in_prompt
from app.review.redact import redact_text
from app.review.schema import (
    ESCALATION_SCHEMA,
    ESCALATION_SCHEMA_NAME,
    FINDINGS_SCHEMA,
    FINDINGS_SCHEMA_NAME,
    JSON_OBJECT_FORMAT,
    json_schema_format,
)
from app.review.usage import Usage, UsageMeter

log = logging.getLogger(__name__)

Mode = Literal["json_schema", "json_object"]
Admit = Callable[[], bool]
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

_RETRYABLE_STATUS = frozenset({408, 409, 429})
_MAX_REASON = 200


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How transient failures are retried: full-jitter exponential backoff, server waits honoured."""

    max_attempts: int = 4  # per request, the first one included
    base_delay: float = 0.5  # seconds; attempt n waits uniform(0, min(max_delay, base_delay * 2**n))
    max_delay: float = 20.0
    max_retry_after: float = 60.0  # cap on a Retry-After / retry-after-ms wait


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    findings: list[Finding]
    usage: Usage  # every response this review cost, retries and repairs included
    repaired: bool
    mode: Mode


class _Default(Enum):
    TOKEN = 0


DEFAULT = _Default.TOKEN  # "use the client's setting", distinct from None ("send no reasoning_effort")


class NotAdmitted(ModelError):
    """The caller's admission check (a budget) refused to start the call; nothing was sent."""


class _Verdict(BaseModel):
    verdict: Literal["confirm", "reject"]
    reason: str


class _Unusable(Exception):
    """An answer we can ask once more for: bad JSON, schema mismatch, cut off, empty."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _SchemaUnsupported(Exception):
    """The gateway refused `json_schema` response formats for this model."""


def usage_of(completion: ChatCompletion) -> Usage:
    """Return the usage one response reports; missing details count as zero."""
    reported = completion.usage
    if reported is None:
        return Usage(calls=1)
    prompt_details = reported.prompt_tokens_details
    completion_details = reported.completion_tokens_details
    return Usage(
        prompt_tokens=reported.prompt_tokens or 0,
        cached_tokens=(prompt_details.cached_tokens or 0) if prompt_details else 0,
        completion_tokens=reported.completion_tokens or 0,
        reasoning_tokens=(completion_details.reasoning_tokens or 0) if completion_details else 0,
        calls=1,
    )


def retry_after_seconds(headers: Any) -> float | None:
    """Return the wait a response asks for via `retry-after-ms` or `retry-after`, if any."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _content(completion: ChatCompletion) -> str:
    if not completion.choices:
        raise _Unusable("the answer had no choices")
    choice = completion.choices[0]
    if choice.finish_reason == "length":
        raise _Unusable("the answer was cut off at the length limit")
    if choice.finish_reason == "content_filter":
        raise ModelOutputError("the gateway's content filter stopped the answer")
    if choice.message.refusal:
        raise ModelOutputError("the model refused to answer")
    if not choice.message.content:
        raise _Unusable("the answer was empty")
    return choice.message.content


def _load_json(content: str) -> Any:
    try:
        return json.loads(content)
    except json.JSONDecodeError:
        raise _Unusable("the answer was not valid JSON") from None


def _schema_errors(exc: ValidationError) -> str:
    # Locations and messages only: pydantic's default text would echo the (untrusted) input.
    parts = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:3]]
    return "it did not match the schema (" + "; ".join(parts) + ")"


def parse_findings(content: str) -> list[Finding]:
    """Validate a findings answer; raise `_Unusable` with a reason the repair prompt can quote."""
    data = _load_json(content)
    if isinstance(data, dict) and isinstance(data.get("findings"), list):
        for item in data["findings"]:
            # Out-of-range confidence is not worth a repair call: clamp it.
            if isinstance(item, dict) and isinstance(item.get("confidence"), int | float):
                item["confidence"] = min(max(float(item["confidence"]), 0.0), 1.0)
    try:
        return ChunkFindings.model_validate(data).findings
    except ValidationError as exc:
        error = _Unusable(_schema_errors(exc))
    # One malformed finding should not cost the chunk's good ones (or a repair call): keep the valid.
    if isinstance(data, dict) and isinstance(data.get("findings"), list):
        kept: list[Finding] = []
        for item in data["findings"]:
            try:
                kept.append(Finding.model_validate(item))
            except ValidationError:
                continue
        if kept:
            log.info(
                "dropped %d malformed finding(s) of %d",
                len(data["findings"]) - len(kept),
                len(data["findings"]),
            )
            return kept
    raise error


def parse_verdict(content: str) -> tuple[bool, str]:
    """Validate an escalation answer: (confirmed, reason)."""
    try:
        verdict = _Verdict.model_validate(_load_json(content))
    except ValidationError as exc:
        raise _Unusable(_schema_errors(exc)) from None
    return verdict.verdict == "confirm", verdict.reason


def _is_schema_unsupported(exc: openai.BadRequestError) -> bool:
    text = f"{exc.param or ''} {_gateway_message(exc)}".lower()
    return "response_format" in text or "json_schema" in text


def _gateway_message(exc: openai.APIError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
        if isinstance(body.get("message"), str):
            return str(body["message"])
    return exc.message


class ModelClient:
    """Review chunks and re-check findings over an `openai.AsyncOpenAI` built by the caller."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        max_concurrency: int = 8,
        reasoning_effort: str | None = "low",
        max_completion_tokens: int = 4096,
        timeout: float = 120.0,
        retry: RetryPolicy | None = None,
        prompt_cache_key: str | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        # Our policy, not the SDK's, decides about retries; a copy leaves the caller's client as it was.
        self._openai = client if client.max_retries == 0 else client.with_options(max_retries=0)
        key = getattr(client, "api_key", None)
        self._secrets = [key] if isinstance(key, str) and key else []
        self.max_concurrency = max_concurrency
        self.reasoning_effort = reasoning_effort
        self.max_completion_tokens = max_completion_tokens
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.prompt_cache_key = prompt_cache_key
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._gate = FairGate(max_concurrency)  # slots shared fairly between concurrent reviews
        self._json_object_models: set[str] = set()

    def uses_json_object(self, model: str) -> bool:
        """Tell whether `model` was found not to support `json_schema` and now gets `json_object`."""
        return model in self._json_object_models

    async def review(
        self,
        messages: list[Message],
        *,
        model: str,
        reasoning_effort: str | None | _Default = DEFAULT,
        max_completion_tokens: int | None = None,
        meter: UsageMeter | None = None,
        admit: Admit | None = None,
        prompt_cache_key: str | None = None,
    ) -> ModelAnswer:
        """Return the findings for one chunk's messages (see `prompts.build_messages`).

        `admit` is asked once, with a concurrency slot held, right before the first request; if it
        says no, `NotAdmitted` is raised and nothing is sent. `meter` sees each response's usage as
        it arrives, failed attempts included.
        """
        findings, usage, repaired, mode = await self._structured(
            messages,
            FINDINGS_SCHEMA_NAME,
            FINDINGS_SCHEMA,
            parse_findings,
            model=model,
            effort=self._effort(reasoning_effort),
            max_tokens=max_completion_tokens or self.max_completion_tokens,
            meter=meter,
            admit=admit,
            cache_key=prompt_cache_key or self.prompt_cache_key,
        )
        return ModelAnswer(findings=findings, usage=usage, repaired=repaired, mode=mode)

    async def escalate(
        self,
        finding: Finding,
        chunk_text: str,
        *,
        model: str,
        reasoning_effort: str | None | _Default = DEFAULT,
        meter: UsageMeter | None = None,
        admit: Admit | None = None,
        prompt_cache_key: str | None = None,
    ) -> tuple[bool, str, Usage]:
        """Ask a stronger model whether `finding` holds; return (confirmed, reason, usage)."""
        (confirmed, reason), usage, _, _ = await self._structured(
            build_escalation_messages(finding, chunk_text),
            ESCALATION_SCHEMA_NAME,
            ESCALATION_SCHEMA,
            parse_verdict,
            model=model,
            effort=self._effort(reasoning_effort),
            max_tokens=self.max_completion_tokens,
            meter=meter,
            admit=admit,
            cache_key=prompt_cache_key or self.prompt_cache_key,
        )
        return confirmed, reason, usage

    async def complete(
        self,
        messages: list[Message],
        *,
        name: str,
        schema: dict[str, Any],
        output: type[M],
        model: str,
        max_completion_tokens: int | None = None,
        meter: UsageMeter | None = None,
    ) -> tuple[M, Usage]:
        """Return one structured answer to `messages`, validated by `output` (same retries and repair)."""

        def parse(content: str) -> M:
            try:
                return output.model_validate(_load_json(content))
            except ValidationError as exc:
                raise _Unusable(_schema_errors(exc)) from None

        value, usage, _, _ = await self._structured(
            messages,
            name,
            schema,
            parse,
            model=model,
            effort=self._effort(DEFAULT),
            max_tokens=max_completion_tokens or self.max_completion_tokens,
            meter=meter,
            admit=None,
        )
        return value, usage

    async def _structured(
        self,
        messages: list[Message],
        name: str,
        schema: dict[str, Any],
        parse: Callable[[str], T],
        *,
        model: str,
        effort: str | None,
        max_tokens: int,
        meter: UsageMeter | None,
        admit: Admit | None,
        cache_key: str | None = None,
    ) -> tuple[T, Usage, bool, Mode]:
        usage = Usage()
        extra: list[Message] = []
        reason = ""
        for attempt in range(2):  # the answer, then at most one repair
            completion, mode = await self._send(
                messages,
                extra,
                name,
                schema,
                model=model,
                effort=effort,
                max_tokens=max_tokens,
                admit=admit,
                cache_key=cache_key,
            )
            admit = None  # admission is for starting a review, not for finishing it
            spent = usage_of(completion)
            usage += spent
            record_model_tokens(
                model,
                prompt=spent.prompt_tokens,
                cached=spent.cached_tokens,
                completion=spent.completion_tokens,
            )
            if meter is not None:
                meter.add(spent)
            try:
                return parse(_content(completion)), usage, attempt > 0, mode
            except _Unusable as exc:
                reason = exc.reason
                log.warning("model %s gave an unusable answer (%s)", model, reason)
                extra = [repair_message(reason)]
        raise ModelOutputError(f"unusable answer after one repair: {reason}")

    async def _send(
        self,
        messages: list[Message],
        extra: list[Message],
        name: str,
        schema: dict[str, Any],
        *,
        model: str,
        effort: str | None,
        max_tokens: int,
        admit: Admit | None,
        cache_key: str | None = None,
    ) -> tuple[ChatCompletion, Mode]:
        if model not in self._json_object_models:
            try:
                fmt = json_schema_format(name, schema)
                return await self._call(
                    [*messages, *extra], fmt, model, effort, max_tokens, admit, cache_key
                ), "json_schema"
            except _SchemaUnsupported:
                # Remembered per model for the whole process: every later call goes straight to JSON mode.
                self._json_object_models.add(model)
                log.warning(
                    "gateway does not support json_schema for %s; using json_object from now on", model
                )
                admit = None
        prompt = [*with_schema_in_prompt(messages, name, schema), *extra]
        answer = await self._call(prompt, JSON_OBJECT_FORMAT, model, effort, max_tokens, admit, cache_key)
        return answer, "json_object"

    async def _call(
        self,
        messages: list[Message],
        response_format: dict[str, Any],
        model: str,
        effort: str | None,
        max_tokens: int,
        admit: Admit | None,
        cache_key: str | None = None,
    ) -> ChatCompletion:
        policy = self.retry
        failure: ModelRetryableError | None = None
        for attempt in range(max(policy.max_attempts, 1)):
            if failure is not None:
                assert failure.retry_after is not None
                await self._sleep(failure.retry_after)  # outside the gate: waiting holds no slot
            async with self._gate.slot():
                if attempt == 0 and admit is not None and not admit():
                    raise NotAdmitted("budget reached")
                try:
                    return await self._create(messages, response_format, model, effort, max_tokens, cache_key)
                except openai.BadRequestError as exc:
                    if response_format.get("type") == "json_schema" and _is_schema_unsupported(exc):
                        raise _SchemaUnsupported from None
                    raise ModelError(self._describe(exc)) from None
                except openai.APIStatusError as exc:
                    server_wait = retry_after_seconds(exc.response.headers)
                    retryable = exc.status_code in _RETRYABLE_STATUS or exc.status_code >= 500
                    if not retryable or exc.response.headers.get("x-should-retry") == "false":
                        raise ModelError(self._describe(exc)) from None
                    failure = ModelRetryableError(
                        self._describe(exc), retry_after=self._wait(attempt, server_wait)
                    )
                except openai.APIConnectionError as exc:  # includes APITimeoutError
                    reason = "timed out" if isinstance(exc, openai.APITimeoutError) else "connection failed"
                    failure = ModelRetryableError(
                        f"model gateway {reason}", retry_after=self._wait(attempt, None)
                    )
            log.warning("model call failed (%s), attempt %d of %d", failure, attempt + 1, policy.max_attempts)
        assert failure is not None
        raise failure

    async def _create(
        self,
        messages: list[Message],
        response_format: dict[str, Any],
        model: str,
        effort: str | None,
        max_tokens: int,
        cache_key: str | None = None,
    ) -> ChatCompletion:
        with timed_model_call(model):
            return await self._openai.chat.completions.create(
                model=model,
                messages=cast(Any, messages),
                response_format=cast(Any, response_format),
                max_completion_tokens=max_tokens,
                reasoning_effort=cast(Any, effort) if effort is not None else openai.omit,
                # Routes calls sharing a prefix to one cache (https://platform.openai.com/docs/guides/prompt-caching).
                prompt_cache_key=cache_key if cache_key is not None else openai.omit,
                timeout=self.timeout,
            )

    def _effort(self, requested: str | None | _Default) -> str | None:
        return self.reasoning_effort if isinstance(requested, _Default) else requested

    def _wait(self, attempt: int, server_wait: float | None) -> float:
        policy = self.retry
        if server_wait is not None:
            return min(server_wait, policy.max_retry_after)
        return self._rng.uniform(0, min(policy.max_delay, policy.base_delay * 2**attempt))

    def _describe(self, exc: openai.APIStatusError) -> str:
        return f"model gateway answered HTTP {exc.status_code}: {self.redact(_gateway_message(exc))}"

    def redact(self, text: str) -> str:
        """Shorten gateway text and strip anything secret from it (our key included)."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text, _ = redact_text(text)
        text = " ".join(text.split())
        return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "\u2026"
