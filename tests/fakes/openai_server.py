"""A fake OpenAI Chat Completions server that answers from the schema it is sent.

Serve `FakeOpenAI().app` with `tests.fakes.server.serve_in_thread` and point the real openai SDK at
f"{url}/v1". It records every request, measures how many were in flight at once, reports usage
the way OpenAI does, and plays scripted faults (429, 500, bad JSON, cut-off answers, ...) in order.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.openai_conversation import Responder, conversation_responders

_CHUNK = re.compile(r"^<chunk (?P<attrs>[^\n]*)>\n(?P<body>.*?)\n</chunk>$", re.MULTILINE | re.DOTALL)
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_LINE = re.compile(r"^(\d+) ([-+ ])(?: (.*))?$")
_SCHEMA_IN_PROMPT = re.compile(r"\(name: (?P<name>\w+)\).*?```json\n(?P<schema>.*?)\n```", re.DOTALL)
_FINDING = re.compile(r"<finding>\n(?P<json>.*?)\n</finding>", re.DOTALL)
REASONING_TOKENS = {"none": 0, "minimal": 0, "low": 64, "medium": 256, "high": 1024}


@dataclass(frozen=True)
class ViewLine:
    number: int
    mark: str  # "+", "-" or " "
    text: str


@dataclass(frozen=True)
class ChunkView:
    """One `<chunk>` of a request, parsed back from the model-facing format."""

    path: str
    status: str
    part: str
    old_path: str | None
    lines: list[ViewLine]


Brain = Callable[[ChunkView], list[dict[str, Any]]]
Verdict = Callable[[dict[str, Any], ChunkView | None], tuple[str, str]]


def parse_chunks(user: str) -> list[ChunkView]:
    """Return every chunk in a user message."""
    views = []
    for match in _CHUNK.finditer(user):
        attrs = {k: html.unescape(v) for k, v in _ATTR.findall(match.group("attrs"))}
        lines = []
        for raw in match.group("body").split("\n"):
            parsed = _LINE.match(raw)
            if parsed:
                lines.append(ViewLine(int(parsed.group(1)), parsed.group(2), parsed.group(3) or ""))
        views.append(
            ChunkView(
                attrs.get("path", ""),
                attrs.get("status", ""),
                attrs.get("part", ""),
                attrs.get("old_path"),
                lines,
            )
        )
    return views


def finding(view: ChunkView, at: ViewLine, **values: Any) -> dict[str, Any]:
    """Return a complete finding dict (every schema key) about line `at`; `values` override keys."""
    base: dict[str, Any] = {
        "category": "risk",
        "severity": "major",
        "confidence": 0.9,
        "path": view.path,
        "side": "old" if at.mark == "-" else "new",
        "line": at.number,
        "start_line": None,
        "quote": at.text,
        "title": "A problem",
        "body": "Fix it.",
        "suggestion": None,
    }
    base.update(values)
    return base


def default_brain(view: ChunkView, *, line_offset: int = 0) -> list[dict[str, Any]]:
    """Flag added lines with BUG (risk/major) or TODO (lint/nit), citing line + `line_offset`."""
    out = []
    for line in view.lines:
        if line.mark != "+":
            continue
        if "BUG" in line.text:
            out.append(
                finding(
                    view,
                    line,
                    line=line.number + line_offset,
                    title="Bug marker left in code",
                    confidence=0.9,
                )
            )
        elif "TODO" in line.text:
            out.append(
                finding(
                    view,
                    line,
                    line=line.number + line_offset,
                    category="lint",
                    severity="nit",
                    confidence=0.6,
                    title="Unresolved TODO",
                )
            )
    return out


def confirm_all(_finding: dict[str, Any], _view: ChunkView | None) -> tuple[str, str]:
    return "confirm", "Looks right."


@dataclass
class Fault:
    """One scripted misbehaviour; `path` / `model` limit it to requests about that chunk or model."""

    kind: str
    path: str | None = None
    model: str | None = None
    times: int | None = 1  # None: every matching request, forever
    retry_after: float | None = None
    retry_after_ms: int | None = None
    status: int = 500
    seconds: float = 0.0
    message: str = ""

    @classmethod
    def rate_limit(
        cls, retry_after: float | None = 1.0, *, retry_after_ms: int | None = None, **kw: Any
    ) -> Fault:
        return cls("rate_limit", retry_after=retry_after, retry_after_ms=retry_after_ms, **kw)

    @classmethod
    def server_error(cls, status: int = 500, **kw: Any) -> Fault:
        return cls("server_error", status=status, **kw)

    @classmethod
    def invalid_json(cls, **kw: Any) -> Fault:
        return cls("invalid_json", **kw)

    @classmethod
    def truncated(cls, **kw: Any) -> Fault:
        return cls("truncated", **kw)

    @classmethod
    def schema_violation(cls, **kw: Any) -> Fault:
        return cls("schema_violation", **kw)

    @classmethod
    def hang(cls, seconds: float, **kw: Any) -> Fault:
        return cls("hang", seconds=seconds, **kw)

    @classmethod
    def bad_request(cls, message: str = "bad request", **kw: Any) -> Fault:
        return cls("bad_request", message=message, **kw)


@dataclass
class RecordedRequest:
    body: dict[str, Any]
    status: int = 0
    fault: str | None = None
    authorization: str = ""

    @property
    def model(self) -> str:
        return str(self.body.get("model"))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def response_format(self) -> dict[str, Any] | None:
        return self.body.get("response_format")

    @property
    def mode(self) -> str | None:
        return None if self.response_format is None else str(self.response_format.get("type"))

    @property
    def reasoning_effort(self) -> str | None:
        return self.body.get("reasoning_effort")

    @property
    def max_completion_tokens(self) -> int | None:
        return self.body.get("max_completion_tokens")

    @property
    def system(self) -> str:
        return "\n".join(str(m["content"]) for m in self.messages if m["role"] == "system")

    @property
    def user(self) -> str:
        return "\n".join(str(m["content"]) for m in self.messages if m["role"] == "user")

    @property
    def paths(self) -> list[str]:
        return [view.path for view in parse_chunks(self.user)]

    def text(self) -> str:
        """Return everything this request sent, as one string (for leak checks)."""
        return json.dumps(self.body, ensure_ascii=False)


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def check_required(value: Any, schema: dict[str, Any], where: str = "$") -> None:
    """Raise ValueError when `value` misses a required key or has an extra one under `schema`."""
    if schema.get("type") == "object":
        if not isinstance(value, dict):
            raise ValueError(f"{where} is not an object")
        missing = [k for k in schema.get("required", []) if k not in value]
        if missing:
            raise ValueError(f"{where} misses {missing}")
        if schema.get("additionalProperties") is False:
            extra = set(value) - set(schema.get("properties", {}))
            if extra:
                raise ValueError(f"{where} has extra keys {sorted(extra)}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                check_required(value[key], sub, f"{where}.{key}")
    elif schema.get("type") == "array":
        if not isinstance(value, list):
            raise ValueError(f"{where} is not an array")
        for i, item in enumerate(value):
            check_required(item, schema.get("items", {}), f"{where}[{i}]")


class FakeOpenAI:
    """The fake gateway; configure it, then serve `.app`."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        brain: Brain | None = None,
        verdict: Verdict = confirm_all,
        reject_json_schema: bool = False,
        wrong_line_offset: int = 0,
        omit_usage_details: bool = False,
    ) -> None:
        self.latency = latency
        self.brain: Brain = brain or partial(default_brain, line_offset=wrong_line_offset)
        self.verdict = verdict
        self.responders: dict[str, Responder] = conversation_responders()  # other schemas, by name
        self.reject_json_schema = reject_json_schema
        self.omit_usage_details = omit_usage_details
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.internal_errors: list[str] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._last_system = ""
        self.app = FastAPI()
        self.app.add_api_route("/v1/chat/completions", self._completions, methods=["POST"])

    def script(self, *faults: Fault) -> None:
        """Queue faults; each request consumes the first one whose path filter matches it."""
        with self._lock:
            self._faults.extend(faults)

    def pending_faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def reset(self) -> None:
        """Forget recorded requests and the concurrency high-water mark."""
        with self._lock:
            self.requests.clear()
            self.max_in_flight = self.in_flight

    def _take_fault(self, record: RecordedRequest) -> Fault | None:
        paths = record.paths
        with self._lock:
            for fault in self._faults:
                if (fault.path is None or fault.path in paths) and fault.model in (None, record.model):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    async def _completions(self, request: Request) -> Response:
        body = await request.json()
        record = RecordedRequest(body=body, authorization=request.headers.get("authorization", ""))
        with self._lock:
            self.requests.append(record)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
            response = await self._respond(record)
        finally:
            with self._lock:
                self.in_flight -= 1
        record.status = response.status_code
        return response

    async def _respond(self, record: RecordedRequest) -> Response:
        fmt = record.response_format or {}
        if self.reject_json_schema and fmt.get("type") == "json_schema":
            return _error(
                400,
                "response_format json_schema is not supported by this model",
                "invalid_request_error",
                param="response_format",
            )
        fault = self._take_fault(record)
        record.fault = fault.kind if fault else None
        if fault is not None:
            if fault.kind == "rate_limit":
                headers = {}
                if fault.retry_after is not None:
                    headers["retry-after"] = str(fault.retry_after)
                if fault.retry_after_ms is not None:
                    headers["retry-after-ms"] = str(fault.retry_after_ms)
                return _error(
                    429,
                    "Rate limit reached for requests",
                    "requests",
                    code="rate_limit_exceeded",
                    headers=headers,
                )
            if fault.kind == "server_error":
                return _error(
                    fault.status, "The server had an error processing your request.", "server_error"
                )
            if fault.kind == "bad_request":
                return _error(400, fault.message, "invalid_request_error")
            if fault.kind == "hang":
                await asyncio.sleep(fault.seconds)
        try:
            name, schema = self._schema(record)
            answer = self._answer(name, record)
            check_required(answer, schema)
        except (ValueError, TypeError, KeyError) as exc:  # a broken brain must be visible to the test
            self.internal_errors.append(f"{type(exc).__name__}: {exc}")
            return _error(500, f"fake server could not answer: {exc}", "server_error")
        content = json.dumps(answer)
        finish = "stop"
        if fault is not None and fault.kind == "invalid_json":
            content = "Sure! Here are my findings: {findings: [oops"
        elif fault is not None and fault.kind == "truncated":
            content, finish = content[: max(1, len(content) // 2)], "length"
        elif fault is not None and fault.kind == "schema_violation":
            content = json.dumps(
                {"findings": [{"category": "style", "line": "ten"}]}
                if name == "chunk_findings"
                else {"verdict": "maybe"}
            )
        return JSONResponse(self._completion(record, content, finish))

    def _schema(self, record: RecordedRequest) -> tuple[str, dict[str, Any]]:
        fmt = record.response_format or {}
        if fmt.get("type") == "json_schema":
            spec = fmt["json_schema"]
            return str(spec["name"]), dict(spec["schema"])
        found = _SCHEMA_IN_PROMPT.search(record.system)
        if not found:
            raise ValueError("no schema in response_format or in the system message")
        return found.group("name"), json.loads(found.group("schema"))

    def _answer(self, name: str, record: RecordedRequest) -> dict[str, Any]:
        if name in self.responders:
            return self.responders[name](record)
        views = parse_chunks(record.user)
        if name == "chunk_findings":
            return {"findings": [item for view in views for item in self.brain(view)]}
        if name == "escalation_verdict":
            found = _FINDING.search(record.user)
            if not found:
                raise ValueError("escalation request without a <finding>")
            reported = json.loads(html.unescape(found.group("json")))
            verdict, reason = self.verdict(reported, views[0] if views else None)
            return {"verdict": verdict, "reason": reason}
        raise ValueError(f"unknown schema {name}")

    def _completion(self, record: RecordedRequest, content: str, finish: str) -> dict[str, Any]:
        prompt_text = "".join(str(m.get("content", "")) for m in record.messages)
        system = record.system
        with self._lock:
            cached = _common_prefix(system, self._last_system) // 4
            self._last_system = system
        reasoning = REASONING_TOKENS.get(record.reasoning_effort or "", 0)
        completion = _tokens(content) + reasoning
        usage: dict[str, Any] = {
            "prompt_tokens": _tokens(prompt_text),
            "completion_tokens": completion,
            "total_tokens": _tokens(prompt_text) + completion,
        }
        if not self.omit_usage_details:
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
            usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        return {
            "id": f"chatcmpl-fake-{next(self._ids)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": record.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "finish_reason": finish,
                    "logprobs": None,
                }
            ],
            "usage": usage,
        }


def _error(
    status: int,
    message: str,
    kind: str,
    *,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)
