"""The schema of release v1 (which tracked it in `schema_version`), spelled out.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copy of what release v1's `metadata.create_all` emitted: never import from tables.py here.
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.String(64), primary_key=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64)),
        sa.Column("repo", sa.String(256)),
        sa.Column("pr_number", sa.Integer()),
        sa.Column("head_sha", sa.String(64)),
        sa.Column("installation_id", sa.BigInteger()),
        sa.Column("outcome", sa.String(256), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
    )
    _create_jobs()
    _create_runs()
    op.create_table(
        "posted_findings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("repo", sa.String(256), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("path", sa.Text()),
        sa.Column("created_at", UTC, nullable=False),
        sa.UniqueConstraint("repo", "pr_number", "fingerprint", name="uq_posted_findings"),
    )
    op.create_table(
        "pull_states",
        sa.Column("repo", sa.String(256), primary_key=True),
        sa.Column("pr_number", sa.Integer(), primary_key=True),
        sa.Column("last_reviewed_head", sa.String(64)),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_table(
        "installations",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("account", sa.String(256)),
        sa.Column("repositories", sa.JSON()),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )


def _create_jobs() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("pr_key", sa.String(300), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", UTC, nullable=False),
        sa.Column("locked_until", UTC),
        sa.Column("locked_by", sa.String(64)),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_index("ix_jobs_status_run_after", "jobs", ["status", "run_after"])
    op.create_index("ix_jobs_pr_key_status", "jobs", ["pr_key", "status"])


def _create_runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("repo", sa.String(256), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=False),
        sa.Column("head_sha", sa.String(64)),
        sa.Column("base_sha", sa.String(64)),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(16)),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC),
        sa.Column("timings", sa.JSON()),
        sa.Column("files_total", sa.Integer()),
        sa.Column("files_reviewed", sa.Integer()),
        sa.Column("lines_total", sa.Integer()),
        sa.Column("lines_sent", sa.Integer()),
        sa.Column("skipped", sa.JSON()),
        sa.Column("failed_chunks", sa.JSON()),
        sa.Column("findings", sa.JSON()),
        sa.Column("inline_count", sa.Integer()),
        sa.Column("prompt_tokens", sa.Integer()),
        sa.Column("cached_tokens", sa.Integer()),
        sa.Column("completion_tokens", sa.Integer()),
        sa.Column("reasoning_tokens", sa.Integer()),
        sa.Column("model_calls", sa.Integer()),
        sa.Column("cost_usd", sa.Float()),
        sa.Column("review_id", sa.BigInteger()),
        sa.Column("check_run_id", sa.BigInteger()),
        sa.Column("summary", sa.Text()),
        sa.Column("error", sa.Text()),
    )
    op.create_index("ix_runs_repo_pr", "runs", ["repo", "pr_number"])


def downgrade() -> None:
    for table in ("installations", "pull_states", "posted_findings", "runs", "jobs", "deliveries"):
        op.drop_table(table)
