from typing import Any

import pytest

from app.review.findings import Category, ChunkFindings, Finding, Severity
from app.review.schema import (
    ESCALATION_SCHEMA,
    ESCALATION_SCHEMA_NAME,
    FINDINGS_SCHEMA,
    FINDINGS_SCHEMA_NAME,
    json_schema_format,
)


def objects(schema: Any) -> list[dict[str, Any]]:
    """Return every object schema nested anywhere in `schema`."""
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            found.append(schema)
        for value in schema.values():
            found.extend(objects(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(objects(value))
    return found


@pytest.mark.parametrize("schema", [FINDINGS_SCHEMA, ESCALATION_SCHEMA])
def test_every_object_is_closed_and_requires_all_properties(schema: dict[str, Any]) -> None:
    found = objects(schema)
    assert found
    for obj in found:
        assert obj["additionalProperties"] is False
        assert sorted(obj["required"]) == sorted(obj["properties"])


def test_formats_are_strict_json_schema() -> None:
    for name, schema in (
        (FINDINGS_SCHEMA_NAME, FINDINGS_SCHEMA),
        (ESCALATION_SCHEMA_NAME, ESCALATION_SCHEMA),
    ):
        fmt = json_schema_format(name, schema)
        assert fmt["type"] == "json_schema"
        assert fmt["json_schema"]["strict"] is True
        assert fmt["json_schema"]["name"]
        assert fmt["json_schema"]["schema"]["type"] == "object"


def finding_props() -> dict[str, Any]:
    props: dict[str, Any] = FINDINGS_SCHEMA["properties"]["findings"]["items"]["properties"]
    return props


def test_schema_covers_exactly_the_finding_fields() -> None:
    assert set(finding_props()) == set(Finding.model_fields)


def test_optional_fields_are_nullable_and_required_ones_are_not() -> None:
    for name, field in Finding.model_fields.items():
        types = finding_props()[name]["type"]
        types = types if isinstance(types, list) else [types]
        nullable = "null" in types
        assert nullable == (field.default is None), name


def test_enums_match_the_model() -> None:
    props = finding_props()
    assert props["category"]["enum"] == [c.value for c in Category]
    assert props["severity"]["enum"] == [s.value for s in Severity]
    assert props["side"]["enum"] == ["new", "old"]
    assert ESCALATION_SCHEMA["properties"]["verdict"]["enum"] == ["confirm", "reject"]


def test_an_answer_following_the_schema_validates() -> None:
    answer = {
        "findings": [
            {
                "category": "risk",
                "severity": "major",
                "confidence": 0.8,
                "path": "a.py",
                "side": "new",
                "line": 3,
                "start_line": None,
                "quote": "x = 1",
                "title": "t",
                "body": "b",
                "suggestion": None,
            }
        ]
    }
    assert set(answer["findings"][0]) == set(finding_props())
    parsed = ChunkFindings.model_validate(answer)
    assert parsed.findings[0].severity is Severity.MAJOR
