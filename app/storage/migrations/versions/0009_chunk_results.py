"""Review call results kept for retries (`chunk_results`), and what a run reused (`runs.reused_*`).

A retried attempt of a review reuses the results of the model calls an earlier attempt made, instead
of paying for them again; the run records what it reused apart from what it spent.

Revision ID: 0009_chunk_results
Revises: 0008_github_write_hour
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_chunk_results"
down_revision = "0008_github_write_hour"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chunk_results",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("repo", sa.String(256), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=False),
        sa.Column("head_sha", sa.String(64), nullable=False),
        sa.Column("job_run_id", sa.String(40), nullable=False),
        sa.Column("call_key", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("model_calls", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("job_run_id", "head_sha", "call_key", name="uq_chunk_results"),
    )
    op.create_index("ix_chunk_results_created_at", "chunk_results", ["created_at"])
    op.add_column("runs", sa.Column("reused_calls", sa.Integer(), nullable=True))
    op.add_column("runs", sa.Column("reused_tokens", sa.Integer(), nullable=True))
    op.add_column("runs", sa.Column("reused_cost_usd", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("reused_cost_usd")
        batch.drop_column("reused_tokens")
        batch.drop_column("reused_calls")
    op.drop_index("ix_chunk_results_created_at", table_name="chunk_results")
    op.drop_table("chunk_results")
