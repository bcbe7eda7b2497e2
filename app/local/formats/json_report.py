"""The machine-readable report (`--format json`): a documented schema with a version number.

Version 1. Additive changes (new optional fields) keep the version; anything else bumps it.
`mini-review review --json-schema` prints the JSON Schema of this model.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.local.engine import LocalFinding, LocalReport
from app.review.reviewer import ChunkFailure


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JsonFinding(_Model):
    path: str = Field(description="file the finding is about ('' for the change as a whole)")
    line: int | None = Field(description="anchored line; None when the finding is about the whole file")
    start_line: int | None = Field(description="first line of a multi-line range")
    side: Literal["RIGHT", "LEFT"] | None = Field(
        description="RIGHT: head's line numbers; LEFT: removed lines"
    )
    category: Literal["lint", "test", "risk"]
    severity: Literal["nit", "minor", "major", "critical"]
    confidence: float
    title: str
    body: str
    suggestion: str | None
    code: str | None = Field(description="the text of the anchored line")
    fingerprint: str = Field(description="stable across runs: file, category and the code it is about")


class JsonSkipped(_Model):
    path: str
    reason: str
    lines: int = Field(description="changed lines not reviewed")


class JsonChunkProblem(_Model):
    path: str
    part: int
    parts: int
    error: str


class JsonUsage(_Model):
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    calls: int
    cost_usd: float


class JsonReport(_Model):
    schema_version: Literal[1] = 1
    tool: str = "mini-review"
    base: str | None
    head: str | None
    complete: bool = Field(description="every planned chunk was reviewed (none failed)")
    findings: list[JsonFinding]
    below_threshold: int
    files_reviewed: list[str]
    skipped: list[JsonSkipped]
    failed_chunks: list[JsonChunkProblem]
    not_sent: list[JsonChunkProblem]
    usage: JsonUsage
    duration_s: float


def _finding(item: LocalFinding) -> JsonFinding:
    f = item.finding
    return JsonFinding(
        path=item.path,
        line=item.line,
        start_line=item.start_line,
        side=item.side.value if item.side is not None else None,
        category=f.category.value,
        severity=f.severity.value,
        confidence=f.confidence,
        title=f.title,
        body=f.body,
        suggestion=f.suggestion,
        code=item.code,
        fingerprint=item.fingerprint,
    )


def build_json_report(report: LocalReport, *, base: str | None, head: str | None) -> JsonReport:
    u = report.usage
    return JsonReport(
        base=base,
        head=head,
        complete=not report.failed,
        findings=[_finding(item) for item in report.findings],
        below_threshold=report.below_threshold,
        files_reviewed=sorted({chunk.path for chunk in report.plan.chunks}),
        skipped=[
            JsonSkipped(path=s.path, reason=s.reason.value, lines=s.changed_lines) for s in report.skipped
        ],
        failed_chunks=[_problem(c) for c in report.failed],
        not_sent=[_problem(c) for c in report.not_sent],
        usage=JsonUsage(
            prompt_tokens=u.prompt_tokens,
            cached_tokens=u.cached_tokens,
            completion_tokens=u.completion_tokens,
            reasoning_tokens=u.reasoning_tokens,
            calls=u.calls,
            cost_usd=round(report.cost_usd, 6),
        ),
        duration_s=round(report.duration_s, 3),
    )


def _problem(failure: ChunkFailure) -> JsonChunkProblem:
    return JsonChunkProblem(path=failure.path, part=failure.part, parts=failure.parts, error=failure.error)


def render_json(report: LocalReport, *, base: str | None, head: str | None) -> str:
    return build_json_report(report, base=base, head=head).model_dump_json(indent=2) + "\n"


def json_schema() -> str:
    return json.dumps(JsonReport.model_json_schema(), indent=2) + "\n"
