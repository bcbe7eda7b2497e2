"""The model's output schema: what one chunk review returns, validated at the boundary."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Category(StrEnum):
    LINT = "lint"
    TEST = "test"
    RISK = "risk"


class Severity(StrEnum):
    NIT = "nit"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.NIT: 0, Severity.MINOR: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}


class Finding(BaseModel):
    """One problem the model reports about one line or range of one file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Category
    severity: Severity
    confidence: float = Field(ge=0.0, le=1.0)
    path: str
    # "new": `line`/`start_line` are new-file numbers (added or context lines);
    # "old": old-file numbers of removed lines.
    side: Literal["new", "old"] = "new"
    line: int = Field(ge=0)
    start_line: int | None = None
    quote: str  # the exact text of the cited line (`line`), used to re-anchor wrong numbers
    title: str
    body: str
    suggestion: str | None = None  # replacement code for the whole cited range


class ChunkFindings(BaseModel):
    """The whole answer for one chunk."""

    model_config = ConfigDict(extra="forbid")

    findings: list[Finding]
