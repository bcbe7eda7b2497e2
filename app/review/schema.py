"""The strict JSON schemas sent as `response_format`, written to OpenAI's structured-output rules.

Strict mode (https://platform.openai.com/docs/guides/structured-outputs) wants every object closed
(`additionalProperties: false`) with ALL its properties listed in `required`; optional values are
expressed as a union with null. Range checks the schema cannot carry (confidence in [0, 1]) are
enforced when the answer is validated by `ChunkFindings`.
"""

from __future__ import annotations

from typing import Any, Final

from app.review.findings import Category, Severity

FINDINGS_SCHEMA_NAME: Final = "chunk_findings"
ESCALATION_SCHEMA_NAME: Final = "escalation_verdict"

_FINDING: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "category": {
            "type": "string",
            "enum": [c.value for c in Category],
            "description": "lint, test or risk",
        },
        "severity": {"type": "string", "enum": [s.value for s in Severity]},
        "confidence": {"type": "number", "description": "0.0 to 1.0: how sure you are it is a real problem"},
        "path": {"type": "string", "description": "the path attribute of the chunk"},
        "side": {
            "type": "string",
            "enum": ["new", "old"],
            "description": "old only for a removed (-) line, new otherwise",
        },
        "line": {"type": "integer", "description": "the number shown before the cited line"},
        "start_line": {
            "type": ["integer", "null"],
            "description": "first line of a multi-line range ending at line, same side and hunk; else null",
        },
        "quote": {"type": "string", "description": "exact text of the cited line, without number or mark"},
        "title": {"type": "string", "description": "one short sentence naming the problem"},
        "body": {"type": "string", "description": "why it is a problem and what to do, briefly"},
        "suggestion": {
            "type": ["string", "null"],
            "description": "full replacement code for the cited line range, or null",
        },
    },
    "required": [
        "category",
        "severity",
        "confidence",
        "path",
        "side",
        "line",
        "start_line",
        "quote",
        "title",
        "body",
        "suggestion",
    ],
}

FINDINGS_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"findings": {"type": "array", "items": _FINDING}},
    "required": ["findings"],
}

ESCALATION_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "verdict": {"type": "string", "enum": ["confirm", "reject"]},
        "reason": {"type": "string", "description": "one or two sentences"},
    },
    "required": ["verdict", "reason"],
}


def json_schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Return the Chat Completions `response_format` for a strict JSON schema."""
    return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}


JSON_OBJECT_FORMAT: Final[dict[str, Any]] = {"type": "json_object"}
