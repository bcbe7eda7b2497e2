"""Typed rows the store reads and writes: runs, their parts, and per-PR state."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class RunStatus(StrEnum):
    """Where a run ended (or `running`); stored as text, shown on the run page."""

    RUNNING = "running"
    POSTED = "posted"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class ReviewMode(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


class FindingRow(BaseModel):
    """One finding on the run page, and where it ended up."""

    path: str
    line: int | None = None
    category: str
    severity: str
    confidence: float
    title: str
    body: str
    outcome: str


class SkippedFile(BaseModel):
    path: str
    reason: str
    lines: int


class FailedChunk(BaseModel):
    chunk: str
    error: str


class RunUpdate(BaseModel):
    """The columns a run step sets; only the fields given are written."""

    model_config = ConfigDict(extra="forbid")

    status: RunStatus | None = None
    error: str | None = None
    finished_at: dt.datetime | None = None
    mode: ReviewMode | None = None
    base_sha: str | None = None
    timings: dict[str, float] | None = None
    files_total: int | None = None
    files_reviewed: int | None = None
    lines_total: int | None = None
    lines_sent: int | None = None
    skipped: list[SkippedFile] | None = None
    failed_chunks: list[FailedChunk] | None = None
    findings: list[FindingRow] | None = None
    inline_count: int | None = None
    prompt_tokens: int | None = None
    cached_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    model_calls: int | None = None
    cost_usd: float | None = None
    reused_calls: int | None = None
    reused_tokens: int | None = None
    reused_cost_usd: float | None = None
    review_id: int | None = None
    check_run_id: int | None = None
    summary: str | None = None

    def values(self) -> dict[str, object]:
        """The set fields as column values (nested rows become the dicts the JSON columns hold)."""
        return self.model_dump(exclude_unset=True)


class Run(BaseModel):
    """One review attempt of one PR head, as stored."""

    id: str
    repo: str
    pr_number: int
    head_sha: str | None = None
    base_sha: str | None = None
    trigger: str
    status: RunStatus
    mode: ReviewMode | None = None
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    files_total: int | None = None
    files_reviewed: int | None = None
    lines_total: int | None = None
    lines_sent: int | None = None
    skipped: list[SkippedFile] = Field(default_factory=list)
    failed_chunks: list[FailedChunk] = Field(default_factory=list)
    findings: list[FindingRow] = Field(default_factory=list)
    inline_count: int | None = None
    prompt_tokens: int | None = None
    cached_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    model_calls: int | None = None
    cost_usd: float | None = None
    reused_calls: int | None = None
    reused_tokens: int | None = None
    reused_cost_usd: float | None = None
    review_id: int | None = None
    check_run_id: int | None = None
    summary: str | None = None
    error: str | None = None

    @field_validator("timings", "skipped", "failed_chunks", "findings", mode="before")
    @classmethod
    def _empty_when_null(cls, value: object, info: ValidationInfo) -> object:
        # Rows written before a run finished hold NULL in these JSON columns.
        if value is not None:
            return value
        return {} if info.field_name == "timings" else []


class ChunkResultRow(BaseModel):
    """One review call's result, kept so a retry of the same review reuses it (`chunk_results`).

    `result` is the reviewer's own JSON (`app.review.reuse.SavedCall`); storage does not read it.
    """

    repo: str
    pr_number: int
    head_sha: str
    job_run_id: str
    call_key: str
    run_id: str
    result: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int
    model_calls: int
    cost_usd: float


class PullState(BaseModel):
    """Per-PR memory that outlives runs."""

    repo: str
    pr_number: int
    last_reviewed_head: str | None = None
    paused: bool = False


class Delivery(BaseModel):
    """A webhook delivery we acknowledged; its id makes redeliveries idempotent."""

    delivery_id: str
    event: str
    action: str | None = None
    repo: str | None = None
    pr_number: int | None = None
    head_sha: str | None = None
    installation_id: int | None = None
    outcome: str
    # What the delivery asks for, applied after the 2xx (None: nothing to apply). Its shape belongs to
    # the intake (`app.webhooks.intake.Effects`); storage keeps it as JSON.
    effects: dict[str, Any] | None = None


class PendingDelivery(BaseModel):
    """A recorded delivery whose effects are still to be applied."""

    delivery_id: str
    repo: str | None = None
    pr_number: int | None = None
    effects: dict[str, Any]


class InstallationChange(BaseModel):
    """What an installation event says about the App's installation and its repositories."""

    id: int
    account: str | None = None
    repositories: list[str] | None = None  # the full list, when the event carries it
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    active: bool = True
