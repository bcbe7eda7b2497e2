"""Table definitions (SQLAlchemy Core): the same schema on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on both backends (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:  # noqa: ARG002
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC) if value is not None else None

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:  # noqa: ARG002
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


metadata = MetaData()

# Every webhook we acknowledged: its id makes redeliveries idempotent.
deliveries = Table(
    "deliveries",
    metadata,
    Column("delivery_id", String(64), primary_key=True),
    Column("event", String(64), nullable=False),
    Column("action", String(64)),
    Column("repo", String(256)),
    Column("pr_number", Integer),
    Column("head_sha", String(64)),
    Column("installation_id", BigInteger),
    Column("outcome", String(256), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    # The intake's inbox: what the delivery asks for (jobs, cancellations, an installation change),
    # applied after the 2xx by `app.webhooks.applier`; `applied_at` is NULL until then.
    Column("effects", JSON),
    Column("applied_at", UTCDateTime()),
    Index(
        "ix_deliveries_pending",
        "received_at",
        sqlite_where=text("applied_at IS NULL"),
        postgresql_where=text("applied_at IS NULL"),
    ),
)

# The durable queue. A job is claimed with a lease; a crashed worker's lease runs out and the job is
# claimed again, so a webhook that got a 2xx is never lost.
jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # app.jobs.models.JobKind
    Column("pr_key", String(300), nullable=False),  # "owner/name#number": one running job per PR
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # app.jobs.models.JobStatus
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_after", UTCDateTime(), nullable=False),
    Column("locked_until", UTCDateTime()),
    Column("locked_by", String(64)),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
Index("ix_jobs_status_run_after", jobs.c.status, jobs.c.run_after)
Index("ix_jobs_pr_key_status", jobs.c.pr_key, jobs.c.status)

# One review attempt of one PR head: what the dashboard shows.
runs = Table(
    "runs",
    metadata,
    Column("id", String(40), primary_key=True),  # unguessable: the run page is linked from GitHub
    Column("repo", String(256), nullable=False),
    Column("pr_number", Integer, nullable=False),
    Column("head_sha", String(64)),
    Column("base_sha", String(64)),
    Column("trigger", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # app.storage.models.RunStatus
    Column("mode", String(16)),  # app.storage.models.ReviewMode
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("timings", JSON),
    Column("files_total", Integer),
    Column("files_reviewed", Integer),
    Column("lines_total", Integer),
    Column("lines_sent", Integer),
    Column("skipped", JSON),
    Column("failed_chunks", JSON),
    Column("findings", JSON),
    Column("inline_count", Integer),
    Column("prompt_tokens", Integer),
    Column("cached_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("reasoning_tokens", Integer),
    Column("model_calls", Integer),
    Column("cost_usd", Float),
    # Review calls an earlier attempt paid for and this run reused (not part of the spend above).
    Column("reused_calls", Integer),
    Column("reused_tokens", Integer),  # prompt + completion tokens of the reused answers
    Column("reused_cost_usd", Float),
    Column("review_id", BigInteger),
    Column("check_run_id", BigInteger),
    Column("summary", Text),
    Column("error", Text),
)
Index("ix_runs_repo_pr", runs.c.repo, runs.c.pr_number)

# Fingerprints of comments already posted: never the same comment twice on a PR.
posted_findings = Table(
    "posted_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repo", String(256), nullable=False),
    Column("pr_number", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("run_id", String(40), nullable=False),
    Column("path", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("repo", "pr_number", "fingerprint", name="uq_posted_findings"),
)

# The result of each review call that succeeded, kept so a retried attempt of the same review reuses
# it instead of paying again (app.review.reuse). Kept for a few days (app.wiring prunes).
chunk_results = Table(
    "chunk_results",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repo", String(256), nullable=False),
    Column("pr_number", Integer, nullable=False),
    Column("head_sha", String(64), nullable=False),
    Column("job_run_id", String(40), nullable=False),  # the job's planned run id: all its attempts share it
    Column("call_key", String(64), nullable=False),  # hash of the request and of how it was judged
    Column("run_id", String(40), nullable=False),  # the attempt that made (and paid for) the call
    Column("result", JSON, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("model_calls", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("job_run_id", "head_sha", "call_key", name="uq_chunk_results"),
)
Index("ix_chunk_results_created_at", chunk_results.c.created_at)

# Per-PR state that outlives runs.
pull_states = Table(
    "pull_states",
    metadata,
    Column("repo", String(256), primary_key=True),
    Column("pr_number", Integer, primary_key=True),
    Column("last_reviewed_head", String(64)),
    Column("paused", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# GitHub write pacing shared by every process: per installation, when the next content-creating call
# is due on average (the "theoretical arrival time" of a GCRA limiter).
github_write_pace = Table(
    "github_write_pace",
    metadata,
    Column("installation_id", BigInteger, primary_key=True, autoincrement=False),
    Column("tat", UTCDateTime(), nullable=False),  # per-minute schedule at MINI_GITHUB_WRITE_INTERVAL
    Column("hour_tat", UTCDateTime()),  # GitHub's hourly budget (NULL: not used yet)
)

installations = Table(
    "installations",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("account", String(256)),
    Column("repositories", JSON),
    Column("active", Boolean, nullable=False, default=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)


# What writers taught the reviewer of a repository (👎, "false positive", `/mini ignore`).
learnings = Table(
    "learnings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repo", String(256), nullable=False),
    Column("source_key", String(128), nullable=False),  # what recorded it, so it is recorded once
    Column("signature", Text, nullable=False),
    Column("path_pattern", String(512), nullable=False),
    Column("category", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("fingerprint", String(64)),
    Column("person", String(256), nullable=False),
    Column("words", Text, nullable=False),
    Column("source", String(16), nullable=False),  # reaction | reply | ignore
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("repo", "source_key", name="uq_learnings_source"),
)
Index("ix_learnings_repo", learnings.c.repo)

# Every inline finding we posted and what became of it: open | addressed | dismissed | resolved.
finding_states = Table(
    "finding_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repo", String(256), nullable=False),
    Column("pr_number", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("run_id", String(40)),
    Column("path", Text, nullable=False),
    Column("line", Integer),
    Column("category", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("quote", Text, nullable=False),
    Column("commit_sha", String(64)),
    Column("state", String(16), nullable=False),
    Column("state_reason", Text),
    Column("addressed_sha", String(64)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("repo", "pr_number", "fingerprint", name="uq_finding_states"),
)
Index("ix_finding_states_repo_state", finding_states.c.repo, finding_states.c.state)

# Each model-backed answer (thread answer, ask, fix check): claimed once, then its cost recorded.
conversation_calls = Table(
    "conversation_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("repo", String(256), nullable=False),
    Column("pr_number", Integer, nullable=False),
    Column("installation_id", BigInteger),
    Column("kind", String(16), nullable=False),  # thread | ask | fix
    Column("source_id", String(128), nullable=False),  # the comment (or run/file) it answers
    Column("status", String(16), nullable=False),  # claimed | answered | refused | failed
    Column("prompt_tokens", Integer, nullable=False, default=0),
    Column("cached_tokens", Integer, nullable=False, default=0),
    Column("completion_tokens", Integer, nullable=False, default=0),
    Column("model_calls", Integer, nullable=False, default=0),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("repo", "kind", "source_id", name="uq_conversation_calls"),
)
Index("ix_conversation_calls_pr", conversation_calls.c.repo, conversation_calls.c.pr_number)

# Dashboard sign-in sessions. The cookie holds a random id; only its hash is stored, and the user's
# GitHub token only encrypted (app.dashboard.sessions), so a copy of the database signs nobody in.
sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", BigInteger),
    Column("login", String(256)),
    Column("token", Text),  # encrypted user token; NULL while a sign-in is pending
    Column("oauth_state", String(64)),  # hash of a pending sign-in's one-time state
    Column("next_path", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)
Index("ix_sessions_expires_at", sessions.c.expires_at)

# Values the app generates once and every process must share (the session secret when
# MINI_SESSION_SECRET is unset).
app_secrets = Table(
    "app_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Repository-wide switches set from the dashboard by writers.
repo_settings = Table(
    "repo_settings",
    metadata,
    Column("repo", String(256), primary_key=True),
    Column("paused", Boolean, nullable=False, default=False),
    Column("changed_by", String(256)),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# What a run in progress has done so far, for the live run page (and the PR title it reviewed).
run_progress = Table(
    "run_progress",
    metadata,
    Column("run_id", String(40), primary_key=True),
    Column("pr_title", Text),
    Column("installation_id", BigInteger),
    Column("stage", String(32)),
    Column("chunks_done", Integer),
    Column("chunks_total", Integer),
    Column("reviewed_files", JSON),
    Column("updated_at", UTCDateTime(), nullable=False),
)
